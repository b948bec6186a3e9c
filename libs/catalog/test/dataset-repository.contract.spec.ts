import { DataSource } from 'typeorm';
import { controlPlaneOptions, loadConfig, Outbox } from '@weir/platform';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';
import type { DatasetRepository, NewDataset } from '../src/application/ports/dataset-repository.port';
import { TypeOrmDatasetRepository } from '../src/infrastructure/dataset.repository';
import { CATALOG_ENTITIES } from '../src/catalog.entities';

const aDataset = (over: Partial<NewDataset> = {}): NewDataset => ({
  name: 'orders',
  schema: 'raw',
  table: 'orders',
  description: null,
  owner: null,
  tags: [],
  contract: { columns: [{ name: 'id', type: 'integer', nullable: false, primaryKey: true }] },
  version: 1,
  managedBy: 'ingestion',
  ...over,
});
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

/** One contract for every DatasetRepository adapter (the pattern of the SuiteStore and ApiKeyStore suites). */
function datasetRepositoryContract(name: string, make: () => Promise<DatasetRepository>) {
  describe(`DatasetRepository contract: ${name}`, () => {
    let repo: DatasetRepository;
    beforeEach(async () => (repo = await make()));

    it('inserts a dataset and finds it by name and by table, as given, with its timestamps', async () => {
      const d = await repo.transaction((tx) =>
        tx.insert(aDataset({ description: 'Orders', owner: 'shop', tags: ['pii', 'daily'] })),
      );
      expect(d).toMatchObject({ name: 'orders', schema: 'raw', table: 'orders', description: 'Orders', owner: 'shop' });
      expect(d).toMatchObject({ tags: ['pii', 'daily'], version: 1, managedBy: 'ingestion', release: null });
      expect(d).toMatchObject({ lastLoadAt: null, lastLoadRunId: null, lastLoadRows: null });
      expect(d.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(d.createdAt).toBeInstanceOf(Date);
      expect(await repo.findByName('orders')).toEqual(d);
      expect(await repo.transaction((tx) => tx.findByTable('raw', 'orders'))).toEqual(d);
      expect(await repo.transaction((tx) => tx.findByName('orders', true))).toEqual(d);
      expect(await repo.findByName('nope')).toBeUndefined();
      expect(await repo.transaction((tx) => tx.findByTable('raw', 'nope'))).toBeUndefined();
    });

    it('refuses a second dataset with a name', async () => {
      await repo.transaction((tx) => tx.insert(aDataset()));
      await expect(repo.transaction((tx) => tx.insert(aDataset({ table: 'other' })))).rejects.toThrow();
    });

    it('undoes everything a transaction wrote when it throws', async () => {
      await expect(
        repo.transaction(async (tx) => {
          const d = await tx.insert(aDataset());
          await tx.recordChange({
            datasetId: d.id,
            version: 1,
            kind: 'initial',
            details: [],
            contract: d.contract,
            changedBy: 'test',
          });
          throw new Error('refused');
        }),
      ).rejects.toThrow('refused');
      expect(await repo.findByName('orders')).toBeUndefined();
    });

    it('removes a dataset with its contract versions; the name is free again, the others stay', async () => {
      const d = await repo.transaction(async (tx) => {
        const e = await tx.insert(aDataset());
        await tx.recordChange({
          datasetId: e.id,
          version: 1,
          kind: 'initial',
          details: [],
          contract: e.contract,
          changedBy: 't',
        });
        return e;
      });
      const other = await repo.transaction((tx) => tx.insert(aDataset({ name: 'other', table: 'other' })));
      await repo.transaction((tx) => tx.remove(d.id));
      expect(await repo.findByName('orders')).toBeUndefined();
      expect(await repo.changes(d.id)).toEqual([]);
      expect(await repo.findByName('other')).toEqual(other);
      const again = await repo.transaction((tx) => tx.insert(aDataset()));
      expect(again.id).not.toBe(d.id);
    });

    it('lists by name, filtered by tag and by owner', async () => {
      await repo.transaction(async (tx) => {
        await tx.insert(aDataset({ name: 'zeta', table: 'zeta', tags: ['a'], owner: 'x' }));
        await tx.insert(aDataset({ name: 'alpha', table: 'alpha', tags: ['a', 'b'], owner: 'y' }));
        await tx.insert(aDataset({ name: 'mid', table: 'mid', tags: [], owner: 'x' }));
      });
      expect((await repo.list({})).map((d) => d.name)).toEqual(['alpha', 'mid', 'zeta']);
      expect((await repo.list({ tag: 'a' })).map((d) => d.name)).toEqual(['alpha', 'zeta']);
      expect((await repo.list({ owner: 'x' })).map((d) => d.name)).toEqual(['mid', 'zeta']);
      expect((await repo.list({ tag: 'a', owner: 'x' })).map((d) => d.name)).toEqual(['zeta']);
      expect(await repo.list({ tag: 'none' })).toEqual([]);
    });

    it('updates the changeable fields and records contract versions, read back newest first', async () => {
      const d = await repo.transaction((tx) => tx.insert(aDataset()));
      const contract = {
        columns: [...d.contract.columns, { name: 'note', type: 'text', nullable: true }],
      };
      const at = new Date(d.updatedAt.getTime() + 1000);
      await repo.transaction(async (tx) => {
        await tx.recordChange({
          datasetId: d.id,
          version: 1,
          kind: 'initial',
          details: [],
          contract: d.contract,
          changedBy: 'a',
        });
        await tx.recordChange({
          datasetId: d.id,
          version: 2,
          kind: 'additive',
          details: ['note added'],
          contract,
          changedBy: 'b',
        });
        await tx.update(d.id, {
          name: 'orders2',
          description: 'd',
          owner: 'o',
          tags: ['t'],
          contract,
          version: 2,
          managedBy: 'modeling:shop',
          updatedAt: at,
        });
      });
      const u = await repo.findByName('orders2');
      expect(u).toMatchObject({ id: d.id, description: 'd', owner: 'o', tags: ['t'], contract, version: 2 });
      expect(u).toMatchObject({ managedBy: 'modeling:shop', table: 'orders' });
      expect(u!.updatedAt.getTime()).toBe(at.getTime());
      expect(u!.createdAt.getTime()).toBe(d.createdAt.getTime());
      const changes = await repo.changes(d.id);
      expect(changes.map((c) => [c.version, c.kind, c.changedBy])).toEqual([
        [2, 'additive', 'b'],
        [1, 'initial', 'a'],
      ]);
      expect(changes[0]).toMatchObject({ details: ['note added'], contract });
      expect(changes[0].createdAt).toBeInstanceOf(Date);
      await expect(
        repo.transaction((tx) =>
          tx.recordChange({ datasetId: d.id, version: 2, kind: 'none', details: [], contract, changedBy: 'c' }),
        ),
      ).rejects.toThrow();
    });

    it('sets the table, the release and the last load by name', async () => {
      const d = await repo.transaction((tx) => tx.insert(aDataset()));
      await tick();
      await repo.setTable('orders', 'orders_v2');
      await repo.setRelease('orders', 2);
      const at = new Date('2026-12-01T10:00:00Z');
      await repo.recordLoad('orders', { runId: '00000000-0000-0000-0000-0000000000aa', at, rows: 9_000_000_000 });
      const u = await repo.findByName('orders');
      expect(u).toMatchObject({
        table: 'orders_v2',
        release: 2,
        lastLoadRunId: '00000000-0000-0000-0000-0000000000aa',
      });
      expect(u!.lastLoadAt!.toISOString()).toBe(at.toISOString());
      expect(u!.lastLoadRows).toBe(9_000_000_000);
      expect(u!.updatedAt.getTime()).toBeGreaterThan(d.updatedAt.getTime());
    });

    it('a row read for update, and a claim lock, hold a second transaction until the first ends', async () => {
      await repo.transaction((tx) => tx.insert(aDataset()));
      for (const hold of [
        (tx: Parameters<Parameters<DatasetRepository['transaction']>[0]>[0]) => tx.findByName('orders', true),
        (tx: Parameters<Parameters<DatasetRepository['transaction']>[0]>[0]) => tx.lockClaim('raw.orders', 'orders'),
      ]) {
        const order: string[] = [];
        let release!: () => void;
        let held!: () => void;
        const isHeld = new Promise<void>((r) => (held = r));
        const first = repo.transaction(async (tx) => {
          await hold(tx);
          held();
          await new Promise<void>((r) => (release = r));
          order.push('first done');
        });
        await isHeld;
        const second = repo.transaction(async (tx) => {
          await hold(tx);
          order.push('second got it');
        });
        await tick(100);
        order.push('released');
        release();
        await Promise.all([first, second]);
        expect(order).toEqual(['released', 'first done', 'second got it']);
      }
    });
  });
}

describe('on PostgreSQL', () => {
  let db: TestDatabase;
  let ds: DataSource;
  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'weir_dataset_repository' });
    ds = await new DataSource({
      ...controlPlaneOptions(db.url, { entities: CATALOG_ENTITIES }),
      logging: false,
    }).initialize();
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });
  datasetRepositoryContract('TypeORM (catalog.datasets, schema_changes)', async () => {
    await ds.query('DELETE FROM catalog.schema_changes');
    await ds.query('DELETE FROM catalog.datasets');
    return new TypeOrmDatasetRepository(ds, outbox());
  });
  const outbox = () => new Outbox(ds, loadConfig({ DATABASE_URL: db.url, WEIR_ROLES: 'api' }));

  it('publishes each recorded load on weir.dataset.updated in the same statement; none for an unknown dataset', async () => {
    await ds.query('DELETE FROM catalog.schema_changes');
    await ds.query('DELETE FROM catalog.datasets');
    await ds.query(`DELETE FROM platform.outbox WHERE topic = 'weir.dataset.updated'`);
    const repo = new TypeOrmDatasetRepository(ds, outbox());
    await repo.transaction((tx) => tx.insert(aDataset()));
    const runId = '00000000-0000-0000-0000-0000000000bb';
    await repo.recordLoad('orders', {
      runId,
      at: new Date('2026-12-01T10:00:00.250Z'),
      rows: 42,
      job: 'ingestion.orders_csv',
    });
    await repo.recordLoad('nope', { runId, at: new Date(), rows: 1 });
    await repo.recordLoad('orders', { runId, at: new Date('2026-12-01T11:00:00Z'), rows: null });
    const events = await ds.query(
      `SELECT key, payload FROM platform.outbox WHERE topic = 'weir.dataset.updated' ORDER BY id`,
    );
    expect(events).toEqual([
      {
        key: `${runId}:orders`,
        payload: {
          dataset: 'orders',
          schema: 'raw',
          table: 'orders',
          runId,
          rows: 42,
          job: 'ingestion.orders_csv',
          at: '2026-12-01T10:00:00.250Z',
        },
      },
      {
        key: `${runId}:orders`,
        payload: {
          dataset: 'orders',
          schema: 'raw',
          table: 'orders',
          runId,
          rows: null,
          job: null,
          at: '2026-12-01T11:00:00.000Z',
        },
      },
    ]);
  });
});
