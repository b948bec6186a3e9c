import { DataSource } from 'typeorm';
import { controlPlaneOptions } from '@weir/platform';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';
import { NewSuite, SuiteNameTakenError, SuiteStore } from '../src/application/ports/suite-store.port';
import { InMemorySuiteStore, TypeOrmSuiteStore } from '../src/infrastructure/suite.store';
import { SuiteOrmEntity } from '../src/infrastructure/suite.orm-entity';

const aSuite = (over: Partial<NewSuite> = {}): NewSuite => ({
  name: 'orders_checks',
  dataset: 'orders',
  expectations: [{ type: 'expect_column_values_to_not_be_null', kwargs: { column: 'id' } }],
  meta: null,
  ...over,
});

/** One contract, every adapter (the Dagster TestRunStorage pattern, as for API keys). */
function suiteStoreContract(name: string, make: () => Promise<{ store: SuiteStore; done: () => Promise<void> }>) {
  describe(`SuiteStore contract: ${name}`, () => {
    let store: SuiteStore;
    let done: () => Promise<void>;
    beforeEach(async () => ({ store, done } = await make()));
    afterEach(() => done());

    it('inserts a suite and finds it by id and by name, its content as given', async () => {
      const s = await store.insert(aSuite({ meta: { source: 'test' } }));
      expect(s.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(s.createdAt).toBeInstanceOf(Date);
      expect(await store.findById(s.id)).toEqual(s);
      expect(await store.findByName('orders_checks')).toEqual(s);
      expect(await store.findById('00000000-0000-0000-0000-000000000000')).toBeUndefined();
      expect(await store.findById('not-a-uuid')).toBeUndefined();
      expect(await store.findByName('nope')).toBeUndefined();
    });

    it('refuses a second suite with a name, on insert and on update', async () => {
      const a = await store.insert(aSuite({ name: 'a' }));
      await store.insert(aSuite({ name: 'b' }));
      await expect(store.insert(aSuite({ name: 'a' }))).rejects.toBeInstanceOf(SuiteNameTakenError);
      await expect(store.update(a.id, aSuite({ name: 'b' }))).rejects.toBeInstanceOf(SuiteNameTakenError);
      expect((await store.findById(a.id))?.name).toBe('a');
    });

    it('updates content, keeping the id and the creation time; an unknown id is undefined', async () => {
      const s = await store.insert(aSuite());
      await new Promise((r) => setTimeout(r, 5));
      const u = await store.update(s.id, aSuite({ dataset: 'orders_v2', expectations: [], meta: { v: 2 } }));
      expect(u).toMatchObject({ id: s.id, dataset: 'orders_v2', expectations: [], meta: { v: 2 } });
      expect(u!.createdAt.getTime()).toBe(s.createdAt.getTime());
      expect(u!.updatedAt.getTime()).toBeGreaterThan(s.updatedAt.getTime());
      expect(await store.update('00000000-0000-0000-0000-000000000000', aSuite())).toBeUndefined();
    });

    it('lists by name, all or one dataset, counts per dataset, and removes', async () => {
      await store.insert(aSuite({ name: 'zeta', dataset: 'orders' }));
      const alpha = await store.insert(aSuite({ name: 'alpha', dataset: 'orders' }));
      await store.insert(aSuite({ name: 'mid', dataset: 'customers' }));
      expect((await store.list()).map((s) => s.name)).toEqual(['alpha', 'mid', 'zeta']);
      expect((await store.list('orders')).map((s) => s.name)).toEqual(['alpha', 'zeta']);
      expect(await store.countFor('orders')).toBe(2);
      expect(await store.countFor('nothing')).toBe(0);
      await store.remove(alpha.id);
      await store.remove('00000000-0000-0000-0000-000000000000');
      expect((await store.list('orders')).map((s) => s.name)).toEqual(['zeta']);
    });

    it('hands out copies: changing a returned record changes nothing stored', async () => {
      const s = await store.insert(aSuite());
      s.expectations.push({ type: 'x', kwargs: {} });
      expect((await store.findById(s.id))!.expectations).toHaveLength(1);
    });
  });
}

suiteStoreContract('in-memory', async () => ({ store: new InMemorySuiteStore(), done: async () => undefined }));

describe('on PostgreSQL', () => {
  let db: TestDatabase;
  let ds: DataSource;
  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'weir_suite_store' });
    ds = await new DataSource({
      ...controlPlaneOptions(db.url, { entities: [SuiteOrmEntity] }),
      logging: false,
    }).initialize();
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });
  suiteStoreContract('TypeORM (quality.suites)', async () => {
    await ds.query('DELETE FROM quality.suites');
    return { store: new TypeOrmSuiteStore(ds.getRepository(SuiteOrmEntity)), done: async () => undefined };
  });
});
