import { Client } from 'pg';
import { createTestDatabase, TestDatabase } from '../src/testing';
import { revertLastMigration, runMigrations } from '../src/database/data-source';

describe('migrations (real PostgreSQL)', () => {
  let db: TestDatabase;
  beforeAll(async () => (db = await createTestDatabase({ migrate: false })));
  afterAll(() => db?.drop());

  const tables = async () => {
    const c = new Client({ connectionString: db.url });
    await c.connect();
    const r = await c.query(
      `SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog','information_schema') ORDER BY 1`,
    );
    await c.end();
    return r.rows.map((x) => x.t);
  };

  it('apply, are idempotent, revert and re-apply', async () => {
    const first = await runMigrations(db.url);
    expect(first.applied).toContain('PlatformApiKeys1763750000000');
    expect(await tables()).toEqual(expect.arrayContaining(['platform.api_keys', 'public.migrations']));
    expect((await runMigrations(db.url)).applied).toEqual([]);
    const reverted = await revertLastMigration(db.url);
    expect(reverted).toBe(first.applied[first.applied.length - 1]);
    for (let i = 1; i < first.applied.length; i++) await revertLastMigration(db.url);
    expect(await tables()).toEqual(['public.migrations']);
    expect(await revertLastMigration(db.url)).toBeUndefined();
    expect((await runMigrations(db.url)).applied).toEqual(first.applied);
  });
});
