import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { Outbox } from '@weir/platform';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, tempDataDir, until } from './support/files';

/**
 * A scheduled pipeline across the slices (ingest a file, run its suite, build a model) shown in
 * lineage as a parent run (job `pipeline.<name>`, type DAG) with the ingestion run, the quality run
 * and the build as its children (OpenLineage `parent` run facet); and data-aware schedules, fired
 * by the catalog's publish events once per publish (`when: any`) or once all datasets were updated
 * (`when: all`).
 */
describe('orchestration: lineage of pipeline runs, data-aware schedules', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let close: () => Promise<void>;
  const get = async (url: string) => (await t.http.get(url).set(admin).expect(200)).body;
  const runsOf = async (pipeline: string) => (await get(`/api/orchestration/runs?pipeline=${pipeline}`)).items;
  const ended = (r: { status: string }) => ['succeeded', 'failed', 'cancelled'].includes(r.status);
  let scheduledRun: { id: string; steps: { step: string; ref: Record<string, unknown> | null }[] };

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
    files.write('visits.csv', 'id,day\n1,2026-12-01\n2,2026-12-01\n3,2026-12-02\n');
    await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({
        name: 'visits_file',
        dataset: 'visits',
        format: 'csv',
        location: { path: 'visits.csv' },
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
    const project = path.join(files.dir, 'projects', 'daily');
    fs.mkdirSync(path.join(project, 'models'), { recursive: true });
    fs.writeFileSync(path.join(project, 'dbt_project.yml'), 'name: daily\n');
    fs.writeFileSync(
      path.join(project, 'models', 'visit_counts.sql'),
      "{{ config(materialized='table') }}\nselect day, count(*) as visits from raw.visits group by day\n",
    );
    await t.http.post('/api/modeling/projects').set(admin).send({ path: 'daily' }).expect(201);
    // data-aware schedules, defined before anything is loaded
    for (const [name, datasets, when] of [
      ['on_any_visit', ['visits'], 'any'],
      ['on_both', ['visits', 'visit_counts'], 'all'],
    ] as const)
      await t.http
        .post('/api/orchestration/pipelines')
        .set(admin)
        .send({ name, schedule: { datasets, when }, steps: [{ id: 'noop', kind: 'sql', sql: 'select 1' }] })
        .expect(201);
  }, 120_000);
  afterAll(async () => close?.());

  it('refuses a bad data-aware schedule with every problem and its path', async () => {
    const r = await t.http
      .post('/api/orchestration/pipelines')
      .set(admin)
      .send({
        name: 'bad_datasets',
        schedule: { datasets: ['ok', 'no spaces', 'ok'], when: 'some', cron: '@daily' },
        steps: [{ id: 'a', kind: 'sql', sql: 'select 1' }],
      })
      .expect(400);
    const text = JSON.stringify(r.body);
    expect(text).toContain('give exactly one of cron, every or datasets');
    expect(text).toContain('schedule.datasets[1]');
    expect(text).toContain('\\"ok\\" is listed twice');
    expect(text).toContain('schedule.when');
  });

  it('runs a scheduled pipeline ingest → check → build, its steps linked to the runs underneath', async () => {
    const daily = {
      name: 'daily_visits',
      steps: [
        { id: 'load', kind: 'ingest', source: 'visits_file' },
        { id: 'check', kind: 'check', suite: 'visits_checks', depends_on: ['load'] },
        { id: 'build', kind: 'build', project: 'daily', select: 'visit_counts', depends_on: ['check'] },
      ],
    };
    await t.http
      .post('/api/orchestration/pipelines')
      .set(admin)
      .send({ ...daily, schedule: { every: '1s', catchup: 'none' } })
      .expect(201);
    const first = await until(
      'a scheduled run of daily_visits',
      async () => (await runsOf('daily_visits')).find((r: { trigger: string }) => r.trigger === 'schedule'),
      30_000,
    );
    // one run is enough: the schedule is removed (a new version), no restart
    await t.http.put('/api/orchestration/pipelines/daily_visits').set(admin).send(daily).expect(200);
    const done = await until(
      'the scheduled run to end',
      async () => {
        const r = await get(`/api/orchestration/runs/${first.id}`);
        return ended(r) && r;
      },
      120_000,
    );
    expect(done.status).toBe('succeeded');
    scheduledRun = done;
    const ref = (id: string) => done.steps.find((s: { step: string }) => s.step === id).ref;
    expect(ref('load').ingestionRun).toEqual(expect.any(String));
    expect(ref('check').qualityRuns).toHaveLength(1);
    expect(ref('build').build).toEqual(expect.any(String));
  }, 180_000);

  it('shows the pipeline run in lineage as the parent of its steps’ runs (OpenLineage parent facet)', async () => {
    await t.app.get(Outbox).drain(30_000);
    const ref = (id: string) => scheduledRun.steps.find((s) => s.step === id)!.ref!;
    const events = async (job: string) =>
      (await pg.query(`SELECT payload FROM lineage.events WHERE job_name = $1 ORDER BY id`, [job])).rows.map(
        (r) => r.payload,
      );
    const own = (await events('pipeline.daily_visits')).filter((e) => e.run.runId === scheduledRun.id);
    expect(own.map((e) => e.eventType)).toEqual(['START', 'COMPLETE']);
    expect(own[0].job.facets.jobType).toMatchObject({ jobType: 'DAG', integration: 'WEIR' });
    const parentFacet = { run: { runId: scheduledRun.id }, job: { name: 'pipeline.daily_visits' } };
    for (const [job, runId] of [
      ['ingestion.visits_file', ref('load').ingestionRun],
      ['quality.visits_checks', (ref('check').qualityRuns as string[])[0]],
      ['build.daily', ref('build').build],
    ] as [string, string][]) {
      const evs = (await events(job)).filter((e) => e.run.runId === runId);
      expect(evs.length).toBeGreaterThanOrEqual(2);
      for (const e of evs) expect(e.run.facets.parent).toMatchObject(parentFacet);
    }
    // the Marquez-compatible API shows the parent of the ingestion run, and the pipeline run itself
    const child = await get(`/api/v1/jobs/runs/${ref('load').ingestionRun}`);
    expect(child.parentRunId ?? child.parentRun?.runId).toBe(scheduledRun.id);
    const parent = await get(`/api/v1/jobs/runs/${scheduledRun.id}`);
    expect(parent.state).toBe('COMPLETED');
    // the model the build made is a grandchild: its parent is the build
    const model = (await events('model.daily.visit_counts')).at(-1);
    expect(model.run.facets.parent).toMatchObject({ run: { runId: ref('build').build }, job: { name: 'build.daily' } });
  }, 60_000);

  it('fires data-aware schedules from the catalog’s publish events: any once per publish, all once both were updated', async () => {
    // the scheduled run loaded visits once and built visit_counts once
    const anyRuns = await until('the run of on_any_visit', async () => {
      const rs = await runsOf('on_any_visit');
      return rs.length >= 1 && rs.every(ended) && rs;
    });
    const bothRuns = await until('the run of on_both', async () => {
      const rs = await runsOf('on_both');
      return rs.length >= 1 && rs.every(ended) && rs;
    });
    const publishes = async (dataset: string) =>
      Number(
        (
          await pg.query(
            `SELECT count(*)::int AS n FROM platform.outbox WHERE topic = 'weir.dataset.updated' AND payload->>'dataset' = $1`,
            [dataset],
          )
        ).rows[0].n,
      );
    expect(await publishes('visits')).toBe(1);
    expect(anyRuns).toHaveLength(1);
    expect(anyRuns[0]).toMatchObject({ trigger: 'dataset', status: 'succeeded' });
    expect(bothRuns).toHaveLength(1);
    const both = await get(`/api/orchestration/runs/${bothRuns[0].id}`);
    expect(both.params.datasets.map((d: { dataset: string }) => d.dataset)).toEqual(['visits', 'visit_counts']);

    // a second load of visits (new bytes): any fires again; all waits for visit_counts
    files.write('visits.csv', 'id,day\n4,2026-12-03\n');
    const run = await t.http.post('/api/ingestion/sources/visits_file/runs').set(admin).send({}).expect(202);
    await until('the second load', async () => {
      const r = await get(`/api/ingestion/runs/${run.body.id}`);
      return r.status === 'succeeded' && r;
    });
    await t.app.get(Outbox).drain(30_000);
    await until('a second run of on_any_visit', async () => (await runsOf('on_any_visit')).length === 2);
    expect(await publishes('visits')).toBe(2);
    await new Promise((r) => setTimeout(r, 500));
    expect(await runsOf('on_both')).toHaveLength(1);
    // the other half: a build of visit_counts completes the set
    await t.http.post('/api/modeling/builds').set(admin).send({ project: 'daily', select: 'visit_counts' }).expect(202);
    await until('a second run of on_both', async () => (await runsOf('on_both')).length === 2, 60_000);
    await t.app.get(Outbox).drain(30_000);
    expect(await runsOf('on_any_visit')).toHaveLength(2);
    expect(await runsOf('on_both')).toHaveLength(2);
  }, 180_000);

  it('defines the pipelines of a registered dbt-layout project (pipelines/*.yml); an invalid one refuses the registration, by file', async () => {
    const root = path.join(files.dir, 'projects', 'with_pipes');
    fs.mkdirSync(path.join(root, 'models'), { recursive: true });
    fs.mkdirSync(path.join(root, 'pipelines'), { recursive: true });
    fs.writeFileSync(path.join(root, 'dbt_project.yml'), 'name: with_pipes\n');
    fs.writeFileSync(path.join(root, 'models', 'one.sql'), 'select 1 as one\n');
    fs.writeFileSync(
      path.join(root, 'pipelines', 'nightly.yml'),
      'name: nightly_pipes\nschedule:\n  cron: "0 3 * * *"\n  timezone: Europe/Paris\nsteps:\n  - id: build\n    kind: build\n    project: with_pipes\n',
    );
    fs.writeFileSync(
      path.join(root, 'pipelines', 'broken.yaml'),
      'name: broken_pipes\nsteps:\n  - id: a\n    kind: teleport\n',
    );
    const refused = await t.http.post('/api/modeling/projects').set(admin).send({ path: 'with_pipes' }).expect(400);
    expect(refused.body.code).toBe('ORCHESTRATION.INVALID_PIPELINE');
    expect(refused.body.problems).toEqual([
      expect.stringMatching(/^pipelines\/broken\.yaml: steps\[0\]\.kind: .*teleport/),
    ]);
    expect((await t.http.get('/api/modeling/projects/with_pipes').set(admin)).status).toBe(404);
    expect((await t.http.get('/api/orchestration/pipelines/nightly_pipes').set(admin)).status).toBe(404);
    fs.rmSync(path.join(root, 'pipelines', 'broken.yaml'));
    await t.http.post('/api/modeling/projects').set(admin).send({ path: 'with_pipes' }).expect(201);
    const p = await get('/api/orchestration/pipelines/nightly_pipes');
    expect([p.version, p.spec.schedule.timezone, p.spec.steps[0].project]).toEqual([1, 'Europe/Paris', 'with_pipes']);
    // a refresh with the file changed makes a new version; unchanged, none
    await t.http.post('/api/modeling/projects').set(admin).send({ path: 'with_pipes' }).expect(201);
    expect((await get('/api/orchestration/pipelines/nightly_pipes')).version).toBe(1);
    fs.appendFileSync(path.join(root, 'pipelines', 'nightly.yml'), 'max_active_runs: 2\n');
    await t.http.post('/api/modeling/projects').set(admin).send({ path: 'with_pipes' }).expect(201);
    expect((await get('/api/orchestration/pipelines/nightly_pipes')).version).toBe(2);
  });
});
