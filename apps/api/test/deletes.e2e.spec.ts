import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { AuditLog, Outbox } from '@weir/platform';
import { ModelingService } from '@weir/modeling';
import { SourceInput, SourcesService } from '@weir/ingestion';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, tempDataDir } from './support/files';

interface Dependent {
  kind: string;
  name: string;
  detail: string;
  overridable?: boolean;
}

/**
 * Deleting what can be created, on the real app and PostgreSQL: datasets (the table kept or
 * dropped), sources, suites, projects and pipelines are refused with 409 `…_IN_USE` naming each
 * dependent (from the slices' definitions, the warehouse and the lineage graph), deleted once free,
 * and the soft ones keep their history readable and their name free. The app runs without the
 * worker role, so that queued runs stay queued: the "a run is going" refusals are deterministic.
 */
describe('deletes e2e: 409 while in use, soft where history stays', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let close: () => Promise<void>;
  let viewer: { Authorization: string };

  const write = (project: string, f: string, s: string) => {
    const p = path.join(files.dir, 'projects', project, f);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, s);
  };
  const post = async (url: string, body: unknown, status = 201) =>
    (
      await t.http
        .post(url)
        .set(admin)
        .send(body as object)
        .expect(status)
    ).body;
  const pipeline = (def: Record<string, unknown>) => post('/api/orchestration/pipelines', def);
  /** A refused delete: 409 with `code`, its dependents as [kind, name, detail]. */
  const refused = async (url: string, code: string) => {
    const res = await t.http.delete(url).set(admin).expect(409);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe(code);
    return res.body as { detail: string; dependents: Dependent[] };
  };
  const triples = (ds: Dependent[]) => ds.map((d) => [d.kind, d.name, d.detail]);
  const relkind = async (rel: string) =>
    (await pg.query(`SELECT relkind FROM pg_class WHERE oid = to_regclass($1)`, [rel])).rows[0]?.relkind as
      string | undefined;

  const contract = {
    columns: [
      { name: 'id', type: 'integer', nullable: false, primaryKey: true },
      { name: 'amount', type: 'numeric(12,2)' },
    ],
  };

  beforeAll(async () => {
    ({ t, files, pg, close } = await startIngestionApp({ WEIR_ROLES: 'api,scheduler' }));
    viewer = {
      Authorization: `Bearer ${(await post('/api/platform/api-keys', { name: 'viewer-key', role: 'viewer' })).key}`,
    };
    files.write('orders.csv', 'id,amount\n1,10.50\n2,20.00\n');
    await post('/api/catalog/datasets', { name: 'orders', contract });
    // the table as a load would leave it (no worker here: nothing loads)
    await pg.query(`CREATE SCHEMA IF NOT EXISTS raw`);
    await pg.query(`CREATE TABLE raw.orders (id integer PRIMARY KEY, amount numeric(12,2))`);
    await pg.query(`INSERT INTO raw.orders VALUES (1, 10.50), (2, 20.00)`);
  });
  afterAll(() => close?.());

  it('a viewer may not delete: 403, nothing deleted', async () => {
    const res = await t.http.delete('/api/catalog/datasets/orders').set(viewer).expect(403);
    expect(res.body.code).toBe('PLATFORM.FORBIDDEN');
    await t.http.get('/api/catalog/datasets/orders').set(admin).expect(200);
  });

  it('a dataset in use: 409 CATALOG.DATASET_IN_USE naming the source, suite, model, pipeline steps and outside job', async () => {
    await post('/api/ingestion/sources', {
      name: 'orders_csv',
      dataset: 'orders',
      format: 'csv',
      strategy: { kind: 'replace' },
      location: { path: 'orders.csv' },
    });
    await post('/api/quality/suites', {
      name: 'orders_checks',
      dataset: 'orders',
      expectations: [{ type: 'expect_column_values_to_not_be_null', kwargs: { column: 'id' } }],
    });
    await pipeline({
      name: 'orders_out',
      steps: [
        { id: 'fresh', kind: 'wait_for', dataset: 'orders', fresh_within: '1h' },
        { id: 'export', kind: 'export', dataset: 'orders', target: 'orders', depends_on: ['fresh'] },
      ],
    });
    write('shop', 'dbt_project.yml', 'name: shop\n');
    write(
      'shop',
      'models/sources.yml',
      'version: 2\nsources:\n  - name: raw\n    schema: raw\n    tables:\n      - name: orders\n',
    );
    write('shop', 'models/order_totals.sql', "select count(*) as n from {{ source('raw', 'orders') }}");
    await post('/api/modeling/projects', { path: 'shop' });
    // another system reads raw.orders, as its OpenLineage event says
    const db = new URL(t.db.url);
    await post(
      '/api/v1/lineage',
      {
        eventType: 'COMPLETE',
        eventTime: new Date().toISOString(),
        producer: 'https://example.com/airflow',
        schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
        run: { runId: '0190d3f4-0000-7000-8000-000000000001' },
        job: { namespace: 'airflow', name: 'reporting.daily' },
        inputs: [
          { namespace: `postgres://${db.hostname}:${db.port || '5432'}`, name: `${db.pathname.slice(1)}.raw.orders` },
        ],
        outputs: [],
      },
      201,
    );
    await t.app.get(Outbox).drain(10_000);

    const p = await refused('/api/catalog/datasets/orders', 'CATALOG.DATASET_IN_USE');
    expect(triples(p.dependents)).toEqual(
      expect.arrayContaining([
        ['source', 'orders_csv', 'loads it'],
        ['suite', 'orders_checks', 'checks it'],
        ['pipeline', 'orders_out', 'step "fresh" waits for it'],
        ['pipeline', 'orders_out', 'step "export" exports it'],
        ['model', 'shop.order_totals', 'reads raw.orders as a dbt source'],
        ['job', 'airflow:reporting.daily', expect.stringMatching(/^reads it/)],
      ]),
    );
    expect(p.dependents).toHaveLength(6);
    expect(p.dependents.find((d) => d.kind === 'job')!.overridable).toBe(true);
    expect(p.detail).toMatch(/^Dataset "orders" is in use: /);
    // force never goes past Weir's own dependents
    const forced = await refused('/api/catalog/datasets/orders?force=true', 'CATALOG.DATASET_IN_USE');
    expect(forced.dependents.map((d) => d.kind).sort()).toEqual(['model', 'pipeline', 'pipeline', 'source', 'suite']);
    await t.http.get('/api/catalog/datasets/orders').set(admin).expect(200);
  });

  it('a source: 409 while a pipeline step ingests it or a run is queued; then soft-deleted, its runs readable, its name free', async () => {
    await pipeline({ name: 'orders_load', steps: [{ id: 'load', kind: 'ingest', source: 'orders_csv' }] });
    const src = (await t.http.get('/api/ingestion/sources/orders_csv').set(admin).expect(200)).body;
    const run = await post(`/api/ingestion/sources/${src.id}/runs`, {}, 202);
    expect(run.status).toBe('queued');
    let p = await refused('/api/ingestion/sources/orders_csv', 'INGESTION.SOURCE_IN_USE');
    expect(triples(p.dependents)).toEqual([
      ['ingestion_run', run.id, 'queued run'],
      ['pipeline', 'orders_load', 'step "load" ingests it'],
    ]);
    await post(`/api/ingestion/runs/${run.id}/cancel`, {}, 200);
    p = await refused('/api/ingestion/sources/orders_csv', 'INGESTION.SOURCE_IN_USE');
    expect(triples(p.dependents)).toEqual([['pipeline', 'orders_load', 'step "load" ingests it']]);
    await t.http.delete('/api/orchestration/pipelines/orders_load').set(admin).expect(204);
    await t.http.delete('/api/ingestion/sources/orders_csv').set(admin).expect(204);

    await t.http.get('/api/ingestion/sources/orders_csv').set(admin).expect(404);
    await t.http.get(`/api/ingestion/sources/${src.id}`).set(admin).expect(404);
    const list = (await t.http.get('/api/ingestion/sources').set(admin).expect(200)).body.items;
    expect(list.map((s: { name: string }) => s.name)).not.toContain('orders_csv');
    // the history stays: the run by its id, and the source's runs by the source's id
    expect((await t.http.get(`/api/ingestion/runs/${run.id}`).set(admin).expect(200)).body).toMatchObject({
      id: run.id,
      sourceId: src.id,
      status: 'failed',
    });
    const runs = (await t.http.get(`/api/ingestion/runs?sourceId=${src.id}`).set(admin).expect(200)).body.items;
    expect(runs.map((r: { id: string }) => r.id)).toEqual([run.id]);
    // a triggered run of a deleted source is refused
    await t.http.post(`/api/ingestion/sources/${src.id}/runs`).set(admin).send({}).expect(404);
    // the name is free again: a new source, a new id
    const again = await post('/api/ingestion/sources', {
      name: 'orders_csv',
      dataset: 'orders',
      format: 'csv',
      strategy: { kind: 'replace' },
      location: { path: 'orders.csv' },
    });
    expect(again.id).not.toBe(src.id);
    await t.http.delete('/api/ingestion/sources/orders_csv').set(admin).expect(204);
  });

  it('a suite: 409 while a pipeline check step runs it; then soft-deleted, its runs readable', async () => {
    const suite = (await t.http.get('/api/quality/suites/orders_checks').set(admin).expect(200)).body;
    const qrun = await post(`/api/quality/suites/${suite.id}/runs`, {}, 201);
    await pipeline({ name: 'orders_qa', steps: [{ id: 'qa', kind: 'check', suite: 'orders_checks' }] });
    const p = await refused('/api/quality/suites/orders_checks', 'QUALITY.SUITE_IN_USE');
    expect(triples(p.dependents)).toEqual([['pipeline', 'orders_qa', 'step "qa" runs it']]);
    await t.http.delete('/api/orchestration/pipelines/orders_qa').set(admin).expect(204);
    await t.http.delete(`/api/quality/suites/${suite.id}`).set(admin).expect(204);

    await t.http.get('/api/quality/suites/orders_checks').set(admin).expect(404);
    expect((await t.http.get(`/api/quality/runs/${qrun.id}`).set(admin).expect(200)).body).toMatchObject({
      id: qrun.id,
      status: 'passed',
    });
    const runs = (await t.http.get(`/api/quality/runs?suite=${suite.id}`).set(admin).expect(200)).body.items;
    expect(runs.map((r: { id: string }) => r.id)).toEqual([qrun.id]);
  });

  it('a pipeline: 409 while another pipeline runs it or a run is going (force cancels it); soft-deleted, its runs readable, its name free', async () => {
    await pipeline({ name: 'orders_parent', steps: [{ id: 'child', kind: 'pipeline', pipeline: 'orders_out' }] });
    const r = await post('/api/orchestration/pipelines/orders_out/runs', {});
    let p = await refused('/api/orchestration/pipelines/orders_out', 'ORCHESTRATION.PIPELINE_IN_USE');
    expect(triples(p.dependents)).toEqual([
      ['pipeline_run', r.id, expect.stringMatching(/^(queued|running) run$/)],
      ['pipeline', 'orders_parent', 'step "child" runs it as a sub-pipeline'],
    ]);
    await t.http.delete('/api/orchestration/pipelines/orders_parent').set(admin).expect(204);
    p = await refused('/api/orchestration/pipelines/orders_out', 'ORCHESTRATION.PIPELINE_IN_USE');
    expect(p.dependents).toEqual([expect.objectContaining({ kind: 'pipeline_run', name: r.id, overridable: true })]);
    await t.http.delete('/api/orchestration/pipelines/orders_out?force=true').set(admin).expect(204);

    await t.http.get('/api/orchestration/pipelines/orders_out').set(admin).expect(404);
    expect((await t.http.get(`/api/orchestration/runs/${r.id}`).set(admin).expect(200)).body).toMatchObject({
      id: r.id,
      pipeline: 'orders_out',
      status: 'cancelled',
    });
    const all = (await t.http.get('/api/orchestration/runs').set(admin).expect(200)).body.items;
    expect(all.find((x: { id: string }) => x.id === r.id)).toMatchObject({ pipeline: 'orders_out' });
    // the name is free again, and the deleted one's versions do not come back
    const again = await pipeline({ name: 'orders_out', steps: [{ id: 's', kind: 'sql', sql: 'SELECT 1' }] });
    expect(again).toMatchObject({ name: 'orders_out', version: 1 });
    await t.http.delete('/api/orchestration/pipelines/orders_out').set(admin).expect(204);
  });

  it('a project: 409 while a pipeline step builds it or a build runs; soft-deleted, its builds readable', async () => {
    await pipeline({ name: 'shop_nightly', steps: [{ id: 'build', kind: 'build', project: 'shop' }] });
    // a seed's source, as a build of the project keeps it (no worker here to load a seed)
    await post('/api/catalog/datasets', { name: 'regions', contract });
    await t.app.get(SourcesService).create({
      name: 'seed_shop_regions',
      dataset: 'regions',
      format: 'csv',
      strategy: { kind: 'replace' },
      location: { path: 'orders.csv' },
      managedBy: 'modeling:shop',
      takeOver: true,
    } as SourceInput);
    const b = await post('/api/modeling/builds', { project: 'shop' }, 202);
    const built = await t.app.get(ModelingService).waitForBuild(b.id, 60_000);
    expect(built.status).toBe('succeeded');
    // a build running (as another instance would hold it)
    const shop = (await t.http.get('/api/modeling/projects/shop').set(admin).expect(200)).body;
    const {
      rows: [running],
    } = await pg.query<{ id: string }>(
      `INSERT INTO modeling.builds (project_id, selector, full_refresh, status) VALUES ($1, NULL, false, 'running') RETURNING id`,
      [shop.id],
    );
    let p = await refused('/api/modeling/projects/shop', 'MODELING.PROJECT_IN_USE');
    expect(triples(p.dependents)).toEqual([
      ['build', running.id, 'running build'],
      ['pipeline', 'shop_nightly', 'step "build" builds it'],
    ]);
    // the relation it built is its dataset: not deleted while the project builds it
    const owned = await refused('/api/catalog/datasets/order_totals', 'CATALOG.DATASET_IN_USE');
    expect(triples(owned.dependents)).toEqual([['project', 'shop', 'builds it']]);

    await pg.query(`UPDATE modeling.builds SET status = 'failed', finished_at = now() WHERE id = $1`, [running.id]);
    p = await refused('/api/modeling/projects/shop', 'MODELING.PROJECT_IN_USE');
    expect(triples(p.dependents)).toEqual([['pipeline', 'shop_nightly', 'step "build" builds it']]);
    await t.http.delete('/api/orchestration/pipelines/shop_nightly').set(admin).expect(204);
    await t.http.delete('/api/modeling/projects/shop').set(admin).expect(204);

    await t.http.get('/api/modeling/projects/shop').set(admin).expect(404);
    // its seed's source went with it
    await t.http.get('/api/ingestion/sources/seed_shop_regions').set(admin).expect(404);
    expect((await t.http.get('/api/modeling/projects').set(admin).expect(200)).body.items).toEqual([]);
    expect((await t.http.get(`/api/modeling/builds/${b.id}`).set(admin).expect(200)).body).toMatchObject({
      id: b.id,
      status: 'succeeded',
    });
    const builds = (await t.http.get(`/api/modeling/builds?project=${shop.id}`).set(admin).expect(200)).body.items;
    expect(builds.map((x: { id: string }) => x.id).sort()).toEqual([b.id, running.id].sort());
    // its files and the relation it built (a view) stay; the dataset is free now, and dropped with it
    expect(await relkind('analytics.order_totals')).toBe('v');
    const gone = (await t.http.delete('/api/catalog/datasets/order_totals?dropTable=true').set(admin).expect(200)).body;
    expect(gone).toEqual({
      name: 'order_totals',
      relation: 'analytics.order_totals',
      tableDropped: true,
      dropped: ['analytics.order_totals'],
    });
    expect(await relkind('analytics.order_totals')).toBeUndefined();
    // registering the folder again makes a new project
    const back = await post('/api/modeling/projects', { path: 'shop' });
    expect(back.id).not.toBe(shop.id);
    await t.http.delete('/api/modeling/projects/shop').set(admin).expect(204);
  });

  it('a dataset only other systems read: 409 naming them, deleted with force=true; the table is kept by default', async () => {
    const p = await refused('/api/catalog/datasets/orders', 'CATALOG.DATASET_IN_USE');
    expect(triples(p.dependents)).toEqual([['job', 'airflow:reporting.daily', expect.stringMatching(/^reads it/)]]);
    expect(p.detail).toMatch(/\?force=true/);
    const res = await t.http.delete('/api/catalog/datasets/orders?force=true').set(admin).expect(200);
    expect(res.body).toEqual({ name: 'orders', relation: 'raw.orders', tableDropped: false, dropped: [] });
    await t.http.get('/api/catalog/datasets/orders').set(admin).expect(404);
    await t.http.delete('/api/catalog/datasets/orders').set(admin).expect(404);
    // the data is untouched
    expect((await pg.query(`SELECT id, amount::text FROM raw.orders ORDER BY id`)).rows).toEqual([
      { id: 1, amount: '10.50' },
      { id: 2, amount: '20.00' },
    ]);
    // recorded in the audit log, as every mutating call
    await t.app.get(AuditLog).flush();
    const { rows } = await pg.query(
      `SELECT status, outcome, error_code FROM platform.audit_log WHERE method = 'DELETE' AND path = '/api/catalog/datasets/orders' ORDER BY id`,
    );
    // the viewer's 403, the three refusals, the delete, the 404 after it
    const refusal = { status: 409, outcome: 'refused', error_code: 'CATALOG.DATASET_IN_USE' };
    expect(rows).toEqual([
      { status: 403, outcome: 'refused', error_code: 'PLATFORM.FORBIDDEN' },
      refusal,
      refusal,
      refusal,
      { status: 200, outcome: 'ok', error_code: null },
      { status: 404, outcome: 'refused', error_code: 'CATALOG.DATASET_NOT_FOUND' },
    ]);
  });

  it('a dataset whose table a view reads: dropTable=true is refused naming the view, then drops the table', async () => {
    await post('/api/catalog/datasets', { name: 'events', contract });
    await pg.query(`CREATE TABLE raw.events (id integer PRIMARY KEY, amount numeric(12,2))`);
    await pg.query(`CREATE SCHEMA IF NOT EXISTS reports`);
    await pg.query(`CREATE VIEW reports.big_events AS SELECT * FROM raw.events WHERE amount > 100`);
    const p = await refused('/api/catalog/datasets/events?dropTable=true&force=true', 'CATALOG.DATASET_IN_USE');
    expect(triples(p.dependents)).toEqual([['view', 'reports.big_events', 'a warehouse view reading raw.events']]);
    expect(await relkind('raw.events')).toBe('r');
    await pg.query(`DROP VIEW reports.big_events`);
    const res = await t.http.delete('/api/catalog/datasets/events?dropTable=true').set(admin).expect(200);
    expect(res.body).toEqual({ name: 'events', relation: 'raw.events', tableDropped: true, dropped: ['raw.events'] });
    expect(await relkind('raw.events')).toBeUndefined();
    // the name can be registered again
    await post('/api/catalog/datasets', { name: 'events', contract });
  });

  it("deleting what does not exist: 404 with the slice's code", async () => {
    const codes = [];
    for (const url of [
      '/api/catalog/datasets/nope',
      '/api/ingestion/sources/nope',
      '/api/quality/suites/nope',
      '/api/modeling/projects/nope',
      '/api/orchestration/pipelines/nope',
    ])
      codes.push((await t.http.delete(url).set(admin).expect(404)).body.code);
    expect(codes).toEqual([
      'CATALOG.DATASET_NOT_FOUND',
      'INGESTION.SOURCE_NOT_FOUND',
      'QUALITY.SUITE_NOT_FOUND',
      'MODELING.PROJECT_NOT_FOUND',
      'ORCHESTRATION.PIPELINE_NOT_FOUND',
    ]);
  });
});
