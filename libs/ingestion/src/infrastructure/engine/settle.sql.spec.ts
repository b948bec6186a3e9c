import type { PoolClient } from 'pg';
import type { DatasetContract } from '@weir/catalog';
import { applyWatermark, dedupeKeepLast, greatest, rejectDuplicatesInBatch, rejectExistingKeys } from './settle.sql';

function recordingClient(answer: (sql: string) => { rows?: unknown[]; rowCount?: number } = () => ({})) {
  const sent: { sql: string; params?: unknown[] }[] = [];
  const client = {
    query: async (sql: string, params?: unknown[]) => {
      sent.push({ sql: sql.replace(/\s+/g, ' ').trim(), params });
      const a = answer(sql);
      return { rows: a.rows ?? [], rowCount: a.rowCount ?? 0 };
    },
  } as unknown as PoolClient;
  return { client, sent };
}

const contract: DatasetContract = {
  columns: [
    { name: 'id', type: 'integer', nullable: false, primaryKey: true },
    { name: 'updated_at', type: 'timestamptz', nullable: false },
    { name: 'seq', type: 'bigint', nullable: false },
    { name: 'code', type: 'text', nullable: false },
  ],
};
const staged = '"raw"."__weir_stage_1"';

describe('settle SQL: what each step emits', () => {
  it('the watermark skips rows at or below it, minus the lookback, compared as the cursor type', async () => {
    const { client, sent } = recordingClient(() => ({ rowCount: 3 }));
    expect(
      await applyWatermark(
        client,
        { kind: 'incremental', cursor: 'updated_at', lookback: '1 hour' },
        '2026-12-01T00:00:00Z',
        contract,
        staged,
      ),
    ).toBe(3);
    expect(sent[0]).toEqual({
      sql: `DELETE FROM ${staged} WHERE "updated_at" <= ($1::timestamptz - $2::interval)`,
      params: ['2026-12-01T00:00:00Z', '1 hour'],
    });
    await applyWatermark(client, { kind: 'incremental', cursor: 'seq' }, '41', contract, staged);
    expect(sent[1]).toEqual({
      sql: `DELETE FROM ${staged} WHERE "seq" <= ($1::numeric - $2::numeric)`,
      params: ['41', '0'],
    });
    await applyWatermark(client, { kind: 'incremental', cursor: 'code' }, 'm', contract, staged);
    expect(sent[2]).toEqual({ sql: `DELETE FROM ${staged} WHERE "code" <= $1::text`, params: ['m'] });
    expect(await applyWatermark(client, { kind: 'incremental', cursor: 'seq' }, null, contract, staged)).toBe(0);
    await expect(applyWatermark(client, { kind: 'incremental' }, '1', contract, staged)).rejects.toMatchObject({
      code: 'INGESTION.STRATEGY_NEEDS_CURSOR',
    });
    await expect(
      applyWatermark(client, { kind: 'incremental', cursor: 'nope' }, '1', contract, staged),
    ).rejects.toMatchObject({ code: 'INGESTION.STRATEGY_NEEDS_CURSOR' });
  });

  it('duplicates in the input: a cheap check first; then dead letters naming the first record, and the later ones removed', async () => {
    const none = recordingClient(() => ({ rowCount: 0 }));
    expect(await rejectDuplicatesInBatch(none.client, 'run-1', staged, ['id'], true)).toBe(0);
    expect(none.sent.map((s) => s.sql)).toEqual([`SELECT 1 FROM ${staged} GROUP BY "id" HAVING count(*) > 1 LIMIT 1`]);
    const some = recordingClient((sql) => ({ rowCount: sql.startsWith('SELECT') ? 1 : 2 }));
    expect(await rejectDuplicatesInBatch(some.client, 'run-1', staged, ['id', 'code'], true)).toBe(2);
    expect(some.sent[1].sql).toMatch(
      /^INSERT INTO ingestion\.dead_letters .* 'DUPLICATE_KEY_IN_BATCH', \$2, concat_ws\(',', d\."id"::text, d\."code"::text\)/,
    );
    expect(some.sent[1].params).toEqual(['run-1', 'id,code']);
    expect(some.sent[2].sql).toMatch(
      /^DELETE FROM "raw"\."__weir_stage_1" s USING \(SELECT \*, row_number\(\) OVER w AS __rn/,
    );
  });

  it('keys already in the target (append) are dead-lettered and removed from the stage', async () => {
    const { client, sent } = recordingClient(() => ({ rowCount: 1 }));
    expect(await rejectExistingKeys(client, 'run-1', staged, '"raw"."orders"', ['id'])).toBe(1);
    expect(sent[0].sql).toContain(
      `'DUPLICATE_KEY', $2, s."id"::text, 'primary key already in the target (strategy append)'`,
    );
    expect(sent[1].sql).toBe(
      `DELETE FROM ${staged} s WHERE EXISTS (SELECT 1 FROM "raw"."orders" t WHERE t."id" = s."id")`,
    );
  });

  it('merge keeps the last record of a key, by orderBy then input order; the new watermark is compared as its type', async () => {
    const { client, sent } = recordingClient((sql) =>
      sql.startsWith('SELECT greatest') ? { rows: [{ g: 'b' }] } : { rowCount: 4 },
    );
    expect(await dedupeKeepLast(client, undefined, staged, ['id'])).toBe(4);
    expect(sent[0].sql).toContain('row_number() OVER (PARTITION BY "id" ORDER BY "__weir_record" DESC)');
    expect(await greatest(client, contract, 'updated_at', 'a', 'b')).toBe('b');
    expect(sent[1].sql).toBe('SELECT greatest($1::timestamptz, $2::timestamptz)::text AS g');
    await greatest(client, contract, 'seq', '1', '2');
    expect(sent[2].sql).toBe('SELECT greatest($1::numeric, $2::numeric)::text AS g');
  });
});
