import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { RunsService } from '@weir/ingestion';
import { describeLeaks, findLeaks, registerSensitive, SensitiveValue } from '@weir/platform/testing';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, tempDataDir, until } from './support/files';

/**
 * PII by role, over HTTP on PostgreSQL: columns flagged `pii` are shown in clear to admin keys and
 * masked for editor and viewer keys in previews, dead letters (JSON and CSV: the raw record, a
 * duplicate key's value, an unparseable record's text and the excerpt its message quotes) and
 * Parquet exports (`***` in text columns, NULL in others, the Parquet types kept; no partitioning
 * by a PII column); quality evidence is masked when recorded, for every key (samples, the min or
 * max of a PII column, its distinct values, a data error quoting a value). Every PII value the data
 * holds is declared to the test run's log sink: none may reach a log line (checked here and by the
 * run's teardown). A pipeline's export step masks too, unless it says `pii: clear`, which only an
 * admin key may define (over REST or in a project's pipelines/*.yml; an editor gets 403).
 */
const tag = randomBytes(4).toString('hex');
const pii = {
  ada: `ada.${tag}@pii.example`,
  bob: `bob.${tag}@pii.example`,
  eve: `eve.${tag}@pii.example`,
  lost: `lost.${tag}@pii.example`,
  dup: `dup.${tag}@pii.example`,
  garbled: `garbled.${tag}@pii.example`,
  phone: `+33-6-${tag}-99`,
};

