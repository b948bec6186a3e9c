import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, tempDataDir, until } from './support/files';

/**
 * Cancelling a pipeline run stops the runs underneath through their ports, with nothing half
 * published: an ingestion run loading a large file ends INGESTION.CANCELLED with the target as it
 * was; a build starts no further model (MODELING.CANCELLED) while the one running ends atomically.
 */
describe('orchestration: cancel reaches the runs underneath', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let close: () => Promise<void>;
  const get = async (url: string) => (await t.http.get(url).set(admin).expect(200)).body;
  const ended = (s: string) => ['succeeded', 'failed', 'cancelled'].includes(s);

  beforeAll(async () => {
    ({ t, files, pg, close } = await startIngestionApp({ WEIR_STEP_POLL_MS: '50' }));
    await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({
        name: 'big',
        contract: {
          columns: [
            { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
            { name: 'payload', type: 'text', nullable: true },
          ],
        },
      })
      .expect(201);
    const rows: string[] = ['id,payload'];
    for (let i = 1; i <= 1_500_000; i++) rows.push(`${i},row-${i}-${'x'.repeat(40)}`);
    files.write('big.csv', rows.join('\n') + '\n');
    await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({
        name: 'big_file',
        dataset: 'big',
        format: 'csv',
        location: { path: 'big.csv' },
        strategy: { kind: 'merge' },
      })
      .expect(201);
    const project = path.join(files.dir, 'projects', 'slow');
    fs.mkdirSync(path.join(project, 'models'), { recursive: true });
    fs.writeFileSync(path.join(project, 'dbt_project.yml'), 'name: slow\n');
    fs.writeFileSync(
      path.join(project, 'models', 'first.sql'),
      "{{ config(materialized='table') }}\nselect x from (select pg_sleep(3)) s, generate_series(1, 3) x\n",
    );
    fs.writeFileSync(path.join(project, 'models', 'second.sql'), "select x from {{ ref('first') }}\n");
    await t.http.post('/api/modeling/projects').set(admin).send({ path: 'slow' }).expect(201);
  }, 180_000);
  afterAll(async () => close?.());

  it('a cancelled pipeline run cancels its ingestion run: INGESTION.CANCELLED, the target unchanged', async () => {
    await t.http
      .post('/api/orchestration/pipelines')
      .set(admin)
      .send({ name: 'load_big', steps: [{ id: 'load', kind: 'ingest', source: 'big_file' }] })
      .expect(201);
    const run = (await t.http.post('/api/orchestration/pipelines/load_big/runs').set(admin).send({}).expect(201)).body;
    const ingestionRun = await until(
      'the ingestion run to be loading',
      async () => {
        const r = await get(`/api/orchestration/runs/${run.id}`);
        const id = r.steps[0].ref?.ingestionRun;
        return id && (await get(`/api/ingestion/runs/${id}`)).status === 'running' && id;
      },
      60_000,
    );
    const cancelled = (await t.http.post(`/api/orchestration/runs/${run.id}/cancel`).set(admin).expect(200)).body;
    expect(cancelled.status).toBe('cancelled');
    const ir = await until(
      'the ingestion run to stop',
      async () => {
        const r = await get(`/api/ingestion/runs/${ingestionRun}`);
        return ended(r.status) && r;
      },
      60_000,
    );
    expect([ir.status, ir.error?.code]).toEqual(['failed', 'INGESTION.CANCELLED']);
    expect((await pg.query(`SELECT count(*)::int AS n FROM raw.big`)).rows[0].n).toBe(0);
    expect((await get(`/api/orchestration/runs/${run.id}`)).steps[0].status).toBe('cancelled');
    // an ended run stays as it ended
    const again = (await t.http.post(`/api/ingestion/runs/${ingestionRun}/cancel`).set(admin).expect(200)).body;
    expect(again.error.code).toBe('INGESTION.CANCELLED');
  }, 120_000);

  it('a cancelled build starts no further model; the running one ends whole (MODELING.CANCELLED)', async () => {
    const b = (await t.http.post('/api/modeling/builds').set(admin).send({ project: 'slow' }).expect(202)).body;
    await until('the first model to run', async () => {
      const v = await get(`/api/modeling/builds/${b.id}`);
      return v.steps.find((s: { node: string }) => s.node === 'model.first').status === 'running';
    });
    await t.http.post(`/api/modeling/builds/${b.id}/cancel`).set(admin).expect(200);
    const v = await until(
      'the build to end',
      async () => {
        const x = await get(`/api/modeling/builds/${b.id}`);
        return x.status !== 'running' && x;
      },
      60_000,
    );
    expect(v.status).toBe('failed');
    expect(
      v.steps.map((s: { node: string; status: string; error: string | null }) => [s.node, s.status, s.error]),
    ).toEqual([
      ['model.first', 'succeeded', null],
      ['model.second', 'skipped', 'cancelled'],
    ]);
    expect((await pg.query(`SELECT count(*)::int AS n FROM analytics.first`)).rows[0].n).toBe(3);
  }, 120_000);
});
