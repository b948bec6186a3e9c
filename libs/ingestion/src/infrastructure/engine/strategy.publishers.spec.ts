import type { PoolClient } from 'pg';
import type { DatasetContract } from '@weir/catalog';
import { PUBLISHERS, PublishContext } from './strategy.publishers';

/** A client that records the SQL it is sent and answers from a script (unit tests of the SQL each publisher emits). */
function recordingClient(answer: (sql: string) => { rows?: unknown[]; rowCount?: number } | Error = () => ({})) {
  const sent: string[] = [];
  const client = {
    query: async (sql: string) => {
      sent.push(sql.replace(/\s+/g, ' ').trim());
      const a = answer(sql);
      if (a instanceof Error) throw a;
      return { rows: a.rows ?? [], rowCount: a.rowCount ?? 0 };
    },
  } as unknown as PoolClient;
  return { client, sent };
}

const contract: DatasetContract = {
  columns: [
    { name: 'id', type: 'integer', nullable: false, primaryKey: true },
    { name: 'name', type: 'text', nullable: true },
  ],
};
const ctx = (client: PoolClient, over: Partial<PublishContext> = {}): PublishContext => ({
  client,
  strategy: { kind: 'replace' },
  dataset: { schema: 'raw', table: 'orders' },
  contract,
  staged: '"raw"."__weir_stage_1"',
  stage: '__weir_stage_1',
  target: '"raw"."orders"',
  pk: ['id'],
  owned: true,
  asService: (fn) => fn(),
  ...over,
});

describe('publishers: the SQL each strategy emits', () => {
  it('replace swaps its own table in (rename, drop the old one, rename the key)', async () => {
    const { client, sent } = recordingClient((sql) => (sql.includes('to_regclass') ? { rows: [{ e: true }] } : {}));
    expect(await PUBLISHERS.replace(ctx(client))).toBe(0);
    expect(sent[0]).toBe('ALTER TABLE "raw"."__weir_stage_1" DROP COLUMN "__weir_record"');
    expect(sent).toContain('LOCK TABLE "raw"."orders" IN ACCESS EXCLUSIVE MODE');
    expect(sent.find((s) => /^ALTER TABLE "raw"\."orders" RENAME TO "__weir_old_[0-9a-f]{12}"$/.test(s))).toBeDefined();
    expect(sent).toContain('ALTER TABLE "raw"."__weir_stage_1" RENAME TO "orders"');
    expect(sent.at(-1)).toBe('ALTER TABLE "raw"."orders" RENAME CONSTRAINT "__weir_stage_1_pkey" TO "orders_pkey"');
    expect(sent.some((s) => s.startsWith('TRUNCATE'))).toBe(false);
  });

  it('replace keeps a table it does not own (or one views depend on) and replaces its rows in place', async () => {
    for (const over of [{ owned: false }, {}]) {
      const dependents = !('owned' in over);
      const { client, sent } = recordingClient((sql) =>
        sql.includes('to_regclass')
          ? { rows: [{ e: true }] }
          : sql.includes('pg_depend')
            ? { rowCount: dependents ? 1 : 0 }
            : {},
      );
      await PUBLISHERS.replace(ctx(client, over));
      expect(sent.slice(-3)).toEqual([
        'TRUNCATE "raw"."orders"',
        'INSERT INTO "raw"."orders" ("id", "name") SELECT "id", "name" FROM "raw"."__weir_stage_1"',
        'DROP TABLE "raw"."__weir_stage_1"',
      ]);
      expect(sent.some((s) => s.includes('RENAME'))).toBe(false);
    }
  });

  it('append inserts the staged rows', async () => {
    const { client, sent } = recordingClient();
    await PUBLISHERS.append(ctx(client, { strategy: { kind: 'append' } }));
    expect(sent).toEqual(['INSERT INTO "raw"."orders" ("id", "name") SELECT "id", "name" FROM "raw"."__weir_stage_1"']);
  });

  it('merge upserts on the key; on a key twice in the input (21000) it settles the duplicates and upserts again', async () => {
    const upsert =
      'INSERT INTO "raw"."orders" ("id", "name") SELECT "id", "name" FROM "raw"."__weir_stage_1" ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name"';
    const fast = recordingClient();
    expect(await PUBLISHERS.merge(ctx(fast.client, { strategy: { kind: 'merge' } }))).toBe(0);
    expect(fast.sent).toEqual(['SAVEPOINT weir_upsert', upsert]);

    let tries = 0;
    const slow = recordingClient((sql) => {
      if (sql.startsWith('INSERT') && tries++ === 0)
        return Object.assign(new Error('ON CONFLICT DO UPDATE command cannot affect row a second time'), {
          code: '21000',
        });
      if (sql.startsWith('DELETE')) return { rowCount: 2 };
      return {};
    });
    expect(await PUBLISHERS.merge(ctx(slow.client, { strategy: { kind: 'merge', orderBy: 'name' } }))).toBe(2);
    expect(slow.sent[2]).toBe('ROLLBACK TO SAVEPOINT weir_upsert');
    expect(slow.sent[3]).toMatch(
      /^DELETE FROM "raw"\."__weir_stage_1" s USING \(SELECT "__weir_record" AS r, row_number\(\) OVER \(PARTITION BY "id" ORDER BY "name" DESC NULLS LAST, "__weir_record" DESC\) AS rn/,
    );
    expect(slow.sent.at(-1)).toBe(upsert);
  });

  it('merge without a key, and incremental, insert; other errors are not swallowed', async () => {
    const none = recordingClient();
    await PUBLISHERS.incremental(ctx(none.client, { strategy: { kind: 'incremental' }, pk: [] }));
    expect(none.sent).toEqual([
      'INSERT INTO "raw"."orders" ("id", "name") SELECT "id", "name" FROM "raw"."__weir_stage_1"',
    ]);
    const broken = recordingClient((sql) =>
      sql.startsWith('INSERT') ? Object.assign(new Error('disk full'), { code: '53100' }) : {},
    );
    await expect(PUBLISHERS.merge(ctx(broken.client, { strategy: { kind: 'merge' } }))).rejects.toThrow('disk full');
  });
});
