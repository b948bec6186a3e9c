import { DataSource } from 'typeorm';
import { controlPlaneOptions } from '@weir/platform';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';
import type {
  NewQualityRun,
  QualityResultRecord,
  QualityRunStore,
} from '../src/application/ports/quality-run-store.port';
import { InMemoryQualityRunStore, TypeOrmQualityRunStore } from '../src/infrastructure/quality-run.store';
import { QUALITY_ENTITIES } from '../src/quality.entities';

const aRun = (suiteId: string, over: Partial<NewQualityRun> = {}): NewQualityRun => ({
  suiteId,
  dataset: 'orders',
  targetSchema: 'raw',
  targetTable: 'orders',
  status: 'passed',
  trigger: 'api',
  triggerRef: null,
  startedAt: new Date('2026-12-01T10:00:00Z'),
  finishedAt: new Date('2026-12-01T10:00:01Z'),
  rowCount: 10,
  ...over,
});
const aResult = (i: number, over: Partial<QualityResultRecord> = {}): QualityResultRecord => ({
  expectationIndex: i,
  expectationType: 'expect_column_values_to_not_be_null',
  kwargs: { column: 'id' },
  severity: 'error',
  success: true,
  evidence: { element_count: 10, unexpected_count: 0 },
  exception: null,
  ...over,
});
const tick = () => new Promise((r) => setTimeout(r, 5));

/** One contract, every adapter (the Dagster TestRunStorage pattern). */
function qualityRunStoreContract(
  name: string,
  make: () => Promise<{ store: QualityRunStore; suiteId: string; done: () => Promise<void> }>,
) {
  describe(`QualityRunStore contract: ${name}`, () => {
    let store: QualityRunStore;
    let suiteId: string;
    let done: () => Promise<void>;
    beforeEach(async () => ({ store, suiteId, done } = await make()));
    afterEach(() => done());

    it('records a run with its results (read back by index) and runs `along` inside, with the run id', async () => {
      let seen: string | undefined;
      const id = await store.record(
        aRun(suiteId),
        [aResult(1, { success: false }), aResult(0)],
        [{ metric: 'row_count', value: 10 }],
        async (tx, runId) => {
          expect(typeof tx.query).toBe('function');
          seen = runId;
        },
      );
      expect(seen).toBe(id);
      const r = await store.get(id);
      expect(r).toMatchObject({ id, suiteId, dataset: 'orders', status: 'passed', rowCount: 10, triggerRef: null });
      expect(r!.startedAt.toISOString()).toBe('2026-12-01T10:00:00.000Z');
      expect(r!.results.map((x) => [x.expectationIndex, x.success])).toEqual([
        [0, true],
        [1, false],
      ]);
      expect(r!.results[0].evidence).toEqual({ element_count: 10, unexpected_count: 0 });
      expect(await store.get('00000000-0000-0000-0000-000000000000')).toBeUndefined();
      expect(await store.get('nope')).toBeUndefined();
    });

    it('a failing `along` records nothing', async () => {
      await expect(
        store.record(aRun(suiteId), [aResult(0)], [{ metric: 'row_count', value: 1 }], async () => {
          throw new Error('the events could not be written');
        }),
      ).rejects.toThrow(/could not be written/);
      expect(await store.metrics('orders', undefined, 10)).toEqual([]);
    });

    it('keeps metric history per dataset, metric and trigger, newest first, failed runs left out on request', async () => {
      for (const [v, trigger, status] of [
        [1, 'api', 'passed'],
        [2, 'gate', 'passed'],
        [3, 'api', 'failed'],
        [4, 'api', 'warned'],
      ] as const) {
        await store.record(
          aRun(suiteId, { trigger, status }),
          [],
          [
            { metric: 'row_count', value: v },
            { metric: 'x', value: v * 10 },
          ],
        );
        await tick();
      }
      expect(await store.history('orders', 'row_count', 'api', 10, false)).toEqual([4, 3, 1]);
      expect(await store.history('orders', 'row_count', 'api', 10, true)).toEqual([4, 1]);
      expect(await store.history('orders', 'row_count', 'api', 1, false)).toEqual([4]);
      expect(await store.history('orders', 'row_count', 'gate', 10, false)).toEqual([2]);
      expect(await store.history('customers', 'row_count', 'api', 10, false)).toEqual([]);
      const points = await store.metrics('orders', 'x', 2);
      expect(points.map((p) => p.value)).toEqual([40, 30]);
      expect(points[0].at).toBeInstanceOf(Date);
      expect((await store.metrics('orders', undefined, 100)).length).toBe(8);
    });
  });
}

qualityRunStoreContract('in-memory', async () => ({
  store: new InMemoryQualityRunStore(),
  suiteId: '00000000-0000-0000-0000-0000000000aa',
  done: async () => undefined,
}));

describe('on PostgreSQL', () => {
  let db: TestDatabase;
  let ds: DataSource;
  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'weir_quality_run_store' });
    ds = await new DataSource({
      ...controlPlaneOptions(db.url, { entities: QUALITY_ENTITIES }),
      logging: false,
    }).initialize();
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });
  qualityRunStoreContract('TypeORM (quality.runs, results, metrics)', async () => {
    await ds.query('DELETE FROM quality.suites');
    const [{ id }] = await ds.query(
      `INSERT INTO quality.suites (name, dataset, expectations) VALUES ('s', 'orders', '[]') RETURNING id`,
    );
    return { store: new TypeOrmQualityRunStore(ds), suiteId: id, done: async () => undefined };
  });
});
