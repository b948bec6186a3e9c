import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { Client } from 'pg';
import { ModelingService } from '@weir/modeling';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, tempDataDir } from './support/files';

type Entry = { name: string; body?: string; type?: 'file' | 'directory' | 'symlink'; linkname?: string };

/** A real tar archive, built with tar-stream's packer. */
async function tarball(entries: Entry[], gzip = true): Promise<Buffer> {
  const p = pack();
  for (const e of entries) {
    if (e.type === 'directory') p.entry({ name: e.name, type: 'directory' });
    else if (e.type === 'symlink') p.entry({ name: e.name, type: 'symlink', linkname: e.linkname });
    else p.entry({ name: e.name }, e.body ?? '');
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  const tar = Buffer.concat(chunks);
  return gzip ? gzipSync(tar) : tar;
}

const project = (v: string): Entry[] => [
  { name: 'arch/', type: 'directory' },
  { name: 'arch/dbt_project.yml', body: 'name: arch\n' },
  { name: 'arch/seeds/people.csv', body: 'id,name\n1,ada\n2,grace\n' },
  {
    name: 'arch/models/people_v.sql',
    body: `{{ config(materialized='table') }}\nselect id, name, '${v}' as rev from {{ ref('people') }}`,
  },
  {
    name: 'arch/models/schema.yml',
    body: 'version: 2\nmodels:\n  - name: people_v\n    columns:\n      - name: id\n        tests: [unique, not_null]\n',
  },
];

describe('modeling e2e: project archive upload', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ t, files, pg, close } = await startIngestionApp());
  });
  afterAll(() => close?.());

  it('registers a .tar.gz (raw body) and builds it; a re-upload refreshes the same project', async () => {
    const r = await t.http
      .post('/api/modeling/projects?modelSchema=arch_mart')
      .set(admin)
      .set('content-type', 'application/gzip')
      .send(await tarball(project('one')))
      .expect(201);
    expect(r.body).toMatchObject({ name: 'arch', modelSchema: 'arch_mart', order: ['seed.people', 'model.people_v'] });
    expect(r.body.rootPath).toBe(path.join(files.dir, 'projects', '.uploads', 'arch'));
    const b = await t.http.post('/api/modeling/builds').set(admin).send({ project: 'arch' }).expect(202);
    expect((await t.app.get(ModelingService).waitForBuild(b.body.id, 60_000)).status).toBe('succeeded');
    expect((await pg.query(`SELECT id, name, rev FROM arch_mart.people_v ORDER BY id`)).rows).toEqual([
      { id: 1, name: 'ada', rev: 'one' },
      { id: 2, name: 'grace', rev: 'one' },
    ]);

    // multipart, plain tar, files at the root: same project, new content
    const flat = project('two')
      .filter((e) => e.type !== 'directory')
      .map((e) => ({ ...e, name: e.name.replace(/^arch\//, '') }));
    const r2 = await t.http
      .post('/api/modeling/projects')
      .set(admin)
      .attach('file', await tarball(flat, false), 'arch.tar')
      .expect(201);
    expect(r2.body).toMatchObject({ id: r.body.id, modelSchema: 'arch_mart' }); // kept: no modelSchema given
    const c = await t.http.get('/api/modeling/models/people_v/compiled?project=arch').set(admin).expect(200);
    expect(c.body.sql).toContain("'two' as rev");
    expect(fs.readdirSync(path.join(files.dir, 'projects', '.uploads'))).toEqual(['arch']);
  });

  it('a project the CLI imported from a folder is updated by an upload of the same name (and back): one project, its builds kept', async () => {
    // the CLI's import: a trusted folder outside WEIR_PROJECTS_ROOT
    const dir = path.join(files.dir, 'cli-checkout', 'moving');
    fs.mkdirSync(path.join(dir, 'models'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'dbt_project.yml'), 'name: moving\n');
    fs.writeFileSync(path.join(dir, 'models', 'm.sql'), "{{ config(materialized='table') }}\nselect 'folder' as src");
    const modeling = t.app.get(ModelingService);
    const imported = await modeling.register(dir, { modelSchema: 'moving_mart', trusted: true });
    const b1 = await t.http.post('/api/modeling/builds').set(admin).send({ project: 'moving' }).expect(202);
    expect((await modeling.waitForBuild(b1.body.id, 60_000)).status).toBe('succeeded');
    expect((await pg.query(`SELECT src FROM moving_mart.m`)).rows).toEqual([{ src: 'folder' }]);

    // the same project uploaded over HTTP: not a conflict, the same project read from the upload
    const up = await t.http
      .post('/api/modeling/projects')
      .set(admin)
      .set('content-type', 'application/gzip')
      .send(
        await tarball([
          { name: 'moving/dbt_project.yml', body: 'name: moving\n' },
          { name: 'moving/models/m.sql', body: "{{ config(materialized='table') }}\nselect 'upload' as src" },
        ]),
      )
      .expect(201);
    expect(up.body).toMatchObject({
      id: imported.id,
      name: 'moving',
      modelSchema: 'moving_mart',
      rootPath: path.join(files.dir, 'projects', '.uploads', 'moving'),
    });
    const listed = (await t.http.get('/api/modeling/projects').set(admin).expect(200)).body.items;
    expect(listed.filter((p: { name: string }) => p.name === 'moving')).toEqual([
      { id: imported.id, name: 'moving', rootPath: up.body.rootPath },
    ]);
    const b2 = await t.http.post('/api/modeling/builds').set(admin).send({ project: 'moving' }).expect(202);
    expect((await modeling.waitForBuild(b2.body.id, 60_000)).status).toBe('succeeded');
    expect((await pg.query(`SELECT src FROM moving_mart.m`)).rows).toEqual([{ src: 'upload' }]);
    // the builds before the upload are still the project's
    const builds = (await t.http.get('/api/modeling/builds?project=moving').set(admin).expect(200)).body.items;
    expect(builds.map((b: { id: string; project: string }) => [b.id, b.project])).toEqual([
      [b2.body.id, 'moving'],
      [b1.body.id, 'moving'],
    ]);
    // the project's models: a list of its own
    const models = (await t.http.get('/api/modeling/projects/moving/models').set(admin).expect(200)).body.items;
    expect(models).toEqual([
      expect.objectContaining({ id: 'model.m', kind: 'model', name: 'm', materialized: 'table', dependsOn: [] }),
    ]);
    expect(models[0].relation).toMatch(/moving_mart.*\bm\b/);
    const none = await t.http.get('/api/modeling/projects/nope/models').set(admin).expect(404);
    expect(none.body.code).toBe('MODELING.PROJECT_NOT_FOUND');

    // and the CLI's import again makes the folder its source again
    const back = await modeling.register(dir, { trusted: true });
    expect([back.id, back.rootPath, back.modelSchema]).toEqual([imported.id, dir, 'moving_mart']);
    // the upload's copy, no longer read, is gone
    expect(fs.existsSync(up.body.rootPath)).toBe(false);
  });

  it('refuses unsafe or broken archives with a stable code and keeps the registered version', async () => {
    const send = async (body: Buffer, status = 400) =>
      (
        await t.http
          .post('/api/modeling/projects')
          .set(admin)
          .set('content-type', 'application/octet-stream')
          .send(body)
          .expect(status)
      ).body;
    expect(
      await send(
        await tarball([
          { name: 'dbt_project.yml', body: 'name: evil\n' },
          { name: '../escape.sql', body: 'select 1' },
        ]),
      ),
    ).toMatchObject({ code: 'MODELING.BAD_ARCHIVE', detail: expect.stringContaining('Unsafe path') });
    expect(
      await send(
        await tarball([
          { name: 'dbt_project.yml', body: 'name: evil\n' },
          { name: 'models/x.sql', type: 'symlink', linkname: '/etc/passwd' },
        ]),
      ),
    ).toMatchObject({ code: 'MODELING.BAD_ARCHIVE', detail: expect.stringContaining('symlink') });
    expect(await send(Buffer.from('id,name\n1,a\n'))).toMatchObject({
      code: 'MODELING.BAD_ARCHIVE',
      detail: expect.stringContaining('not a tar'),
    });
    expect(await send(Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]))).toMatchObject({
      code: 'MODELING.BAD_ARCHIVE',
      detail: expect.stringContaining('gzip'),
    });
    expect(await send(await tarball([{ name: 'models/x.sql', body: 'select 1' }]))).toMatchObject({
      code: 'MODELING.BAD_ARCHIVE',
      detail: expect.stringContaining('dbt_project.yml'),
    });
    expect(await send(Buffer.alloc(0))).toMatchObject({ code: 'MODELING.BAD_ARCHIVE' });
    // a project that does not compile: refused, the uploaded one stays as it was
    const broken = project('three').map((e) =>
      e.name.endsWith('people_v.sql') ? { ...e, body: "select * from {{ ref('nope') }}" } : e,
    );
    expect(await send(await tarball(broken))).toMatchObject({ code: 'MODELING.COMPILE_FAILED' });
    const c = await t.http.get('/api/modeling/models/people_v/compiled?project=arch').set(admin).expect(200);
    expect(c.body.sql).toContain("'two' as rev");
    expect(fs.existsSync(path.join(files.dir, 'escape.sql'))).toBe(false);
    expect(fs.readdirSync(path.join(files.dir, 'projects', '.uploads'))).toEqual(['arch']);
    // an oversized body gets its 413, not a reset connection (the limit is read at start)
    const small = await startIngestionApp({ WEIR_PROJECT_ARCHIVE_MAX_BYTES: '1000' });
    try {
      const r = await small.t.http
        .post('/api/modeling/projects')
        .set(admin)
        .set('content-type', 'application/octet-stream')
        .send(Buffer.alloc(100_000, 1))
        .expect(413);
      expect(r.body).toMatchObject({ code: 'MODELING.ARCHIVE_TOO_LARGE' });
    } finally {
      await small.close();
    }
    // JSON registration still validates its body
    expect(
      (await t.http.post('/api/modeling/projects').set(admin).send({ path: 'x', bogus: 1 }).expect(400)).body.code,
    ).toBe('PLATFORM.VALIDATION_FAILED');
  });
});
