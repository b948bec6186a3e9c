import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { ModelingService } from '@weir/modeling';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, tempDataDir, until } from './support/files';

describe('modeling e2e: incremental materializations', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let close: () => Promise<void>;
  const dir = () => path.join(files.dir, 'projects', 'inc');
  const write = (f: string, s: string) => {
    fs.mkdirSync(path.dirname(path.join(dir(), f)), { recursive: true });
    fs.writeFileSync(path.join(dir(), f), s);
  };
  const build = async (select?: string, fullRefresh = false) => {
    await t.http.post('/api/modeling/projects').set(admin).send({ path: 'inc' }).expect(201);
    const b = await t.http
      .post('/api/modeling/builds')
      .set(admin)
      .send({ project: 'inc', select, fullRefresh })
      .expect(202);
    return t.app.get(ModelingService).waitForBuild(b.body.id, 60_000);
  };
  const rows = async (rel: string) => (await pg.query(`SELECT * FROM ${rel} ORDER BY id`)).rows;

  beforeAll(async () => {
    ({ t, files, pg, close } = await startIngestionApp());
    await pg.query(
      `CREATE SCHEMA IF NOT EXISTS raw; CREATE TABLE raw.events (id int PRIMARY KEY, v text, updated_at int)`,
    );
    await pg.query(`INSERT INTO raw.events VALUES (1, 'a', 1), (2, 'b', 1)`);
    write('dbt_project.yml', 'name: inc\n');
    const where =
      '{% if is_incremental() %} where updated_at > (select coalesce(max(updated_at), 0) from {{ this }}) {% endif %}';
    write(
      'models/ev_merge.sql',
      `{{ config(materialized='incremental', unique_key='id') }}\nselect id, v, updated_at from raw.events ${where}`,
    );
    write(
      'models/ev_append.sql',
      `{{ config(materialized='incremental') }}\nselect id, v, updated_at from raw.events ${where}`,
    );
    write(
      'models/ev_di.sql',
      `{{ config(materialized='incremental', unique_key='id', incremental_strategy='delete+insert') }}\nselect id, v, updated_at from raw.events ${where}`,
    );
  });
  afterAll(() => close?.());

  it('first build is a full build; later builds apply only new rows by strategy', async () => {
    const b1 = await build();
    expect(b1.status).toBe('succeeded');
    expect(b1.steps.map((s) => s.rowsAffected)).toEqual([2, 2, 2]);
    await pg.query(
      `UPDATE raw.events SET v = 'b2', updated_at = 2 WHERE id = 2; INSERT INTO raw.events VALUES (3, 'c', 2)`,
    );
    const b2 = await build();
    expect(b2.status).toBe('succeeded');
    expect(b2.steps.map((s) => [s.node, s.rowsAffected, s.refs?.['strategy']])).toEqual([
      ['model.ev_append', 2, 'append'],
      ['model.ev_di', 2, 'delete+insert'],
      ['model.ev_merge', 2, 'merge'],
    ]);
    const merged = [
      { id: 1, v: 'a', updated_at: 1 },
      { id: 2, v: 'b2', updated_at: 2 },
      { id: 3, v: 'c', updated_at: 2 },
    ];
    expect(await rows('analytics.ev_merge')).toEqual(merged);
    expect(await rows('analytics.ev_di')).toEqual(merged);
    expect((await rows('analytics.ev_append')).map((r) => r.id)).toEqual([1, 2, 2, 3]);
    // unchanged source: nothing new
    const b3 = await build('ev_merge');
    expect(b3.steps[0].rowsAffected).toBe(0);
    // full refresh rebuilds from scratch
    const b4 = await build('ev_append', true);
    expect(b4.steps[0].rowsAffected).toBe(3);
    expect((await rows('analytics.ev_append')).map((r) => r.id)).toEqual([1, 2, 3]);
  });

  it('merge: staged keys beyond the target are inserted without per-row probes; overlapping ranges, text keys and duplicates still MERGE', async () => {
    await pg.query(`CREATE TABLE raw.keyed (id bigint, k text, v text, batch int)`);
    await pg.query(`INSERT INTO raw.keyed VALUES (10, 'k10', 'a', 1), (20, 'k20', 'a', 1)`);
    const where = '{% if is_incremental() %} where batch > (select max(batch) from {{ this }}) {% endif %}';
    write(
      'models/by_id.sql',
      `{{ config(materialized='incremental', unique_key='id') }}\nselect id, v, batch from raw.keyed ${where}`,
    );
    write(
      'models/by_text.sql',
      `{{ config(materialized='incremental', unique_key='k') }}\nselect k, v, batch from raw.keyed ${where}`,
    );
    expect((await build('by_id by_text')).status).toBe('succeeded');
    const ids = async () =>
      (await pg.query(`SELECT id, v FROM analytics.by_id ORDER BY id`)).rows.map((r) => `${r.id}:${r.v}`);
    // 30, 40 lie past 20: one range probe proves nothing matches, a plain INSERT applies them
    await pg.query(`INSERT INTO raw.keyed VALUES (30, 'k30', 'b', 2), (40, 'k40', 'b', 2)`);
    let b = await build('by_id by_text');
    expect(b.steps.map((s) => [s.node, s.status, s.rowsAffected, s.refs?.['applied'] ?? s.refs?.['strategy']])).toEqual(
      [
        ['model.by_id', 'succeeded', 2, 'merge (insert-only: staged keys beyond the target)'],
        ['model.by_text', 'succeeded', 2, 'merge'],
      ],
    );
    expect(await ids()).toEqual(['10:a', '20:a', '30:b', '40:b']);
    // 15 matches nothing but lies inside the target's range, 20 matches: MERGE inserts one, updates the other
    await pg.query(`INSERT INTO raw.keyed VALUES (15, 'k15', 'c', 3), (20, 'k20', 'c', 3)`);
    b = await build('by_id');
    expect(b.steps[0]).toMatchObject({ status: 'succeeded', rowsAffected: 2, refs: { strategy: 'merge' } });
    expect(b.steps[0].refs?.['applied']).toBeUndefined();
    expect(await ids()).toEqual(['10:a', '15:c', '20:c', '30:b', '40:b']);
    // a key twice in one batch, past the end: refused like MERGE refuses it, and nothing is applied
    await pg.query(`INSERT INTO raw.keyed VALUES (50, 'k50', 'd', 4), (50, 'k50', 'e', 4)`);
    b = await build('by_id');
    expect(b.steps[0]).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/duplicate key value violates unique constraint/),
    });
    expect(await ids()).toEqual(['10:a', '15:c', '20:c', '30:b', '40:b']);
    await pg.query(`DELETE FROM raw.keyed WHERE batch = 4`);
    expect((await build('by_id')).steps[0]).toMatchObject({ status: 'succeeded', rowsAffected: 0 });
  });

  it('a model with an alias is built, catalogued and incremented under its alias', async () => {
    write(
      'models/aliased_inc.sql',
      "{{ config(materialized='incremental', unique_key='id', alias='events_by_alias') }}\nselect id, v, updated_at from raw.events {% if is_incremental() %} where updated_at > (select coalesce(max(updated_at), 0) from {{ this }}) {% endif %}",
    );
    write(
      'models/aliased_tbl.sql',
      "{{ config(materialized='table', alias='tbl_by_alias') }}\nselect id from {{ ref('aliased_inc') }}",
    );
    const b1 = await build('aliased_inc+');
    expect(b1.steps.map((s) => [s.node, s.status, s.error])).toEqual([
      ['model.aliased_inc', 'succeeded', null],
      ['model.aliased_tbl', 'succeeded', null],
    ]);
    const rels = async () =>
      (
        await pg.query(
          `SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE nspname = 'analytics' AND relname LIKE '%alias%' AND relkind IN ('r', 'v') ORDER BY 1`,
        )
      ).rows.map((r) => r.relname);
    expect(await rels()).toEqual(['events_by_alias', 'tbl_by_alias']);
    expect(await pg.query(`SELECT to_regclass('analytics.aliased_inc') AS r`)).toMatchObject({ rows: [{ r: null }] });
    const ds = (await t.http.get('/api/catalog/datasets/aliased_inc').set(admin).expect(200)).body;
    expect(ds).toMatchObject({ schema: 'analytics', table: 'events_by_alias' });
    expect((await t.http.get('/api/catalog/datasets/aliased_tbl').set(admin).expect(200)).body).toMatchObject({
      table: 'tbl_by_alias',
    });
    const before = (await pg.query(`SELECT count(*)::int AS n FROM analytics.events_by_alias`)).rows[0].n;
    await pg.query(`INSERT INTO raw.events VALUES (70, 'alias', 70)`);
    const b2 = await build('aliased_inc');
    expect(b2.steps[0]).toMatchObject({ status: 'succeeded', rowsAffected: 1 });
    expect((await pg.query(`SELECT count(*)::int AS n FROM analytics.events_by_alias`)).rows[0].n).toBe(before + 1);
    await pg.query(`DELETE FROM raw.events WHERE id = 70`);
    fs.rmSync(path.join(dir(), 'models', 'aliased_inc.sql'));
    fs.rmSync(path.join(dir(), 'models', 'aliased_tbl.sql'));
  });

  it('adopts a model built under its name before its alias was honoured: renamed, its history kept', async () => {
    const sql = (alias: string) =>
      `{{ config(materialized='incremental', unique_key='id'${alias}) }}\nselect id, v, updated_at from raw.events {% if is_incremental() %} where updated_at > (select coalesce(max(updated_at), 0) from {{ this }}) {% endif %}`;
    write('models/legacy_inc.sql', sql(''));
    expect((await build('legacy_inc')).steps[0]).toMatchObject({ status: 'succeeded' });
    // history the source no longer has (an incremental model keeps it)
    await pg.query(`INSERT INTO analytics.legacy_inc (id, v, updated_at) VALUES (-1, 'history', 0)`);
    write('models/legacy_inc.sql', sql(", alias='legacy_events'"));
    expect((await build('legacy_inc')).steps[0]).toMatchObject({ status: 'succeeded' });
    expect(await pg.query(`SELECT to_regclass('analytics.legacy_inc') AS r`)).toMatchObject({ rows: [{ r: null }] });
    expect((await pg.query(`SELECT v FROM analytics.legacy_events WHERE id = -1`)).rows).toEqual([{ v: 'history' }]);
    expect((await pg.query(`SELECT to_regclass('analytics.legacy_events_uk') AS r`)).rows[0].r).not.toBeNull();
    expect((await t.http.get('/api/catalog/datasets/legacy_inc').set(admin).expect(200)).body).toMatchObject({
      table: 'legacy_events',
    });
    fs.rmSync(path.join(dir(), 'models', 'legacy_inc.sql'));
  });

  it('two builds of one incremental model at once: one waits for the other, both succeed, no row twice', async () => {
    await pg.query(`CREATE TABLE raw.burst (id int PRIMARY KEY, v text)`);
    await pg.query(`INSERT INTO raw.burst SELECT g, 'v' || g FROM generate_series(1, 1000) g`);
    write(
      'models/burst.sql',
      "{{ config(materialized='incremental', unique_key='id') }}\nselect id, v from raw.burst {% if is_incremental() %} where id > (select coalesce(max(id), 0) from {{ this }}) {% endif %}",
    );
    expect((await build('burst')).status).toBe('succeeded');
    await pg.query(`INSERT INTO raw.burst SELECT g, 'v' || g FROM generate_series(1001, 50000) g`);
    const modeling = t.app.get(ModelingService);
    const [a, b] = await Promise.all([modeling.build('inc', 'burst'), modeling.build('inc', 'burst')]);
    const done = await Promise.all([modeling.waitForBuild(a.id, 60_000), modeling.waitForBuild(b.id, 60_000)]);
    expect(done.map((d) => [d.status, d.steps[0].error])).toEqual([
      ['succeeded', null],
      ['succeeded', null],
    ]);
    expect(done.map((d) => d.steps[0].rowsAffected).sort((x, y) => (x ?? 0) - (y ?? 0))).toEqual([0, 49000]);
    expect(
      (await pg.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM analytics.burst`)).rows[0],
    ).toEqual({ n: 50000, d: 50000 });
    fs.rmSync(path.join(dir(), 'models', 'burst.sql'));
  });

  it('an incremental model with expectations stages the new rows and audits them before applying anything', async () => {
    write(
      'models/ev_audited.sql',
      `{{ config(materialized='incremental', unique_key='id') }}\nselect id, v, updated_at from raw.events {% if is_incremental() %} where updated_at > (select coalesce(max(updated_at), 0) from {{ this }}) {% endif %}`,
    );
    write(
      'models/schema.yml',
      'version: 2\nmodels:\n  - name: ev_audited\n    columns:\n      - name: v\n        tests: [not_null]\n',
    );
    expect((await build('ev_audited')).status).toBe('succeeded');
    const before = await rows('analytics.ev_audited');
    await pg.query(`INSERT INTO raw.events VALUES (90, NULL, 90)`);
    const b = await build('ev_audited');
    expect(b.steps[0]).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/audit of the new rows failed, nothing was applied/),
    });
    expect(await rows('analytics.ev_audited')).toEqual(before);
    await pg.query(`DELETE FROM raw.events WHERE id = 90`);
    write('models/schema.yml', 'version: 2\nmodels:\n  - name: typed\n');
  });

  it('on_schema_change: fail refuses, append_new_columns adds the column', async () => {
    const where =
      '{% if is_incremental() %} where updated_at > (select coalesce(max(updated_at), 0) from {{ this }}) {% endif %}';
    write(
      'models/ev_merge.sql',
      `{{ config(materialized='incremental', unique_key='id', on_schema_change='fail') }}\nselect id, v, updated_at, 'x' as extra from raw.events ${where}`,
    );
    await pg.query(`INSERT INTO raw.events VALUES (4, 'd', 3)`);
    const failed = await build('ev_merge');
    expect(failed.steps[0]).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/columns changed \(added extra; removed none\) and on_schema_change is fail/),
    });
    expect((await rows('analytics.ev_merge')).map((r) => r.id)).toEqual([1, 2, 3]);
    write(
      'models/ev_merge.sql',
      `{{ config(materialized='incremental', unique_key='id', on_schema_change='append_new_columns') }}\nselect id, v, updated_at, 'x' as extra from raw.events ${where}`,
    );
    const ok = await build('ev_merge');
    expect(ok.steps[0]).toMatchObject({ status: 'succeeded', rowsAffected: 1 });
    expect((await rows('analytics.ev_merge')).at(-1)).toEqual({ id: 4, v: 'd', updated_at: 3, extra: 'x' });
  });

  it('a build its process left running (crash, kill) is failed by a worker: running steps failed, pending skipped, FAIL events out', async () => {
    await build('ev_merge'); // registers the project
    const project = (await pg.query(`SELECT id FROM modeling.projects WHERE name = 'inc'`)).rows[0].id;
    const id = (
      await pg.query(
        `INSERT INTO modeling.builds (project_id, selector, full_refresh, status, started_at, heartbeat_at) VALUES ($1, NULL, false, 'running', now() - interval '1 hour', now() - interval '1 hour') RETURNING id`,
        [project],
      )
    ).rows[0].id;
    await pg.query(
      `INSERT INTO modeling.build_steps (build_id, node_id, materialized, status, started_at) VALUES ($1, 'model.ev_merge', 'incremental', 'running', now() - interval '1 hour'), ($1, 'model.ev_di', 'incremental', 'pending', NULL)`,
      [id],
    );
    // a live build is left alone: its heartbeat is fresh
    const live = (
      await pg.query(
        `INSERT INTO modeling.builds (project_id, full_refresh, status) VALUES ($1, false, 'running') RETURNING id`,
        [project],
      )
    ).rows[0].id;
    const svc = t.app.get(ModelingService);
    expect(await svc.recover()).toEqual([id]);
    const b = await svc.getBuild(id);
    expect([b.status, b.finishedAt !== null]).toEqual(['failed', true]);
    expect(b.steps.map((s) => [s.node, s.status, s.error?.startsWith('interrupted')])).toEqual([
      ['model.ev_merge', 'failed', true],
      ['model.ev_di', 'skipped', true],
    ]);
    const events = (
      await pg.query(
        `SELECT payload->>'job' AS job, payload->>'state' AS state, payload->'error'->>'code' AS code FROM platform.outbox WHERE key LIKE '%:FAIL' AND payload->>'slice' = 'modeling' AND (payload->>'runId' = $1 OR payload->'parent'->>'runId' = $1) ORDER BY id`,
        [id],
      )
    ).rows;
    expect(events).toEqual([
      { job: 'model.inc.ev_merge', state: 'FAIL', code: 'MODELING.INTERRUPTED' },
      { job: 'build.inc', state: 'FAIL', code: 'MODELING.INTERRUPTED' },
    ]);
    expect((await svc.getBuild(live)).status).toBe('running');
    expect(await svc.recover()).toEqual([]); // once
    await pg.query(`DELETE FROM modeling.builds WHERE id = $1`, [live]);
  });

  it('a build taken as interrupted while its process still runs it starts no further step and sends no more events', async () => {
    const root = path.join(files.dir, 'projects', 'slow');
    fs.mkdirSync(path.join(root, 'models'), { recursive: true });
    fs.writeFileSync(path.join(root, 'dbt_project.yml'), 'name: slow\n');
    fs.writeFileSync(
      path.join(root, 'models', 'slow_a.sql'),
      "{{ config(materialized='table') }}\nselect 1 as id from pg_sleep(1.5)",
    );
    fs.writeFileSync(
      path.join(root, 'models', 'slow_b.sql'),
      "{{ config(materialized='table') }}\nselect id from {{ ref('slow_a') }}",
    );
    await t.http.post('/api/modeling/projects').set(admin).send({ path: 'slow' }).expect(201);
    const svc = t.app.get(ModelingService);
    const started = (await t.http.post('/api/modeling/builds').set(admin).send({ project: 'slow' }).expect(202)).body;
    await until(
      'the first step to start',
      async () => (await svc.getBuild(started.id)).steps[0].status === 'running',
      10_000,
    );
    // another worker, seeing no heartbeat in time, takes the build as interrupted
    expect(await svc.recover(0)).toEqual([started.id]);
    const b = await svc.waitForBuild(started.id, 30_000);
    expect([b.status, ...b.steps.map((s) => `${s.node} ${s.status}`)]).toEqual([
      'failed',
      'model.slow_a failed',
      'model.slow_b skipped',
    ]);
    const events = (
      await pg.query(
        `SELECT key FROM platform.outbox WHERE payload->>'slice' = 'modeling' AND (payload->>'runId' = $1 OR payload->'parent'->>'runId' = $1) ORDER BY id`,
        [started.id],
      )
    ).rows.map((r) => r.key.split(':')[1]);
    // START of the build and of slow_a, then recovery's FAIL for both: no COMPLETE, nothing for slow_b
    expect(events).toEqual(['START', 'START', 'FAIL', 'FAIL']);
  });
});

describe('modeling e2e: enforced contracts and schema change classification', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let close: () => Promise<void>;
  const write = (f: string, s: string) => {
    const p = path.join(files.dir, 'projects', 'con', f);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, s);
  };
  const build = async (select?: string) => {
    await t.http.post('/api/modeling/projects').set(admin).send({ path: 'con' }).expect(201);
    const b = await t.http.post('/api/modeling/builds').set(admin).send({ project: 'con', select }).expect(202);
    return t.app.get(ModelingService).waitForBuild(b.body.id, 60_000);
  };
  beforeAll(async () => {
    ({ t, files, pg, close } = await startIngestionApp());
    write('dbt_project.yml', 'name: con\nmodels:\n  con:\n    materialized: table\n');
    write('models/typed.sql', "select 1::int as id, 'a'::text as name");
    write('models/child.sql', "select id from {{ ref('typed') }}");
    write(
      'models/schema.yml',
      'version: 2\nmodels:\n  - name: typed\n    config:\n      contract: {enforced: true}\n    columns:\n      - name: id\n        data_type: int\n      - name: name\n        data_type: text\n',
    );
  });
  afterAll(() => close?.());

  it('builds when the columns match the enforced contract, fails before swap with a diff when not', async () => {
    expect((await build()).status).toBe('succeeded');
    write('models/typed.sql', "select 1::bigint as id, 'a'::text as name, 2 as extra");
    const b = await build('typed');
    expect(b.steps[0]).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(
        /enforced contract does not match.*column id is bigint, the contract says integer; unexpected column extra/,
      ),
    });
    expect(
      (
        await pg.query(
          `SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'analytics.typed'::regclass AND attname = 'id'`,
        )
      ).rows[0].t,
    ).toBe('integer');
  });

  it('classifies a breaking change and names the downstream models', async () => {
    write('models/schema.yml', 'version: 2\nmodels:\n  - name: typed\n');
    write('models/typed.sql', 'select 1::int as id');
    const b = await build('typed');
    expect(b.steps[0]).toMatchObject({
      status: 'succeeded',
      refs: {
        schemaChange: { kind: 'breaking', details: ['removed column name'], affectedDownstream: ['model.child'] },
      },
    });
    const versions = (await t.http.get('/api/catalog/datasets/typed').set(admin).expect(200)).body.versions;
    expect(versions[0]).toMatchObject({ kind: 'breaking', changedBy: 'modeling:con' });
    const changes = (await t.http.get('/api/catalog/datasets/typed/changes').set(admin).expect(200)).body.items;
    expect(changes.map((c: { kind: string }) => c.kind)).toEqual(['breaking', 'initial']);
    expect(changes[0]).toMatchObject({ details: ['removed column name'] });
  });
});

describe('modeling e2e: versioned datasets', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let close: () => Promise<void>;
  const write = (f: string, s: string) => {
    const p = path.join(files.dir, 'projects', 'ver', f);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, s);
  };
  const build = async () => {
    await t.http.post('/api/modeling/projects').set(admin).send({ path: 'ver' }).expect(201);
    const b = await t.http.post('/api/modeling/builds').set(admin).send({ project: 'ver' }).expect(202);
    return t.app.get(ModelingService).waitForBuild(b.body.id, 60_000);
  };
  beforeAll(async () => {
    ({ t, files, pg, close } = await startIngestionApp());
    write('dbt_project.yml', 'name: ver\nmodels:\n  ver:\n    materialized: table\n');
  });
  afterAll(() => close?.());

  it('refuses a breaking change unless a new version is declared; the old version stays readable until retired', async () => {
    write('models/api_orders.sql', "{{ config(version=1) }}\nselect 1 as id, 'x'::text as note");
    expect((await build()).status).toBe('succeeded');
    expect((await t.http.get('/api/catalog/datasets/api_orders').set(admin)).body.release).toBe(1);

    write('models/api_orders.sql', '{{ config(version=1) }}\nselect 1 as id');
    const refused = await build();
    expect(refused.steps[0]).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/breaking change to api_orders v1 \(removed column note\).*Declare version: 2/),
    });
    expect((await pg.query('SELECT note FROM analytics.api_orders')).rows).toEqual([{ note: 'x' }]);

    write('models/api_orders.sql', '{{ config(version=2) }}\nselect 1 as id');
    const v2 = await build();
    expect(v2.steps[0]).toMatchObject({
      status: 'succeeded',
      refs: { published: 2, previousVersion: 'analytics.api_orders_v1' },
    });
    expect((await pg.query('SELECT * FROM analytics.api_orders')).rows).toEqual([{ id: 1 }]);
    expect((await pg.query('SELECT * FROM analytics.api_orders_v1')).rows).toEqual([{ id: 1, note: 'x' }]);
    expect((await t.http.get('/api/catalog/datasets/api_orders').set(admin)).body.release).toBe(2);
    // nor can the catalog API force a breaking change onto a versioned dataset
    const patch = await t.http
      .patch('/api/catalog/datasets/api_orders')
      .set(admin)
      .send({ contract: { columns: [{ name: 'order_id', type: 'integer', nullable: true }] }, allowBreaking: true });
    expect(patch.status).toBe(409);
    expect(patch.body).toMatchObject({
      code: 'CATALOG.VERSIONED_BREAKING_CHANGE',
      detail: expect.stringContaining('config version: 3'),
    });

    expect((await t.http.delete('/api/catalog/datasets/api_orders/versions/1').set(admin).expect(200)).body).toEqual({
      dropped: '"analytics"."api_orders_v1"',
    });
    expect((await t.http.delete('/api/catalog/datasets/api_orders/versions/1').set(admin).expect(404)).body.code).toBe(
      'CATALOG.VERSION_NOT_FOUND',
    );
    expect((await t.http.delete('/api/catalog/datasets/api_orders/versions/2').set(admin).expect(400)).body.code).toBe(
      'CATALOG.BAD_VERSION',
    );
  });
});

describe('modeling e2e: the example star schema (examples/shop)', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ t, files, pg, close } = await startIngestionApp());
    fs.cpSync(path.resolve(__dirname, '../../../examples/shop'), path.join(files.dir, 'projects', 'shop'), {
      recursive: true,
    });
  });
  afterAll(() => close?.());

  it('builds fct_orders + dim_customers + dim_date, audited by its tests', async () => {
    await t.http.post('/api/modeling/projects').set(admin).send({ path: 'shop' }).expect(201);
    const started = await t.http.post('/api/modeling/builds').set(admin).send({ project: 'shop' }).expect(202);
    const b = await t.app.get(ModelingService).waitForBuild(started.body.id, 60_000);
    expect(b.status).toBe('succeeded');
    expect(b.steps.find((s) => s.node === 'model.dim_date')).toMatchObject({ rowsAffected: 365 });
    const rows = (
      await pg.query(
        `SELECT d.month, count(*)::int AS n, sum(f.amount)::text AS total FROM analytics.fct_orders f JOIN analytics.dim_date d USING (date_key) WHERE f.is_revenue GROUP BY 1 ORDER BY 1`,
      )
    ).rows;
    expect(rows).toEqual([
      { month: 1, n: 2, total: '60.5000000000000000' },
      { month: 2, n: 2, total: '173.0000000000000000' },
      { month: 3, n: 2, total: '84.0000000000000000' },
    ]);
    const sel = (
      await t.http.post('/api/modeling/builds').set(admin).send({ project: 'shop', select: 'tag:finance' }).expect(202)
    ).body;
    expect(sel.steps.map((s: { node: string }) => s.node)).toEqual([
      'model.dim_date',
      'model.dim_customers',
      'model.fct_orders',
    ]);
    await t.app.get(ModelingService).waitForBuild(sel.id, 60_000);
  });
});
