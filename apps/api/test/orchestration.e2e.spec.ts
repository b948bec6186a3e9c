import { Client } from 'pg';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, tempDataDir } from './support/files';
import { SchedulerService } from '@weir/orchestration';

/**
 * Orchestration on the real app: pipelines defined and validated over REST (every version kept),
 * run by hand, their steps leased by the worker and run through the other slices' ports; retries
 * with backoff, a failed step skipping its descendants, idempotency keys, cancel.
 */
describe('orchestration e2e', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let close: () => Promise<void>;
  const waitRun = async (id: string) => {
    for (let i = 0; i < 600; i++) {
      const r = (await t.http.get(`/api/orchestration/runs/${id}`).set(admin).expect(200)).body;
      if (['succeeded', 'failed', 'cancelled'].includes(r.status)) return r;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`run ${id} did not end`);
  };

  beforeAll(async () => {
    ({ t, files, pg, close } = await startIngestionApp({
      WEIR_STEP_POLL_MS: '50',
      WEIR_SCHEDULER_TICK_MS: '100',
      // schedules of every second, below the default minimum interval (60 s)
      WEIR_MIN_SCHEDULE_INTERVAL_SECONDS: '1',
    }));
    await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({
        name: 'visits',
        contract: {
          columns: [
            { name: 'id', type: 'integer', nullable: false, primaryKey: true },
            { name: 'day', type: 'date', nullable: false },
          ],
        },
      })
      .expect(201);
    await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({
        name: 'visits_daily',
        dataset: 'visits',
        format: 'csv',
        location: { path: 'visits/{partition}.csv' },
        strategy: { kind: 'merge' },
      })
      .expect(201);
    await t.http
      .post('/api/quality/suites')
      .set(admin)
      .send({
        name: 'visits_checks',
        dataset: 'visits',
        expectations: [{ type: 'expect_column_values_to_not_be_null', kwargs: { column: 'day' } }],
      })
      .expect(201);
    files.write('visits/2026-12-01.csv', 'id,day\n1,2026-12-01\n2,2026-12-01\n3,2026-12-01\n');
    // a schema made outside Weir: its owner lets Weir's writer role use it (as a DBA would)
    await pg.query(`CREATE SCHEMA IF NOT EXISTS mart; GRANT USAGE, CREATE ON SCHEMA mart TO weir_writer`);
  });
  afterAll(() => close?.());

  it('refuses a definition with every problem named: unknown step, cycle with its path, bad time zone, typo', async () => {
    const r = await t.http
      .post('/api/orchestration/pipelines')
      .set(admin)
      .send({
        name: 'broken',
        schedule: { cron: '0 2 * * *', timezone: 'Mars/Olympus' },
        steps: [
          { id: 'a', kind: 'sql', sql: 'select 1', depends_on: ['c'] },
          { id: 'b', kind: 'sql', sql: 'select 1', depends_on: ['a'] },
          { id: 'c', kind: 'sql', sql: 'select 1', depends_on: ['b'] },
          { id: 'd', kind: 'ingest', sorce: 'x', depends_on: ['lod'] },
        ],
      })
      .expect(400);
    expect(r.body.code).toBe('ORCHESTRATION.INVALID_PIPELINE');
    const problems = (r.body.problems as string[]).join('\n');
    expect(problems).toMatch(/unknown step "lod"/);
    expect(problems).toMatch(/cycle: a -> b -> c -> a/);
    expect(problems).toMatch(/Mars\/Olympus/);
    expect(problems).toMatch(/sorce/);
  });

  it('runs a pipeline across slices by hand: ingest a partition, check it, publish a summary with the partition bound', async () => {
    const def = {
      name: 'visits_daily',
      partitions: { kind: 'daily', start: '2026-11-01' },
      steps: [
        { id: 'load', kind: 'ingest', source: 'visits_daily' },
        { id: 'check', kind: 'check', suite: 'visits_checks', depends_on: 'load' },
        {
          id: 'summary',
          kind: 'sql',
          depends_on: ['check'],
          sql: `CREATE TABLE IF NOT EXISTS mart.visit_days AS SELECT $1::date AS day, count(*) AS n FROM raw.visits WHERE day >= $2::timestamptz AND day < $3::timestamptz`,
        },
      ],
    };
    const created = (await t.http.post('/api/orchestration/pipelines').set(admin).send(def).expect(201)).body;
    expect([created.name, created.version, created.spec.steps.length]).toEqual(['visits_daily', 1, 3]);
    await t.http.post('/api/orchestration/pipelines').set(admin).send(def).expect(409);

    const started = await t.http
      .post('/api/orchestration/pipelines/visits_daily/runs')
      .set(admin)
      .send({ partition: '2026-12-01', idempotencyKey: 'visits:2026-12-01' })
      .expect(201);
    const again = await t.http
      .post('/api/orchestration/pipelines/visits_daily/runs')
      .set(admin)
      .send({ partition: '2026-12-01', idempotencyKey: 'visits:2026-12-01' })
      .expect(200);
    expect(again.body.id).toBe(started.body.id);
    const run = await waitRun(started.body.id);
    expect([run.status, run.steps.map((s: { error: unknown }) => s.error)]).toEqual(['succeeded', [null, null, null]]);
    expect(run.steps.map((s: { step: string; status: string }) => [s.step, s.status])).toEqual([
      ['load', 'succeeded'],
      ['check', 'succeeded'],
      ['summary', 'succeeded'],
    ]);
    const load = run.steps[0];
    expect(load.output).toMatchObject({ rowsRead: 3, rowsLoaded: 3 });
    // the step links to the ingestion run underneath, which ran the partition's file
    const ing = (await t.http.get(`/api/ingestion/runs/${load.ref.ingestionRun}`).set(admin).expect(200)).body;
    expect([ing.partition, ing.trigger, ing.rowsLoaded]).toEqual(['2026-12-01', 'pipeline', 3]);
    expect(run.steps[1].ref.qualityRuns).toHaveLength(1);
    expect((await pg.query(`SELECT day::text, n::int FROM mart.visit_days`)).rows).toEqual([
      { day: '2026-12-01', n: 3 },
    ]);
    const listed = (await t.http.get('/api/orchestration/runs?pipeline=visits_daily&partition=2026-12-01').set(admin))
      .body.items;
    expect(listed.map((r: { id: string }) => r.id)).toEqual([run.id]);
    // Prometheus: the run by pipeline and status, its steps' durations, the queue's depth
    // (counted just after the run's end is committed: the scrape may come first, so it is polled)
    const runsLine = /weir_pipeline_runs_total\{pipeline="visits_daily",status="succeeded"\} 1/;
    let metrics = '';
    for (let i = 0; i < 100 && !runsLine.test(metrics); i++) {
      metrics = (await t.http.get('/metrics').set(admin).expect(200)).text;
      if (!runsLine.test(metrics)) await new Promise((r) => setTimeout(r, 50));
    }
    expect(metrics).toMatch(runsLine);
    expect(metrics).toMatch(/weir_pipeline_step_duration_seconds_count\{kind="ingest",outcome="succeeded"\} 1/);
    expect(metrics).toMatch(/weir_pipeline_queue_depth \d+/);
  });

  it('retries a failing step with backoff, then fails it and skips its descendants; all_done still runs', async () => {
    await t.http
      .post('/api/orchestration/pipelines')
      .set(admin)
      .send({
        name: 'flaky',
        steps: [
          {
            id: 'bad',
            kind: 'sql',
            sql: 'SELECT * FROM mart.no_such_table',
            retries: { max_attempts: 3, base_delay: '20ms' },
          },
          { id: 'after', kind: 'sql', sql: 'SELECT 1', depends_on: ['bad'] },
          { id: 'later', kind: 'sql', sql: 'SELECT 1', depends_on: ['after'] },
          { id: 'cleanup', kind: 'sql', sql: 'SELECT 1', depends_on: ['bad'], trigger_rule: 'all_done' },
        ],
      })
      .expect(201);
    const started = (await t.http.post('/api/orchestration/pipelines/flaky/runs').set(admin).send({}).expect(201)).body;
    const run = await waitRun(started.id);
    expect(run.status).toBe('failed');
    const by = Object.fromEntries(run.steps.map((s: { step: string }) => [s.step, s]));
    expect([by.bad.status, by.bad.attempt, by.bad.maxAttempts]).toEqual(['failed', 3, 3]);
    expect(by.bad.error.message).toMatch(/no_such_table/);
    expect([by.after.status, by.later.status, by.cleanup.status]).toEqual(['skipped', 'skipped', 'succeeded']);
    expect(by.after.error.message).toMatch(/upstream "bad"/);
  });

  it('keeps every version; a run records the version it ran; the name cannot change; delete', async () => {
    const v2 = await t.http
      .put('/api/orchestration/pipelines/flaky')
      .set(admin)
      .send({ name: 'flaky', steps: [{ id: 'ok', kind: 'sql', sql: 'SELECT 1' }] })
      .expect(200);
    expect(v2.body.version).toBe(2);
    const versions = (await t.http.get('/api/orchestration/pipelines/flaky/versions').set(admin).expect(200)).body
      .items;
    expect(versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    const v1 = (await t.http.get('/api/orchestration/pipelines/flaky/versions/1').set(admin).expect(200)).body;
    expect(v1.steps.map((s: { id: string }) => s.id)).toEqual(['bad', 'after', 'later', 'cleanup']);
    const r = (await t.http.post('/api/orchestration/pipelines/flaky/runs').set(admin).send({}).expect(201)).body;
    expect(r.version).toBe(2);
    expect((await waitRun(r.id)).status).toBe('succeeded');
    await t.http.put('/api/orchestration/pipelines/flaky').set(admin).send({ name: 'renamed', steps: [] }).expect(400);
    await t.http.delete('/api/orchestration/pipelines/flaky').set(admin).expect(204);
    await t.http.get('/api/orchestration/pipelines/flaky').set(admin).expect(404);
  });

  it('a schedule fires each tick once, with the run it started; two scheduler passes at once claim a tick once', async () => {
    await t.http
      .post('/api/orchestration/pipelines')
      .set(admin)
      .send({
        name: 'every_second',
        schedule: { every: '1s', catchup: 'none' },
        steps: [{ id: 's', kind: 'sql', sql: 'SELECT 1' }],
      })
      .expect(201);
    const ticks = async () =>
      (
        await pg.query(
          `SELECT t.scheduled_at, t.run_id FROM orchestration.schedule_ticks t JOIN orchestration.pipelines p ON p.id = t.pipeline_id
            WHERE p.name = 'every_second' ORDER BY 1`,
        )
      ).rows as { scheduled_at: Date; run_id: string | null }[];
    for (let i = 0; i < 100 && (await ticks()).filter((x) => x.run_id).length < 3; i++)
      await new Promise((r) => setTimeout(r, 100));
    const fired = (await ticks()).filter((x) => x.run_id);
    expect(fired.length).toBeGreaterThanOrEqual(3);
    // one run per tick, its key the tick's time, started by the schedule
    const runs = (await t.http.get('/api/orchestration/runs?pipeline=every_second&limit=1000').set(admin)).body.items;
    for (const f of fired) {
      const r = runs.find((x: { id: string }) => x.id === f.run_id);
      expect([r.trigger, r.idempotencyKey]).toEqual(['schedule', `schedule:${new Date(f.scheduled_at).toISOString()}`]);
    }
    expect(new Set(runs.map((r: { idempotencyKey: string }) => r.idempotencyKey)).size).toBe(runs.length);
    // two schedulers passing at the same moment: the tick is claimed by one of them only
    const scheduler = t.app.get(SchedulerService);
    const now = new Date(Math.ceil(Date.now() / 1000) * 1000 + 5000);
    const [a, b] = await Promise.all([scheduler.pass(now), scheduler.pass(now)]);
    expect(a.length + b.length).toBe(1);
    await t.http.delete('/api/orchestration/pipelines/every_second?force=true').set(admin).expect(204);
  });

  it('backfills 60 daily partitions 4 at a time; a failing partition is a gap, closed by a re-run', async () => {
    const def = (failOn: string) => ({
      name: 'daily_facts',
      partitions: { kind: 'daily', start: '2026-10-01' },
      max_active_runs: 4,
      steps: [
        {
          id: 'fact',
          kind: 'sql',
          sql: `SELECT CASE WHEN $1 = '${failOn}' THEN 1 / 0 ELSE 1 END, pg_sleep(0.02)`,
        },
      ],
    });
    await t.http.post('/api/orchestration/pipelines').set(admin).send(def('2026-11-15')).expect(201);
    const bf = (
      await t.http
        .post('/api/orchestration/pipelines/daily_facts/backfills')
        .set(admin)
        .send({ from: '2026-11-01', to: '2026-12-30', maxParallel: 4 })
        .expect(201)
    ).body;
    expect([bf.partitions, bf.from, bf.to, bf.maxParallel]).toEqual([60, '2026-11-01', '2026-12-30', 4]);
    let peak = 0;
    let view = bf;
    for (let i = 0; i < 1200 && view.status === 'running'; i++) {
      const { rows } = await pg.query(
        `SELECT count(*)::int AS n FROM orchestration.runs WHERE backfill_id = $1 AND status IN ('queued', 'running')`,
        [bf.id],
      );
      peak = Math.max(peak, rows[0].n);
      await new Promise((r) => setTimeout(r, 25));
      view = (await t.http.get(`/api/orchestration/backfills/${bf.id}`).set(admin).expect(200)).body;
    }
    expect(view.status).toBe('failed');
    expect(view.counts).toMatchObject({ succeeded: 59, failed: 1, notStarted: 0 });
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(4);
    const page = (
      await t.http
        .get('/api/orchestration/pipelines/daily_facts/partitions?from=2026-11-01&to=2026-12-30&gaps=true')
        .set(admin)
    ).body;
    expect([page.total, page.gaps, page.items.map((x: { partition: string }) => x.partition)]).toEqual([
      60,
      1,
      ['2026-11-15'],
    ]);
    // the cause fixed, the partition run again: no gap left
    await t.http.put('/api/orchestration/pipelines/daily_facts').set(admin).send(def('never')).expect(200);
    const rerun = (
      await t.http
        .post('/api/orchestration/pipelines/daily_facts/runs')
        .set(admin)
        .send({ partition: '2026-11-15' })
        .expect(201)
    ).body;
    expect((await waitRun(rerun.id)).status).toBe('succeeded');
    const after = (
      await t.http.get('/api/orchestration/pipelines/daily_facts/partitions?from=2026-11-01&to=2026-12-30').set(admin)
    ).body;
    expect(after.gaps).toBe(0);
    expect(after.items.find((x: { partition: string }) => x.partition === '2026-11-15')).toMatchObject({
      status: 'succeeded',
      gap: false,
    });
  });

  it('cancels a run: its waiting steps are cancelled; a pipeline with a run going is not deleted', async () => {
    await t.http
      .post('/api/orchestration/pipelines')
      .set(admin)
      .send({
        name: 'slow',
        steps: [
          { id: 'sleep', kind: 'sql', sql: 'SELECT pg_sleep(1)' },
          { id: 'next', kind: 'sql', sql: 'SELECT 1', depends_on: ['sleep'] },
        ],
      })
      .expect(201);
    const r = (await t.http.post('/api/orchestration/pipelines/slow/runs').set(admin).send({}).expect(201)).body;
    // a pipeline with a run going is not deleted unless forced
    const refused = await t.http.delete('/api/orchestration/pipelines/slow').set(admin).expect(409);
    expect(refused.body.code).toBe('ORCHESTRATION.PIPELINE_IN_USE');
    expect(refused.body.dependents).toEqual([
      { kind: 'pipeline_run', name: r.id, detail: expect.stringMatching(/run$/), overridable: true },
    ]);
    const c = (await t.http.post(`/api/orchestration/runs/${r.id}/cancel`).set(admin).expect(200)).body;
    expect(c.status).toBe('cancelled');
    expect(c.steps.find((s: { step: string }) => s.step === 'next').status).toBe('cancelled');
    await t.http.get('/api/orchestration/runs/00000000-0000-0000-0000-000000000000').set(admin).expect(404);
  });
});
