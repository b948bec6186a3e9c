import { DataSource } from 'typeorm';
import { controlPlaneOptions, loadConfig, Outbox, RunStateEvent } from '@weir/platform';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';
import type { RunQueue } from '../src/application/ports/run-queue.port';
import { PgRunQueue } from '../src/infrastructure/run-queue.repository';
import { ORCHESTRATION_ENTITIES } from '../src/orchestration.entities';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The run queue on PostgreSQL: leases shared by workers, renewals, retries, expiry, cancel. */
describe('RunQueue contract: PostgreSQL (orchestration.runs, step_runs)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let queue: RunQueue;
  let pipelineId: string;
  const newRun = (key: string, steps = ['a', 'b']) =>
    queue.create({
      pipelineId,
      version: 1,
      trigger: 'api',
      partition: '2026-12-01',
      params: { x: 1 },
      idempotencyKey: key,
      createdBy: null,
      steps: steps.map((s) => ({ stepId: s, kind: 'sql' as const, maxAttempts: 2 })),
    });
  const queueAll = (runId: string, ids: string[]) => queue.plan(runId, () => ({ queue: ids, skip: [] }));
  /** A run (of its own key) with its steps queued at once, each in the pool given (null: none). */
  const pooledRun = async (key: string, steps: [string, string | null][], kind: 'sql' | 'wait_for' = 'sql') => {
    const r = await queue.create({
      pipelineId,
      version: 1,
      trigger: 'api',
      partition: null,
      params: {},
      idempotencyKey: key,
      createdBy: null,
      steps: steps.map(([stepId, pool]) => ({ stepId, kind, maxAttempts: 1, pool })),
    });
    await queueAll(
      r.id,
      steps.map(([id]) => id),
    );
    return r;
  };
  const leaseAll = async (n: number, opts?: Parameters<RunQueue['lease']>[2]) =>
    (await Promise.all(Array.from({ length: n }, (_, i) => queue.lease(`w${i}`, 30_000, opts)))).filter(
      (l) => l !== null,
    );

  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'weir_run_queue' });
    ds = await new DataSource({
      ...controlPlaneOptions(db.url, { entities: ORCHESTRATION_ENTITIES }),
      logging: false,
    }).initialize();
    queue = new PgRunQueue(ds, new Outbox(ds, loadConfig({ DATABASE_URL: db.url, WEIR_ROLES: 'api' })));
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });
  beforeEach(async () => {
    await ds.query('DELETE FROM orchestration.pipelines');
    await ds.query('DELETE FROM orchestration.pools');
    [{ id: pipelineId }] = await ds.query(
      `INSERT INTO orchestration.pipelines (name, version, spec) VALUES ('p', 1, '{"concurrency": 10}') RETURNING id`,
    );
    await ds.query(
      `INSERT INTO orchestration.pipeline_versions (pipeline_id, version, spec) VALUES ($1, 1, '{"concurrency": 10}'),
              ($1, 2, '{"concurrency": 1}')`,
      [pipelineId],
    );
  });

  it('creates a run with its steps pending; the first plan queues steps and marks the run running', async () => {
    const r = await newRun('k1');
    expect([r.status, r.partition, r.params]).toEqual(['queued', '2026-12-01', { x: 1 }]);
    expect((await queue.find(r.id))!.steps.map((s) => [s.stepId, s.status, s.attempt])).toEqual([
      ['a', 'pending', 0],
      ['b', 'pending', 0],
    ]);
    await queueAll(r.id, ['a']);
    const found = (await queue.find(r.id))!;
    expect(found.run.status).toBe('running');
    expect(found.steps.map((s) => s.status)).toEqual(['queued', 'pending']);
    expect((await queue.findLive(pipelineId, 'k1'))?.id).toBe(r.id);
    expect(await queue.activeRuns(pipelineId)).toBe(1);
  });

  it('two triggers with one key at once: one creates the run, the other gets it; promotion is one at a time', async () => {
    const mk = () =>
      queue.createOrFind({
        pipelineId,
        version: 1,
        trigger: 'api',
        partition: null,
        params: {},
        idempotencyKey: 'same',
        createdBy: null,
        steps: [{ stepId: 'a', kind: 'sql' as const, maxAttempts: 1 }],
      });
    const [x, y] = await Promise.all([mk(), mk()]);
    expect([x.created, y.created].sort()).toEqual([false, true]);
    expect(x.run.id).toBe(y.run.id);
    let inner: boolean | undefined;
    const outer = await queue.whilePromoting(pipelineId, async () => {
      inner = await queue.whilePromoting(pipelineId, async () => undefined);
    });
    expect([outer, inner]).toEqual([true, false]);
  });

  it('starts a queued run only while its pipeline has a free slot, counted under the pipeline lock across plans at once', async () => {
    const runs = await Promise.all(['m1', 'm2', 'm3', 'm4'].map((k) => newRun(k, ['a'])));
    const startIf = { pipelineId, maxActiveRuns: 2 };
    const got = await Promise.all(
      runs.map((r) => queue.plan(r.id, () => ({ queue: ['a'], skip: [] }), undefined, { queued: true, startIf })),
    );
    expect(got.sort()).toEqual(['queued', 'queued', 'running', 'running']);
    expect(await queue.countRuns(pipelineId, 'running')).toBe(2);
    expect((await queue.startable(pipelineId, 2)).length).toBe(0);
    expect((await queue.startable(pipelineId, 3)).length).toBe(1);
  });

  it('leases each ready step to one worker only, with the run partition and params', async () => {
    const r = await newRun('k2', ['a', 'b', 'c']);
    await queueAll(r.id, ['a', 'b', 'c']);
    // five workers at once, then whatever they left: every step leased once, none twice
    const leased = await Promise.all([1, 2, 3, 4, 5].map((i) => queue.lease(`w${i}`, 30_000)));
    for (let l = await queue.lease('w6', 30_000); l; l = await queue.lease('w6', 30_000)) leased.push(l);
    const got = leased.filter((l) => l !== null);
    expect(got.length).toBe(3);
    expect(new Set(got.map((l) => l!.stepId)).size).toBe(3);
    expect(got[0]).toMatchObject({ status: 'running', attempt: 1, partition: '2026-12-01', params: { x: 1 } });
    expect(await queue.lease('w9', 30_000)).toBeNull();
  });

  it("keeps a run's steps running at once within its version's concurrency", async () => {
    const r = await queue.create({
      pipelineId,
      version: 2,
      trigger: 'api',
      partition: null,
      params: {},
      idempotencyKey: 'conc',
      createdBy: null,
      steps: ['a', 'b', 'c'].map((s) => ({ stepId: s, kind: 'sql' as const, maxAttempts: 1 })),
    });
    await queueAll(r.id, ['a', 'b', 'c']);
    const first = (await queue.lease('w1', 30_000))!;
    expect(await Promise.all([queue.lease('w2', 30_000), queue.lease('w3', 30_000)])).toEqual([null, null]);
    await queue.succeed(first.id, 'w1', 1, null);
    expect((await queue.lease('w2', 30_000))?.stepId).toBe('b');
  });

  it("under contention from many workers at once, a run's concurrency of 1 runs one step", async () => {
    const r = await queue.create({
      pipelineId,
      version: 2,
      trigger: 'api',
      partition: null,
      params: {},
      idempotencyKey: 'conc-many',
      createdBy: null,
      steps: Array.from({ length: 10 }, (_, i) => ({ stepId: `s${i}`, kind: 'sql' as const, maxAttempts: 1 })),
    });
    await queueAll(
      r.id,
      Array.from({ length: 10 }, (_, i) => `s${i}`),
    );
    const got = [];
    for (let round = 0; round < 3; round++) got.push(...(await leaseAll(20)));
    expect(got).toHaveLength(1);
  });

  it('a run whose last steps end at once ends once, whichever plan sees it; a plan that changes nothing leaves it running', async () => {
    const r = await newRun('ends', ['a', 'b']);
    await queueAll(r.id, ['a', 'b']);
    const [x, y] = await leaseAll(2);
    const decide = (states: Map<string, string>) =>
      [...states.values()].every((s) => s === 'succeeded')
        ? { queue: [], skip: [], end: { status: 'succeeded' as const, error: null } }
        : { queue: [], skip: [] };
    await queue.succeed(x!.id, x!.leaseOwner!, 1, null);
    expect(await queue.plan(r.id, decide)).toBe('running');
    await queue.succeed(y!.id, y!.leaseOwner!, 1, null);
    const ends = await Promise.all([queue.plan(r.id, decide), queue.plan(r.id, decide), queue.plan(r.id, decide)]);
    expect(ends.sort()).toEqual([null, null, 'succeeded']);
    expect((await queue.findRun(r.id))!.status).toBe('succeeded');
  });

  it('renews only its own lease; success ends it; a lost lease records nothing', async () => {
    const r = await newRun('k3');
    await queueAll(r.id, ['a']);
    const l = (await queue.lease('w1', 30_000))!;
    expect(await queue.renew(l.id, 'w1', 1, 30_000)).toBe(true);
    expect(await queue.renew(l.id, 'w2', 1, 30_000)).toBe(false);
    // an older attempt of the same owner holds the lease no more
    expect(await queue.renew(l.id, 'w1', 0, 30_000)).toBe(false);
    expect(await queue.succeed(l.id, 'w2', 1, null)).toBe(false);
    expect(await queue.succeed(l.id, 'w1', 0, null)).toBe(false);
    expect(await queue.succeed(l.id, 'w1', 1, { rows: 3 })).toBe(true);
    const s = (await queue.find(r.id))!.steps[0];
    expect([s.status, s.output, s.leaseOwner]).toEqual(['succeeded', { rows: 3 }, null]);
  });

  it('a failed attempt waits its backoff before another lease; the last attempt fails the step', async () => {
    const r = await newRun('k4', ['a']);
    await queueAll(r.id, ['a']);
    const l1 = (await queue.lease('w1', 30_000))!;
    expect(await queue.fail(l1.id, 'w1', 1, { code: 'X', message: 'boom', retryInMs: 300 })).toBe(true);
    let s = (await queue.find(r.id))!.steps[0];
    expect([s.status, s.attempt, s.error]).toEqual(['queued', 1, 'boom']);
    expect(await queue.lease('w1', 30_000)).toBeNull(); // not before its backoff
    await sleep(350);
    const l2 = (await queue.lease('w2', 30_000))!;
    expect([l2.stepId, l2.attempt]).toEqual(['a', 2]);
    expect(await queue.fail(l2.id, 'w2', 2, { code: 'X', message: 'boom again', retryInMs: 10 })).toBe(true);
    s = (await queue.find(r.id))!.steps[0];
    expect([s.status, s.attempt, s.errorCode, s.finishedAt !== null]).toEqual(['failed', 2, 'X', true]);
  });

  it('takes back an expired lease (a dead worker): queued again while attempts are left, else failed', async () => {
    const r = await newRun('k5', ['a']);
    await queueAll(r.id, ['a']);
    await queue.lease('dead-1', 50);
    await sleep(120);
    expect(await queue.reclaimExpired()).toEqual([r.id]);
    let s = (await queue.find(r.id))!.steps[0];
    expect([s.status, s.errorCode]).toEqual(['queued', 'ORCHESTRATION.LEASE_EXPIRED']);
    const again = (await queue.lease('w2', 50))!;
    expect(again.attempt).toBe(2);
    await sleep(120);
    await queue.reclaimExpired();
    s = (await queue.find(r.id))!.steps[0];
    expect([s.status, s.error]).toEqual([
      'failed',
      'the worker running it stopped renewing its lease (crash or kill); no attempt left',
    ]);
    expect(await queue.reclaimExpired()).toEqual([]);
  });

  it('finds the runs nothing moves on: running with no step queued or running, and queued ones', async () => {
    const stuck = await newRun('st1', ['a']);
    await queueAll(stuck.id, []); // running, its only step still pending: a plan was lost
    const moving = await newRun('st2', ['a']);
    await queueAll(moving.id, ['a']);
    const waiting = await newRun('st3', ['a']);
    const stalled = await queue.stalledRuns();
    expect(stalled.map((r) => [r.id, r.status]).sort()).toEqual(
      [
        [stuck.id, 'running'],
        [waiting.id, 'queued'],
      ].sort(),
    );
  });

  it('plans under the run lock: skips with their reason, the run ends once; cancel stops the rest', async () => {
    const r = await newRun('k6', ['a', 'b']);
    await queue.plan(r.id, () => ({ queue: [], skip: [{ stepId: 'b', reason: 'upstream "a" failed' }] }));
    expect((await queue.find(r.id))!.steps[1]).toMatchObject({ status: 'skipped', error: 'upstream "a" failed' });
    await queue.plan(r.id, () => ({ queue: [], skip: [], end: { status: 'failed', error: 'a failed' } }));
    expect((await queue.find(r.id))!.run).toMatchObject({ status: 'failed', error: 'a failed' });
    // an ended run is planned no more, and cannot be cancelled
    let asked = false;
    await queue.plan(r.id, () => {
      asked = true;
      return { queue: [], skip: [] };
    });
    expect(asked).toBe(false);
    expect(await queue.cancel(r.id)).toBe(false);
    const c = await newRun('k7', ['a', 'b']);
    await queueAll(c.id, ['a']);
    expect(await queue.cancel(c.id)).toBe(true);
    const found = (await queue.find(c.id))!;
    expect([found.run.status, ...found.steps.map((s) => s.status)]).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(await queue.lease('w1', 30_000)).toBeNull();
    expect(await queue.findLive(pipelineId, 'k7')).toBeNull();
  });

  it('publishes the run event of each state change with it, once: START, COMPLETE or FAIL, ABORT', async () => {
    await ds.query(`DELETE FROM platform.outbox`);
    const announce = (id: string) => (state: RunStateEvent['state'], error: string | null) =>
      ({
        slice: 'orchestration',
        job: 'pipeline.p',
        jobType: 'DAG',
        runId: id,
        state,
        at: 'now',
        inputs: [],
        outputs: [],
        ...(error ? { error: { code: 'X', message: error } } : {}),
      }) as RunStateEvent;
    const events = async () =>
      (
        (await ds.query(`SELECT key, payload FROM platform.outbox WHERE topic = 'weir.run' ORDER BY id`)) as {
          key: string;
          payload: RunStateEvent;
        }[]
      ).map((r) => `${r.key.split(':')[1]}${r.payload.error ? `(${r.payload.error.message})` : ''}`);
    const a = await newRun('ev1', ['a']);
    await queue.plan(a.id, () => ({ queue: ['a'], skip: [] }), announce(a.id));
    await queue.plan(a.id, () => ({ queue: [], skip: [] }), announce(a.id)); // running: no second START
    await queue.plan(
      a.id,
      () => ({ queue: [], skip: [], end: { status: 'failed', error: 'step(s) failed: a' } }),
      announce(a.id),
    );
    await queue.plan(a.id, () => ({ queue: [], skip: [], end: { status: 'succeeded', error: null } }), announce(a.id)); // ended: nothing
    expect(await events()).toEqual(['START', 'FAIL(step(s) failed: a)']);
    const b = await newRun('ev2', ['a']);
    await queue.plan(b.id, () => ({ queue: [], skip: [], end: { status: 'succeeded', error: null } }), announce(b.id));
    const c = await newRun('ev3', ['a']);
    expect(await queue.cancel(c.id, announce(c.id))).toBe(true);
    expect(await queue.cancel(c.id, announce(c.id))).toBe(false);
    expect(await events()).toEqual(['START', 'FAIL(step(s) failed: a)', 'START', 'COMPLETE', 'ABORT(cancelled)']);
  });

  it('a pool is shared by the steps of every run: never more running than its slots, others go on', async () => {
    await ds.query(`INSERT INTO orchestration.pools (name, slots) VALUES ('small', 2)`);
    await pooledRun('pa', [
      ['a1', 'small'],
      ['a2', 'small'],
      ['free', null],
    ]);
    await pooledRun('pb', [
      ['b1', 'small'],
      ['b2', 'small'],
    ]);
    // ten workers at once: two of the pool and the step outside it
    const got = await leaseAll(10);
    expect(got.filter((l) => l!.pool === 'small')).toHaveLength(2);
    expect(got.filter((l) => l!.pool === null).map((l) => l!.stepId)).toEqual(['free']);
    expect(await queue.lease('w', 30_000)).toBeNull();
    const done = got.find((l) => l!.pool === 'small')!;
    await queue.succeed(done.id, done.leaseOwner!, done.attempt, null);
    const next = (await leaseAll(5)).map((l) => l!.stepId);
    expect(next).toHaveLength(1);
    const running = (await ds.query(
      `SELECT count(*)::int AS n FROM orchestration.step_runs WHERE pool = 'small' AND status = 'running'`,
    )) as { n: number }[];
    expect(running[0].n).toBe(2);
  });

  it('a pool not defined has the default slots; 0 slots hold its steps queued; a slot freed by a failure', async () => {
    await pooledRun('pd', [
      ['x1', 'undefined_pool'],
      ['x2', 'undefined_pool'],
      ['y1', 'paused'],
    ]);
    await ds.query(`INSERT INTO orchestration.pools (name, slots) VALUES ('paused', 0)`);
    const got = await leaseAll(6, { defaultPoolSlots: 1 });
    expect(got.map((l) => l!.stepId)).toHaveLength(1);
    expect(got[0]!.pool).toBe('undefined_pool');
    expect(await queue.fail(got[0]!.id, got[0]!.leaseOwner!, 1, { code: 'X', message: 'x', retryInMs: null })).toBe(
      true,
    );
    expect((await queue.lease('w', 30_000, { defaultPoolSlots: 1 }))?.pool).toBe('undefined_pool');
    expect(await queue.lease('w', 30_000, { defaultPoolSlots: 1 })).toBeNull();
    await ds.query(`UPDATE orchestration.pools SET slots = 1 WHERE name = 'paused'`);
    expect((await queue.lease('w', 30_000, { defaultPoolSlots: 1 }))?.stepId).toBe('y1');
  });

  it('under contention from many workers at once, a pool of 3 over 30 ready steps runs 3', async () => {
    await ds.query(`INSERT INTO orchestration.pools (name, slots) VALUES ('three', 3)`);
    for (let i = 0; i < 10; i++)
      await pooledRun(`pc${i}`, [
        ['s1', 'three'],
        ['s2', 'three'],
        ['s3', 'three'],
      ]);
    // rounds of 20 workers leasing at once, until none gets a step
    const got = [];
    for (let round = 0; round < 5; round++) got.push(...(await leaseAll(20)));
    expect(got).toHaveLength(3);
  });

  it('wakes the workers listening on any connection when told that steps were queued', async () => {
    let woken = 0;
    const stop = await queue.onWake(() => woken++);
    try {
      await queue.wakeWorkers();
      for (let i = 0; i < 100 && !woken; i++) await sleep(20);
      expect(woken).toBe(1);
    } finally {
      await stop();
    }
  });

  it('leases only the kinds asked for (waiting steps apart from work)', async () => {
    await pooledRun('kw', [['w', null]], 'wait_for');
    await pooledRun('ks', [['s', null]], 'sql');
    expect((await queue.lease('w1', 30_000, { notKinds: ['wait_for', 'pipeline'] }))?.stepId).toBe('s');
    expect(await queue.lease('w1', 30_000, { notKinds: ['wait_for', 'pipeline'] })).toBeNull();
    expect((await queue.lease('w1', 30_000, { kinds: ['wait_for', 'pipeline'] }))?.stepId).toBe('w');
  });

  it('keeps each partition’s latest run and last success (a trigger on runs); pages gaps and counts covered ones', async () => {
    const run = async (partition: string, status: string, createdAt: string) =>
      (
        await ds.query(
          `INSERT INTO orchestration.runs (pipeline_id, version, status, trigger, partition, params, idempotency_key, created_at, finished_at)
           VALUES ($1, 1, $2, 'api', $3, '{}', $4, $5, $5) RETURNING id`,
          [pipelineId, status, partition, `${partition}:${createdAt}`, createdAt],
        )
      )[0].id as string;
    await run('2026-12-01', 'succeeded', '2026-12-02T00:00:00Z');
    const failedAfter = await run('2026-12-01', 'failed', '2026-12-03T00:00:00Z'); // a gap again
    await run('2026-12-02', 'failed', '2026-12-02T01:00:00Z');
    const rerun = await run('2026-12-02', 'queued', '2026-12-04T00:00:00Z');
    await run('2026-12-03', 'succeeded', '2026-12-04T00:00:00Z');
    await run('2026-12-03', 'failed', '2026-12-01T00:00:00Z'); // older: not the latest
    await ds.query(`UPDATE orchestration.runs SET status = 'succeeded' WHERE id = $1`, [rerun]);
    const states = await queue.partitionStates(pipelineId);
    expect([...states.values()].map((s) => [s.partition, s.status]).sort()).toEqual([
      ['2026-12-01', 'failed'],
      ['2026-12-02', 'succeeded'],
      ['2026-12-03', 'succeeded'],
    ]);
    expect(states.get('2026-12-01')).toMatchObject({ runId: failedAfter });
    expect(states.get('2026-12-01')!.lastSuccessAt!.toISOString()).toBe('2026-12-02T00:00:00.000Z');
    expect([...(await queue.partitionStates(pipelineId, ['2026-12-03', 'x'])).keys()]).toEqual(['2026-12-03']);
    const range = {
      kind: 'daily' as const,
      first: new Date('2026-11-30T00:00:00Z'),
      last: new Date('2026-12-04T00:00:00Z'),
      count: 5,
    };
    expect(await queue.partitionsCovered(pipelineId, range)).toBe(2);
    const gaps = await queue.gapsPage(pipelineId, range, 0, 10);
    expect(gaps.map((g) => [g.partition, g.state?.status ?? null])).toEqual([
      ['2026-11-30', null],
      ['2026-12-01', 'failed'],
      ['2026-12-04', null],
    ]);
    expect((await queue.gapsPage(pipelineId, range, 1, 1)).map((g) => g.partition)).toEqual(['2026-12-01']);
    const hours = {
      kind: 'hourly' as const,
      first: new Date('2026-12-01T22:00:00Z'),
      last: new Date('2026-12-02T01:00:00Z'),
      count: 4,
    };
    expect((await queue.gapsPage(pipelineId, hours, 0, 10)).map((g) => g.partition)).toEqual([
      '2026-12-01T22',
      '2026-12-01T23',
      '2026-12-02T00',
      '2026-12-02T01',
    ]);
  });
});
