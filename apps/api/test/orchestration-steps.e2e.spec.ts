import { Client } from 'pg';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, tempDataDir, until } from './support/files';

interface StepView {
  step: string;
  status: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: { code: string | null; message: string } | null;
  ref: Record<string, unknown> | null;
  output: Record<string, unknown> | null;
}

/**
 * The steps that wait on other pipelines and datasets (`wait_for`, `pipeline`) and pools, on the
 * real app: a partition awaited, a dataset fresh enough (or the wait given up), a child pipeline
 * run with the parent's partition that fails or is cancelled with it, cycles of pipeline steps
 * refused (at definition and at run time), and a pool of one slot shared by two pipelines.
 */
describe('orchestration steps e2e: wait_for, pipeline, pools', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let close: () => Promise<void>;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const define = (def: Record<string, unknown>) =>
    t.http.post('/api/orchestration/pipelines').set(admin).send(def).expect(201);
  const trigger = async (pipeline: string, body: Record<string, unknown> = {}) =>
    (await t.http.post(`/api/orchestration/pipelines/${pipeline}/runs`).set(admin).send(body).expect(201)).body;
  const getRun = async (id: string) => (await t.http.get(`/api/orchestration/runs/${id}`).set(admin).expect(200)).body;
  const waitRun = (id: string) =>
    until(
      `run ${id} to end`,
      async () => {
        const r = await getRun(id);
        return ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : null;
      },
      60_000,
    );
  const stepOf = (run: { steps: StepView[] }, id: string) => run.steps.find((s) => s.step === id)!;

  beforeAll(async () => {
    // the waiting steps look again every 4 polls: 200 ms here
    ({ t, files, pg, close } = await startIngestionApp({ WEIR_STEP_POLL_MS: '50', WEIR_SCHEDULER_TICK_MS: '100' }));
  });
  afterAll(() => close?.());

  it('wait_for a pipeline partition: waits until that partition of the other pipeline succeeded', async () => {
    const daily = { kind: 'daily', start: '2026-11-01' };
    await define({ name: 'upstream_daily', partitions: daily, steps: [{ id: 'u', kind: 'sql', sql: 'SELECT 1' }] });
    await define({
      name: 'downstream_daily',
      partitions: daily,
      steps: [
        { id: 'wait', kind: 'wait_for', pipeline: 'upstream_daily', wait: '30s' },
        { id: 'use', kind: 'sql', sql: 'SELECT 1', depends_on: ['wait'] },
      ],
    });
    const down = await trigger('downstream_daily', { partition: '2026-12-02' });
    // another partition of the upstream pipeline is not the one waited for
    expect((await waitRun((await trigger('upstream_daily', { partition: '2026-12-01' })).id)).status).toBe('succeeded');
    await until('the wait step to run', async () => stepOf(await getRun(down.id), 'wait').status === 'running');
    await sleep(600);
    let r = await getRun(down.id);
    expect([r.status, stepOf(r, 'wait').status, stepOf(r, 'use').status]).toEqual(['running', 'running', 'pending']);
    const up = await trigger('upstream_daily', { partition: '2026-12-02' });
    expect((await waitRun(up.id)).status).toBe('succeeded');
    r = await waitRun(down.id);
    expect(r.status).toBe('succeeded');
    expect(stepOf(r, 'wait').output).toMatchObject({ pipelineRun: up.id, partition: '2026-12-02' });
  });

  it('wait_for a dataset fresher than fresh_within: gives up with WAIT_TIMED_OUT when stale, succeeds after a load', async () => {
    await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({
        name: 'signals',
        contract: { columns: [{ name: 'id', type: 'integer', nullable: false, primaryKey: true }] },
      })
      .expect(201);
    const src = (
      await t.http
        .post('/api/ingestion/sources')
        .set(admin)
        .send({ name: 'signals_src', dataset: 'signals', format: 'csv', strategy: { kind: 'merge' } })
        .expect(201)
    ).body;
    files.write('signals.csv', 'id\n1\n2\n');
    const wait = (name: string, waitFor: string, extra: Record<string, unknown> = {}) =>
      define({
        name,
        steps: [{ id: 'fresh', kind: 'wait_for', dataset: waitFor, fresh_within: '1h', wait: '1s', ...extra }],
      });
    // never loaded: the wait is given up after 1 s, with its code
    await wait('needs_signals_soon', 'signals');
    const t0 = Date.now();
    let r = await waitRun((await trigger('needs_signals_soon')).id);
    expect([r.status, stepOf(r, 'fresh').error?.code]).toEqual(['failed', 'ORCHESTRATION.WAIT_TIMED_OUT']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    // a dataset that does not exist fails at once, with its own code
    await wait('needs_nothing', 'no_such_dataset');
    r = await waitRun((await trigger('needs_nothing')).id);
    expect([r.status, stepOf(r, 'fresh').error?.code]).toEqual(['failed', 'ORCHESTRATION.WAIT_TARGET_NOT_FOUND']);
    // loaded while the step waits: it succeeds
    await wait('needs_signals', 'signals', { wait: '30s' });
    const waiting = await trigger('needs_signals');
    await until('the wait step to run', async () => stepOf(await getRun(waiting.id), 'fresh').status === 'running');
    const ing = await t.http
      .post(`/api/ingestion/sources/${src.id}/runs`)
      .set(admin)
      .send({ path: 'signals.csv' })
      .expect(202);
    r = await waitRun(waiting.id);
    expect(r.status).toBe('succeeded');
    expect(stepOf(r, 'fresh').output).toMatchObject({ dataset: 'signals' });
    const loaded = (await t.http.get(`/api/ingestion/runs/${ing.body.id}`).set(admin).expect(200)).body;
    expect(loaded.status).toBe('succeeded');
  });

  it('a pipeline step runs the other pipeline with its partition and params; its failure fails the parent', async () => {
    const daily = { kind: 'daily', start: '2026-11-01' };
    await define({
      name: 'child_daily',
      partitions: daily,
      steps: [{ id: 'c', kind: 'sql', sql: `SELECT CASE WHEN $1 = '2026-12-09' THEN 1 / 0 ELSE 1 END` }],
    });
    await define({
      name: 'parent_daily',
      partitions: daily,
      steps: [
        { id: 'sub', kind: 'pipeline', pipeline: 'child_daily' },
        { id: 'after', kind: 'sql', sql: 'SELECT 1', depends_on: ['sub'] },
      ],
    });
    let r = await waitRun((await trigger('parent_daily', { partition: '2026-12-08', params: { who: 'me' } })).id);
    expect(r.status).toBe('succeeded');
    const childId = stepOf(r, 'sub').ref!['pipelineRun'] as string;
    const child = await getRun(childId);
    expect([child.pipeline, child.status, child.partition, child.params, child.trigger, child.createdBy]).toEqual([
      'child_daily',
      'succeeded',
      '2026-12-08',
      { who: 'me' },
      'pipeline',
      `pipeline-run:${r.id}`,
    ]);
    expect(stepOf(r, 'sub').output).toMatchObject({ pipelineRun: childId, pipeline: 'child_daily' });

    r = await waitRun((await trigger('parent_daily', { partition: '2026-12-09' })).id);
    expect([r.status, stepOf(r, 'sub').status, stepOf(r, 'after').status]).toEqual(['failed', 'failed', 'skipped']);
    const failedChild = await getRun(stepOf(r, 'sub').ref!['pipelineRun'] as string);
    expect([failedChild.status, failedChild.partition]).toEqual(['failed', '2026-12-09']);
    expect(stepOf(r, 'sub').error?.message).toMatch(new RegExp(`child_daily: run ${failedChild.id} failed`));
  });

  it('cancelling the parent run cancels its child run', async () => {
    await define({ name: 'slow_child', steps: [{ id: 'nap', kind: 'sql', sql: 'SELECT pg_sleep(2)' }] });
    await define({ name: 'slow_parent', steps: [{ id: 'sub', kind: 'pipeline', pipeline: 'slow_child' }] });
    const parent = await trigger('slow_parent');
    const childId = await until(
      'the child run',
      async () => stepOf(await getRun(parent.id), 'sub').ref?.['pipelineRun'] as string | undefined,
    );
    const c = (await t.http.post(`/api/orchestration/runs/${parent.id}/cancel`).set(admin).expect(200)).body;
    expect(c.status).toBe('cancelled');
    const child = await waitRun(childId);
    expect(child.status).toBe('cancelled');
    // the parent's step is cancelled with its run (its worker stops waiting at its next renewal)
    expect(stepOf(await getRun(parent.id), 'sub').status).toBe('cancelled');
  });

  it('refuses a cycle of pipeline steps with its path; a cycle made behind its back is refused at run time', async () => {
    const sql = { id: 's', kind: 'sql', sql: 'SELECT 1' };
    await define({ name: 'cyc_a', steps: [sql] });
    await define({ name: 'cyc_b', steps: [{ id: 'run_a', kind: 'pipeline', pipeline: 'cyc_a' }] });
    await define({ name: 'cyc_c', steps: [{ id: 'run_b', kind: 'pipeline', pipeline: 'cyc_b' }] });
    const refused = await t.http
      .put('/api/orchestration/pipelines/cyc_a')
      .set(admin)
      .send({ name: 'cyc_a', steps: [sql, { id: 'run_c', kind: 'pipeline', pipeline: 'cyc_c' }] })
      .expect(400);
    expect(refused.body.code).toBe('ORCHESTRATION.INVALID_PIPELINE');
    expect(refused.body.problems).toEqual([
      'steps[1].pipeline: a cycle of pipeline steps: cyc_a -> cyc_c -> cyc_b -> cyc_a',
    ]);
    // a pipeline naming itself, or one that does not exist, is refused too
    const self = await t.http
      .post('/api/orchestration/pipelines')
      .set(admin)
      .send({ name: 'cyc_self', steps: [{ id: 'x', kind: 'pipeline', pipeline: 'cyc_self' }] })
      .expect(400);
    expect(self.body.problems.join()).toMatch(/cannot run or wait for itself/);
    const unknown = await t.http
      .post('/api/orchestration/pipelines')
      .set(admin)
      .send({ name: 'waits_for_nothing', steps: [{ id: 'y', kind: 'wait_for', pipeline: 'no_such_pipeline' }] })
      .expect(400);
    expect(unknown.body.problems).toEqual(['steps[0].pipeline: unknown pipeline "no_such_pipeline"']);
    // the store changed by hand (a version written around the API): the run refuses to go round
    const spec = { ...(await t.http.get('/api/orchestration/pipelines/cyc_a').set(admin)).body.spec };
    spec.steps = [{ ...spec.steps[0], id: 'run_c', kind: 'pipeline', pipeline: 'cyc_c', sql: undefined }];
    await pg.query(
      `WITH p AS (UPDATE orchestration.pipelines SET version = version + 1, spec = $1 WHERE name = 'cyc_a' RETURNING id, version)
       INSERT INTO orchestration.pipeline_versions (pipeline_id, version, spec) SELECT id, version, $1 FROM p`,
      [JSON.stringify(spec)],
    );
    const r = await waitRun((await trigger('cyc_c')).id);
    expect(r.status).toBe('failed');
    // cyc_c -> cyc_b -> cyc_a -> cyc_c: the innermost step refuses, each parent fails with its child
    const b = await getRun(stepOf(r, 'run_b').ref!['pipelineRun'] as string);
    const a = await getRun(stepOf(b, 'run_a').ref!['pipelineRun'] as string);
    expect(stepOf(a, 'run_c').error).toEqual({
      code: 'ORCHESTRATION.SUB_PIPELINE_REFUSED',
      message: 'step run_c: pipeline cyc_c is already running above this run: cyc_c -> cyc_b -> cyc_a -> cyc_c',
    });
    expect([a.status, b.status]).toEqual(['failed', 'failed']);
  });

  it('a pool of one slot, shared by two pipelines: their steps never run at the same time', async () => {
    const put = await t.http
      .put('/api/orchestration/pools/single')
      .set(admin)
      .send({ slots: 1, description: 'one at a time' })
      .expect(201);
    expect([put.body.name, put.body.slots, put.body.defined]).toEqual(['single', 1, true]);
    await t.http.put('/api/orchestration/pools/single').set(admin).send({ slots: 1 }).expect(200);
    await t.http.put('/api/orchestration/pools/Bad Name').set(admin).send({ slots: 1 }).expect(400);
    await t.http.put('/api/orchestration/pools/single').set(admin).send({ slots: -1 }).expect(400);
    const nap = (id: string) => ({ id, kind: 'sql', sql: 'SELECT pg_sleep(0.5)', pool: 'single' });
    await define({ name: 'pool_a', steps: [nap('a1'), nap('a2')] });
    await define({ name: 'pool_b', steps: [nap('b1'), nap('b2')] });
    const runs = [await trigger('pool_a'), await trigger('pool_b')];
    let peak = 0;
    let pools: { name: string; slots: number; running: number; queued: number; pipelines: string[] }[] = [];
    for (let i = 0; i < 200; i++) {
      pools = (await t.http.get('/api/orchestration/pools').set(admin).expect(200)).body.items;
      peak = Math.max(peak, pools.find((p) => p.name === 'single')!.running);
      const ended = await Promise.all(runs.map((r) => getRun(r.id)));
      if (ended.every((r) => r.status === 'succeeded')) break;
      await sleep(50);
    }
    expect(peak).toBe(1);
    expect(pools.find((p) => p.name === 'single')).toMatchObject({ slots: 1, pipelines: ['pool_a', 'pool_b'] });
    const steps: StepView[] = (await Promise.all(runs.map((r) => waitRun(r.id)))).flatMap((r) => r.steps);
    expect(steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    // from the step runs' own timings: each starts after the one before it ended
    const spans = steps.map((s) => [Date.parse(s.startedAt!), Date.parse(s.finishedAt!)]).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
    // a pool named by no definition has the default slots (16)
    await t.http.delete('/api/orchestration/pools/single').set(admin).expect(204);
    expect((await t.http.get('/api/orchestration/pools/single').set(admin).expect(200)).body).toMatchObject({
      slots: 16,
      defined: false,
    });
    await t.http.delete('/api/orchestration/pools/single').set(admin).expect(404);
  });
});
