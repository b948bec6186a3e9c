import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { controlPlaneOptions, loadConfig, Outbox, RunStateEvent } from '@weir/platform';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';
import type { BuildStore, NewBuild } from '../src/application/ports/build-store.port';
import { InMemoryBuildStore, PgBuildStore } from '../src/infrastructure/build.store';
import { MODELING_ENTITIES } from '../src/modeling.entities';

const ev = (runId: string, state: RunStateEvent['state']): RunStateEvent => ({
  slice: 'modeling',
  job: 'build.p',
  jobType: 'BUILD',
  runId,
  state,
  at: new Date().toISOString(),
  inputs: [],
  outputs: [],
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Harness {
  store: BuildStore;
  projectId: string;
  /** Keys of the run events published so far, in order. */
  events(): Promise<string[]>;
  done(): Promise<void>;
}

/** One contract, every adapter (the Dagster TestRunStorage pattern). */
function buildStoreContract(name: string, make: () => Promise<Harness>) {
  describe(`BuildStore contract: ${name}`, () => {
    let h: Harness;
    let store: BuildStore;
    const newBuild = (over: Partial<NewBuild> = {}): NewBuild => ({
      id: randomUUID(),
      projectId: h.projectId,
      selector: 'tag:daily',
      fullRefresh: false,
      takeOver: true,
      steps: [
        { nodeId: 'seed.p.raw', materialized: 'seed' },
        { nodeId: 'model.p.a', materialized: 'table' },
        { nodeId: 'model.p.b', materialized: 'view' },
      ],
      ...over,
    });
    beforeEach(async () => {
      h = await make();
      store = h.store;
    });
    afterEach(() => h.done());

    it('records a running build with its steps pending in DAG order, and its START event', async () => {
      const b = newBuild();
      await store.create(b, ev(b.id, 'START'));
      const got = await store.find(b.id);
      expect(got).toMatchObject({ id: b.id, projectId: h.projectId, selector: 'tag:daily', status: 'running' });
      expect(got).toMatchObject({ fullRefresh: false, takeOver: true, finishedAt: null });
      expect(got!.steps.map((s) => [s.node, s.materialized, s.status])).toEqual([
        ['seed.p.raw', 'seed', 'pending'],
        ['model.p.a', 'table', 'pending'],
        ['model.p.b', 'view', 'pending'],
      ]);
      expect(await h.events()).toEqual([`${b.id}:START`]);
      expect(await store.find(randomUUID())).toBeNull();
      expect(await store.find('nope')).toBeNull();
    });

    it('updates steps with their events while running; refuses an empty patch', async () => {
      const b = newBuild();
      await store.create(b, ev(b.id, 'START'));
      const t = new Date('2026-12-05T10:00:00Z');
      expect(await store.updateStep(b.id, 'model.p.a', { status: 'running', startedAt: t }, ev('s1', 'START'))).toBe(
        true,
      );
      expect(
        await store.updateStep(
          b.id,
          'model.p.a',
          { status: 'succeeded', finishedAt: t, rowsAffected: '42', refs: { note: 'x' }, error: null },
          ev('s1', 'COMPLETE'),
        ),
      ).toBe(true);
      expect(await store.updateStep(b.id, 'model.p.b', { status: 'succeeded' })).toBe(true);
      const a = (await store.find(b.id))!.steps[1];
      expect(a).toMatchObject({ status: 'succeeded', rowsAffected: 42, refs: { note: 'x' }, error: null });
      expect(a.startedAt).toBe(t.toISOString());
      expect(await h.events()).toEqual([`${b.id}:START`, 's1:START', 's1:COMPLETE']);
      await expect(store.updateStep(b.id, 'model.p.a', {})).rejects.toThrow(/empty patch/);
    });

    it('ends a build once; after that its steps no longer change and no event goes out', async () => {
      const b = newBuild();
      await store.create(b, ev(b.id, 'START'));
      expect(await store.end(b.id, 'failed', ev(b.id, 'FAIL'))).toBe(true);
      expect(await store.end(b.id, 'succeeded', ev(b.id, 'COMPLETE'))).toBe(false);
      expect((await store.find(b.id))!.status).toBe('failed');
      expect((await store.find(b.id))!.finishedAt).not.toBeNull();
      expect(await store.updateStep(b.id, 'model.p.a', { status: 'running' }, ev('s9', 'START'))).toBe(false);
      expect(await store.heartbeat(b.id)).toBe(false);
      expect(await h.events()).toEqual([`${b.id}:START`, `${b.id}:FAIL`]);
    });

    it('records a cancel request on a running build only', async () => {
      const b = newBuild();
      await store.create(b, ev(b.id, 'START'));
      expect(await store.cancelRequested(b.id)).toBe(false);
      expect(await store.requestCancel(b.id)).toBe(true);
      expect(await store.cancelRequested(b.id)).toBe(true);
      await store.end(b.id, 'failed', ev(b.id, 'ABORT'));
      const ended = newBuild();
      await store.create(ended, ev(ended.id, 'START'));
      await store.end(ended.id, 'succeeded', ev(ended.id, 'COMPLETE'));
      expect(await store.requestCancel(ended.id)).toBe(false);
    });

    it('recovery fails stale builds: running steps failed, pending skipped, with the events it is given', async () => {
      // the build's parent (the pipeline run that asked for it) comes back with it: its FAIL event names it
      const parent = { job: 'pipeline.daily', runId: '00000000-0000-4000-8000-000000000001' };
      const stale = { ...newBuild(), parent };
      await store.create(stale, ev(stale.id, 'START'));
      await store.updateStep(stale.id, 'seed.p.raw', { status: 'succeeded' });
      await store.updateStep(stale.id, 'model.p.a', { status: 'running' });
      // margins wide enough for a busy machine: the fresh build must stay younger than the bound
      await sleep(1500);
      const fresh = newBuild();
      await store.create(fresh, ev(fresh.id, 'START'));
      const seen: string[] = [];
      const failed = await store.failStale(1000, 'interrupted', async (b) => {
        seen.push(b.id);
        return [...b.started.map((s) => ev(`${b.id}/${s}`, 'FAIL')), ev(b.id, 'FAIL')];
      });
      expect(failed).toEqual([{ id: stale.id, projectId: h.projectId, started: ['model.p.a'], parent }]);
      expect(seen).toEqual([stale.id]);
      const got = (await store.find(stale.id))!;
      expect(got.status).toBe('failed');
      expect(got.steps.map((s) => [s.status, s.error])).toEqual([
        ['succeeded', null],
        ['failed', 'interrupted'],
        ['skipped', 'interrupted'],
      ]);
      expect((await store.find(fresh.id))!.status).toBe('running');
      expect(await h.events()).toEqual([
        `${stale.id}:START`,
        `${fresh.id}:START`,
        `${stale.id}/model.p.a:FAIL`,
        `${stale.id}:FAIL`,
      ]);
      // a heartbeat keeps a build alive
      await sleep(40);
      expect(await store.heartbeat(fresh.id)).toBe(true);
      expect(await store.failStale(30, 'interrupted', async () => [])).toEqual([]);
    });
  });
}

buildStoreContract('in-memory', async () => {
  const store = new InMemoryBuildStore();
  return {
    store,
    projectId: randomUUID(),
    events: async () => store.events.map((e) => e.key),
    done: async () => undefined,
  };
});

describe('on PostgreSQL', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let outbox: Outbox;
  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'weir_build_store' });
    ds = await new DataSource({
      ...controlPlaneOptions(db.url, { entities: MODELING_ENTITIES }),
      logging: false,
    }).initialize();
    outbox = new Outbox(ds, loadConfig({ DATABASE_URL: db.url, WEIR_ROLES: 'api' }));
  });
  afterAll(async () => {
    await outbox?.beforeApplicationShutdown();
    await ds?.destroy();
    await db?.drop();
  });
  buildStoreContract('PostgreSQL (modeling.builds, build_steps, platform.outbox)', async () => {
    await ds.query('DELETE FROM platform.outbox');
    await ds.query('DELETE FROM modeling.projects');
    const [{ id }] = await ds.query(
      `INSERT INTO modeling.projects (name, root_path, model_schema) VALUES ('p', '/p', 'analytics') RETURNING id`,
    );
    return {
      store: new PgBuildStore(ds, outbox),
      projectId: id,
      events: async () =>
        (await ds.query(`SELECT key FROM platform.outbox WHERE topic = 'weir.run' ORDER BY id`)).map(
          (r: { key: string }) => r.key,
        ),
      done: async () => undefined,
    };
  });
});