const people = {
  name: 'people',
  contract: {
    columns: [
      { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
      { name: 'status', type: 'text', nullable: false, allowed: ['new', 'active'] },
      { name: 'email', type: 'text', nullable: true, pii: true },
      { name: 'phone', type: 'varchar(40)', nullable: true, pii: true },
      { name: 'born', type: 'date', nullable: true, pii: true },
      { name: 'score', type: 'integer', nullable: true, pii: true },
      { name: 'city', type: 'text', nullable: true },
    ],
  },
};
const PEOPLE_CSV = [
  'id,status,email,phone,born,score,city',
  `1,new,${pii.ada},${pii.phone},1990-01-02,7,Paris`,
  `2,active,${pii.bob},,1985-06-30,42,Lyon`,
  `3,new,${pii.eve},,,,Nice`,
  `4,lost,${pii.lost},,1970-01-01,1,Brest`, // NOT_ALLOWED: status
].join('\n');

/** Keyed by a PII column: an append of a key already there is a DUPLICATE_KEY whose value is the key. */
const contacts = {
  name: 'contacts',
  contract: {
    columns: [
      { name: 'email', type: 'text', nullable: false, primaryKey: true, pii: true },
      { name: 'name', type: 'text', nullable: true },
    ],
  },
};

describe('PII masking by role e2e', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let close: () => Promise<void>;
  let exportRoot: string;
  const keys: Record<'admin' | 'editor' | 'viewer', Record<string, string>> = { admin, editor: {}, viewer: {} };
  const mine: SensitiveValue[] = Object.entries(pii).map(([k, value]) => ({ label: `pii:${k}`, kind: 'pii', value }));
  let peopleRun: string;
  let contactsRun: string;

  const upload = async (source: string, body: string) => {
    const r = await t.http
      .post(`/api/ingestion/sources/${source}/uploads`)
      .set(admin)
      .set('Content-Type', 'application/octet-stream')
      .send(Buffer.from(body))
      .expect(202);
    return t.app.get(RunsService).waitFor(r.body.id, 60_000);
  };

  beforeAll(async () => {
    exportRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-pii-export-'));
    ({ t, files, close } = await startIngestionApp({ WEIR_EXPORT_ROOT: exportRoot }));
    registerSensitive('pii', Object.fromEntries(mine.map((v) => [v.label, v.value])));
    for (const role of ['editor', 'viewer'] as const) {
      const k = await t.http
        .post('/api/platform/api-keys')
        .set(admin)
        .send({ name: `pii-${role}`, role })
        .expect(201);
      keys[role] = { Authorization: `Bearer ${k.body.key}` };
    }
    await t.http.post('/api/catalog/datasets').set(admin).send(people).expect(201);
    await t.http.post('/api/catalog/datasets').set(admin).send(contacts).expect(201);
    await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({
        name: 'people_csv',
        dataset: 'people',
        format: 'csv',
        strategy: { kind: 'replace' },
        maxRejectedRatio: 1,
      })
      .expect(201);
    await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({
        name: 'contacts_json',
        dataset: 'contacts',
        format: 'ndjson',
        strategy: { kind: 'append' },
        maxRejectedRatio: 1,
      })
      .expect(201);
    const p = await upload('people_csv', PEOPLE_CSV);
    expect(p).toMatchObject({ status: 'succeeded', rowsLoaded: 3, rowsRejected: 1 });
    peopleRun = p.id;
    const first = await upload('contacts_json', JSON.stringify({ email: pii.dup, name: 'Dup' }) + '\n');
    expect(first).toMatchObject({ status: 'succeeded', rowsLoaded: 1 });
    // the same key again (DUPLICATE_KEY), and a line that is no JSON: V8's message quotes it
    const second = await upload(
      'contacts_json',
      [JSON.stringify({ email: pii.dup, name: 'Again' }), pii.garbled, JSON.stringify({ email: pii.ada })].join('\n'),
    );
    expect(second).toMatchObject({ status: 'succeeded', rowsLoaded: 1, rowsRejected: 2 });
    contactsRun = second.id;
  });
  afterAll(async () => {
    await close?.();
    fs.rmSync(exportRoot, { recursive: true, force: true });
  });

  it('previews: admin in clear; editor and viewer get every PII column masked, the others in clear', async () => {
    const asAdmin = (await t.http.get('/api/catalog/datasets/people/preview').set(admin).expect(200)).body;
    expect(asAdmin.masked).toEqual([]);
    expect(asAdmin.rows.find((r: { id: number }) => Number(r.id) === 1)).toMatchObject({
      email: pii.ada,
      phone: pii.phone,
      score: 7,
      city: 'Paris',
    });
    for (const role of ['editor', 'viewer'] as const) {
      const body = (await t.http.get('/api/catalog/datasets/people/preview').set(keys[role]).expect(200)).body;
      expect([role, body.masked.sort()]).toEqual([role, ['born', 'email', 'phone', 'score']]);
      const ada = body.rows.find((r: { id: number }) => Number(r.id) === 1);
      expect(ada).toMatchObject({ email: '***', phone: '***', born: '***', score: '***', city: 'Paris' });
      // NULL stays NULL (it tells nothing)
      expect(body.rows.find((r: { id: number }) => Number(r.id) === 3)).toMatchObject({ phone: null, score: null });
      for (const v of Object.values(pii)) expect(JSON.stringify(body)).not.toContain(v);
    }
  });

  it('dead letters (JSON and CSV): admin in clear; editor and viewer masked, a PII key and unparseable text too', async () => {
    const page = (run: string, auth: Record<string, string>) =>
      t.http.get(`/api/ingestion/runs/${run}/dead-letters`).set(auth).expect(200);
    const byReason = (body: { items: { reason: string }[] }) =>
      Object.fromEntries(body.items.map((d) => [d.reason, d])) as Record<string, Record<string, any>>;

    const a = byReason((await page(peopleRun, admin)).body);
    expect(a.NOT_ALLOWED.rawRecord).toMatchObject({ id: '4', status: 'lost', email: pii.lost, city: 'Brest' });
    const c = byReason((await page(contactsRun, admin)).body);
    expect(c.DUPLICATE_KEY).toMatchObject({ column: 'email', value: pii.dup });
    expect(c.UNPARSEABLE.rawText).toBe(pii.garbled);
    expect(c.UNPARSEABLE.message).toContain(pii.garbled.slice(0, 8)); // V8 quotes the text it could not parse

    for (const role of ['editor', 'viewer'] as const) {
      const people = (await page(peopleRun, keys[role])).body;
      expect(byReason(people).NOT_ALLOWED.rawRecord).toMatchObject({
        id: '4',
        status: 'lost',
        email: '***',
        born: '***',
        score: '***',
        city: 'Brest',
      });
      const cs = byReason((await page(contactsRun, keys[role])).body);
      expect(cs.DUPLICATE_KEY).toMatchObject({ column: 'email', value: '***' });
      expect(cs.DUPLICATE_KEY.rawRecord).toMatchObject({ email: '***', name: 'Again' });
      expect(cs.UNPARSEABLE).toMatchObject({ rawText: '***', reason: 'UNPARSEABLE' });
      expect(cs.UNPARSEABLE.message).toMatch(/\*\*\*/);
      for (const run of [peopleRun, contactsRun]) {
        const csv = (await t.http.get(`/api/ingestion/runs/${run}/dead-letters.csv`).set(keys[role]).expect(200)).text;
        expect(csv).toContain('***');
        for (const v of Object.values(pii)) expect([role, run, csv.includes(v)]).toEqual([role, run, false]);
      }
      const text = JSON.stringify([people, cs]);
      for (const v of Object.values(pii)) expect([role, text.includes(v)]).toEqual([role, false]);
    }
    const adminCsv = (await t.http.get(`/api/ingestion/runs/${contactsRun}/dead-letters.csv`).set(admin).expect(200))
      .text;
    expect(adminCsv).toContain(pii.dup);
  });

  it('quality evidence is masked when recorded, for every key: samples, min and max, distinct values, data errors', async () => {
    const suite = await t.http
      .post('/api/quality/suites')
      .set(admin)
      .send({
        name: 'people_pii',
        dataset: 'people',
        expectations: [
          { type: 'expect_column_values_to_match_regex', kwargs: { column: 'email', regex: '^ada' } },
          { type: 'expect_column_values_to_be_in_set', kwargs: { column: 'city', value_set: ['Paris'] } },
          { type: 'expect_column_max_to_be_between', kwargs: { column: 'email', max_value: 'a' } },
          { type: 'expect_column_min_to_be_between', kwargs: { column: 'score', min_value: 10 } },
          {
            type: 'expect_column_distinct_values_to_be_in_set',
            kwargs: { column: 'email', value_set: ['nobody@nowhere'] },
          },
          // the mean of a text column casts it: the cast fails quoting a value; a warning, so the scan goes on without it
          { type: 'expect_column_mean_to_be_between', kwargs: { column: 'email', min_value: 0 }, severity: 'warn' },
        ],
      })
      .expect(201);
    const run = (await t.http.post(`/api/quality/suites/${suite.body.id}/runs`).set(keys.editor).send({}).expect(201))
      .body;
    const [regex, city, maxEmail, minScore, distinct, mean] = run.results;
    expect(regex).toMatchObject({ success: false, unexpectedCount: 2, sampleUnexpected: ['***', '***'] });
    // a column that is not PII: its sample in clear
    expect(city).toMatchObject({ success: false, sampleUnexpected: ['Lyon', 'Nice'] });
    expect(maxEmail).toMatchObject({ success: false, observedValue: '***' });
    expect(minScore).toMatchObject({ success: false, observedValue: '***' });
    expect(distinct).toMatchObject({ success: false, observedValue: ['***', '***', '***'] });
    expect(mean.exception).toMatch(/not evaluated: the scan failed \(invalid input syntax .*"\*\*\*"/);
    // the profile (metric history, for anomalies) keeps no min, max or mean of a PII column
    const metrics = (
      await t.http.get('/api/quality/datasets/people/metrics?limit=500').set(admin).expect(200)
    ).body.items.map((m: { metric: string }) => m.metric);
    expect(metrics).toEqual(expect.arrayContaining(['null_ratio(score)', 'mean(id)', 'max(id)']));
    expect(metrics.filter((m: string) => /^(min|max|mean)\((score|born|email|phone)\)$/.test(m))).toEqual([]);
    for (const auth of [admin, keys.viewer]) {
      const seen = (await t.http.get(`/api/quality/runs/${run.id}`).set(auth).expect(200)).body;
      expect(seen.results[2].observedValue).toBe('***');
      for (const v of Object.values(pii)) expect(JSON.stringify(seen)).not.toContain(v);
    }
  });

  it('Parquet exports: admin in clear; an editor gets *** in text PII columns and NULL in others, types kept', async () => {
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    const read = async (dir: string) =>
      (
        await duck.runAndReadAll(
          `SELECT id::INT AS id, email, phone, born::VARCHAR AS born, score, city FROM read_parquet('${path.join(exportRoot, dir, '*.parquet')}') ORDER BY id`,
        )
      ).getRowObjectsJS();
    const types = async (dir: string) =>
      Object.fromEntries(
        (
          await duck.runAndReadAll(
            `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${path.join(exportRoot, dir, '*.parquet')}'))`,
          )
        )
          .getRowObjectsJS()
          .map((r) => [r['column_name'], r['column_type']]),
      );

    const clear = (
      await t.http.post('/api/catalog/datasets/people/exports').set(admin).send({ target: 'clear' }).expect(201)
    ).body;
    expect(clear.masked).toEqual([]);
    expect((await read('clear'))[0]).toMatchObject({
      id: 1,
      email: pii.ada,
      phone: pii.phone,
      born: '1990-01-02',
      score: 7,
    });

    const masked = (
      await t.http.post('/api/catalog/datasets/people/exports').set(keys.editor).send({ target: 'masked' }).expect(201)
    ).body;
    expect(masked.masked.sort()).toEqual(['born', 'email', 'phone', 'score']);
    expect(await read('masked')).toEqual([
      { id: 1, email: '***', phone: '***', born: null, score: null, city: 'Paris' },
      { id: 2, email: '***', phone: null, born: null, score: null, city: 'Lyon' },
      { id: 3, email: '***', phone: null, born: null, score: null, city: 'Nice' },
    ]);
    // the same Parquet types as in clear
    expect(await types('masked')).toEqual(await types('clear'));
    const manifest = JSON.parse(fs.readFileSync(path.join(exportRoot, 'masked', '_manifest.json'), 'utf8'));
    expect(
      manifest.columns
        .filter((c: { masked?: boolean }) => c.masked)
        .map((c: { name: string }) => c.name)
        .sort(),
    ).toEqual(['born', 'email', 'phone', 'score']);
    expect(manifest.files[0].masked.sort()).toEqual(['born', 'email', 'phone', 'score']);
    const kv = (
      await duck.runAndReadAll(
        `SELECT decode(value) AS v FROM parquet_kv_metadata('${path.join(exportRoot, 'masked', '*.parquet')}') WHERE decode(key) = 'weir.masked'`,
      )
    ).getRowObjectsJS();
    expect(String(kv[0]['v']).split(',').sort()).toEqual(['born', 'email', 'phone', 'score']);
    const bytes = fs
      .readdirSync(path.join(exportRoot, 'masked'))
      .map((f) => fs.readFileSync(path.join(exportRoot, 'masked', f)).toString('latin1'))
      .join('');
    for (const v of Object.values(pii)) expect(bytes).not.toContain(v);

    // partitioned by a PII column, its values would be the folder names: refused unless in clear
    const refused = await t.http
      .post('/api/catalog/datasets/people/exports')
      .set(keys.editor)
      .send({ target: 'by_email', partitionBy: ['email'] })
      .expect(400);
    expect(refused.body).toMatchObject({ code: 'CATALOG.INVALID_EXPORT' });
    expect(refused.body.errors[0]).toMatch(/partitionBy\[0\]: email is a PII column/);
    expect(fs.existsSync(path.join(exportRoot, 'by_email'))).toBe(false);
    await t.http
      .post('/api/catalog/datasets/people/exports')
      .set(admin)
      .send({ target: 'by_email', partitionBy: ['email'] })
      .expect(201);
    // a viewer exports nothing (an export writes)
    await t.http.post('/api/catalog/datasets/people/exports').set(keys.viewer).send({ target: 'v' }).expect(403);

    // a pipeline runs as no key: its export step masks, even when an admin made and started it
    await t.http
      .post('/api/orchestration/pipelines')
      .set(admin)
      .send({ name: 'people_lake', steps: [{ id: 'e', kind: 'export', dataset: 'people', target: 'from_pipeline' }] })
      .expect(201);
    const started = await t.http.post('/api/orchestration/pipelines/people_lake/runs').set(admin).send({}).expect(201);
    let status = '';
    for (let i = 0; i < 600 && !['succeeded', 'failed', 'cancelled'].includes(status); i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await t.http.get(`/api/orchestration/runs/${started.body.id}`).set(admin).expect(200)).body.status;
    }
    expect(status).toBe('succeeded');
    expect(await read('from_pipeline')).toEqual(await read('masked'));
    duck.closeSync();
  });

  it('a pipeline export step: masked by default; `pii: clear` in clear, defined by an admin key only (an editor gets 403 by REST or a project, nothing stored)', async () => {
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    const read = async (dir: string) =>
      (
        await duck.runAndReadAll(
          `SELECT id::INT AS id, email, phone, born::VARCHAR AS born, score, city FROM read_parquet('${path.join(exportRoot, dir, '*.parquet')}') ORDER BY id`,
        )
      ).getRowObjectsJS();
    const exportStep = (target: string, extra: Record<string, unknown> = {}) => ({
      id: 'e',
      kind: 'export',
      dataset: 'people',
      target,
      ...extra,
    });
    /** Runs the pipeline (started with `auth`) to its end; the export step's output. */
    const run = async (pipeline: string, auth: Record<string, string>) => {
      const id = (await t.http.post(`/api/orchestration/pipelines/${pipeline}/runs`).set(auth).send({}).expect(201))
        .body.id;
      const ended = await until(`run of ${pipeline} ended`, async () => {
        const r = (await t.http.get(`/api/orchestration/runs/${id}`).set(admin).expect(200)).body;
        return ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : undefined;
      });
      expect([pipeline, ended.status]).toEqual([pipeline, 'succeeded']);
      return ended.steps[0].output as { pii: string; masked: string[]; rows: number; manifest: string };
    };
    const masked = ['born', 'email', 'phone', 'score'];

    // an editor defines a default export step: it masks, and says so
    await t.http
      .post('/api/orchestration/pipelines')
      .set(keys.editor)
      .send({ name: 'lake_default', steps: [exportStep('pipe_default')] })
      .expect(201);
    const byDefault = await run('lake_default', keys.editor);
    expect([byDefault.pii, byDefault.masked.sort()]).toEqual(['masked', masked]);
    expect((await read('pipe_default'))[0]).toMatchObject({ id: 1, email: '***', born: null, score: null });

    // an editor may not ask for PII in clear: not by POST, not by PUT, not through a project
    const clearDef = { name: 'lake_clear', steps: [exportStep('pipe_clear', { pii: 'clear' })] };
    const refused = await t.http.post('/api/orchestration/pipelines').set(keys.editor).send(clearDef).expect(403);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.body).toMatchObject({ status: 403, code: 'PLATFORM.FORBIDDEN', steps: ['e'] });
    expect(refused.body.detail).toMatch(/step "e" \(steps\[0\]\) asks for PII in clear \(pii: clear\)/);
    expect((await t.http.get('/api/orchestration/pipelines/lake_clear').set(admin)).status).toBe(404);
    const put = await t.http
      .put('/api/orchestration/pipelines/lake_default')
      .set(keys.editor)
      .send({ name: 'lake_default', steps: [exportStep('pipe_default', { pii: 'clear' })] })
      .expect(403);
    expect(put.body.code).toBe('PLATFORM.FORBIDDEN');
    const versions = (await t.http.get('/api/orchestration/pipelines/lake_default/versions').set(admin).expect(200))
      .body.items;
    expect(versions).toHaveLength(1);

    const project = path.join(files.dir, 'projects', 'pii_lake');
    fs.mkdirSync(path.join(project, 'models'), { recursive: true });
    fs.mkdirSync(path.join(project, 'pipelines'), { recursive: true });
    fs.writeFileSync(path.join(project, 'dbt_project.yml'), 'name: pii_lake\n');
    fs.writeFileSync(path.join(project, 'models', 'one.sql'), 'select 1 as one\n');
    fs.writeFileSync(
      path.join(project, 'pipelines', 'lake.yml'),
      'name: lake_project\nsteps:\n  - id: out\n    kind: export\n    dataset: people\n    target: pipe_project\n    pii: clear\n',
    );
    const fromProject = await t.http
      .post('/api/modeling/projects')
      .set(keys.editor)
      .send({ path: 'pii_lake' })
      .expect(403);
    expect(fromProject.body).toMatchObject({ code: 'PLATFORM.FORBIDDEN', steps: ['out'] });
    expect(fromProject.body.detail).toMatch(/^pipelines\/lake\.yml: Pipeline lake_project: step "out"/);
    expect((await t.http.get('/api/modeling/projects/pii_lake').set(admin)).status).toBe(404);
    expect((await t.http.get('/api/orchestration/pipelines/lake_project').set(admin)).status).toBe(404);
    await t.http.post('/api/modeling/projects').set(admin).send({ path: 'pii_lake' }).expect(201);
    const kept = (await t.http.get('/api/orchestration/pipelines/lake_project').set(admin).expect(200)).body;
    expect(kept.spec.steps[0]).toMatchObject({ id: 'out', pii: 'clear' });

    // an admin key defines it; anyone who may run the pipeline runs it as defined: PII in clear
    const made = (await t.http.post('/api/orchestration/pipelines').set(admin).send(clearDef).expect(201)).body;
    expect(made.spec.steps[0]).toMatchObject({ kind: 'export', pii: 'clear' });
    const inClear = await run('lake_clear', keys.editor);
    expect([inClear.pii, inClear.masked, inClear.rows]).toEqual(['clear', [], 3]);
    expect(await read('pipe_clear')).toEqual([
      { id: 1, email: pii.ada, phone: pii.phone, born: '1990-01-02', score: 7, city: 'Paris' },
      { id: 2, email: pii.bob, phone: null, born: '1985-06-30', score: 42, city: 'Lyon' },
      { id: 3, email: pii.eve, phone: null, born: null, score: null, city: 'Nice' },
    ]);
    const manifest = JSON.parse(fs.readFileSync(path.join(exportRoot, 'pipe_clear', '_manifest.json'), 'utf8'));
    expect(manifest.columns.filter((c: { masked?: boolean }) => c.masked)).toEqual([]);
    // the editor may still change it back to masked (the default), never keep it in clear
    await t.http
      .put('/api/orchestration/pipelines/lake_clear')
      .set(keys.editor)
      .send({ ...clearDef, description: 'still clear' })
      .expect(403);
    await t.http
      .put('/api/orchestration/pipelines/lake_clear')
      .set(keys.editor)
      .send({ name: 'lake_clear', steps: [exportStep('pipe_clear')] })
      .expect(200);
    expect((await run('lake_clear', keys.editor)).masked.sort()).toEqual(masked);
    expect((await read('pipe_clear'))[0]).toMatchObject({ id: 1, email: '***', score: null });

    // the audit log has both: the editor's refusal and the admin's definition with its body
    const audited = await until('audit rows of the pipeline definitions', async () => {
      const items = (
        await t.http.get('/api/platform/audit?route=/api/orchestration/pipelines&limit=500').set(admin).expect(200)
      ).body.items as { method: string; outcome: string; errorCode: string | null; diff: any; actorName: string }[];
      const posts = items.filter((i) => i.method === 'POST' && i.diff?.name === 'lake_clear');
      return posts.length >= 2 ? posts : undefined;
    });
    expect(audited.map((a) => [a.actorName, a.outcome, a.errorCode, a.diff.steps[0].pii]).reverse()).toEqual([
      ['pii-editor', 'refused', 'PLATFORM.FORBIDDEN', 'clear'],
      ['WEIR_ADMIN_API_KEY', 'ok', null, 'clear'],
    ]);
    duck.closeSync();
  });

  it('no PII value reached a log line', async () => {
    const leaks = findLeaks(mine);
    if (leaks.length) throw new Error(describeLeaks(leaks));
  });
});
