import type { PoolClient } from 'pg';
import { quoteIdent } from '@weir/platform';
import { DatasetContract, parseType } from '@weir/catalog';
import type { StrategySpec } from '../../domain/source';
import { StrategyNeedsCursorError } from '../../ingestion.errors';

/** The stage's column holding each row's record number in the input (dead letters name it). */
export const RECORD_COL = '__weir_record';

/**
 * The SQL that settles a stage before the gate: what the watermark skips, the duplicates a
 * strategy rejects or settles, the new watermark. Each returns how many rows it took out.
 */

/** incremental: rows at or below the watermark (minus the lookback) are skipped. */
export async function applyWatermark(
  client: PoolClient,
  strategy: StrategySpec,
  watermark: string | null,
  contract: DatasetContract,
  staged: string,
): Promise<number> {
  const cursor = strategy.cursor;
  if (!cursor) throw new StrategyNeedsCursorError('Strategy incremental needs a cursor column');
  if (watermark === null) return 0;
  const col = contract.columns.find((c) => c.name === cursor);
  if (!col) throw new StrategyNeedsCursorError(`The cursor column ${cursor} is not in the contract`);
  const t = parseType(col.type);
  const base = typeof t === 'string' ? 'text' : t.base;
  const temporal = base === 'timestamp' || base === 'timestamptz' || base === 'date';
  const lookback = strategy.lookback ?? (temporal ? '0 seconds' : '0');
  const bound = temporal
    ? `($1::${base === 'date' ? 'timestamp' : base} - $2::interval)`
    : base === 'text'
      ? `$1::text`
      : `($1::numeric - $2::numeric)`;
  const params = base === 'text' ? [watermark] : [watermark, lookback];
  const r = await client.query(`DELETE FROM ${staged} WHERE ${quoteIdent(cursor)} <= ${bound}`, params);
  return r.rowCount ?? 0;
}

/** replace/append: a key seen twice in the input keeps its first record; later ones are dead-lettered. */
export async function rejectDuplicatesInBatch(
  client: PoolClient,
  runId: string,
  staged: string,
  pk: string[],
  precheck: boolean,
): Promise<number> {
  const keys = pk.map((c) => quoteIdent(c)).join(', ');
  if (
    precheck &&
    (await client.query(`SELECT 1 FROM ${staged} GROUP BY ${keys} HAVING count(*) > 1 LIMIT 1`)).rowCount === 0
  )
    return 0;
  const keyText =
    pk.length === 1
      ? `d.${quoteIdent(pk[0])}::text`
      : `concat_ws(',', ${pk.map((c) => `d.${quoteIdent(c)}::text`).join(', ')})`;
  // rows without a record number were committed to a keyed stage before any duplicate came: they are first
  const ranked = `SELECT *, row_number() OVER w AS __rn, first_value(${quoteIdent(RECORD_COL)}) OVER w AS __first FROM ${staged} WINDOW w AS (PARTITION BY ${keys} ORDER BY ${quoteIdent(RECORD_COL)} NULLS FIRST)`;
  await client.query(
    `INSERT INTO ingestion.dead_letters (run_id, record_number, reason, column_name, value, message, raw_record)
     SELECT $1, d.${quoteIdent(RECORD_COL)}, 'DUPLICATE_KEY_IN_BATCH', $2, ${keyText},
            CASE WHEN d.__first IS NULL THEN 'duplicate primary key in this input; an earlier record has it first'
                 ELSE 'duplicate primary key in this input; record ' || d.__first || ' has it first' END, to_jsonb(d) - '${RECORD_COL}' - '__rn' - '__first'
       FROM (${ranked}) d WHERE d.__rn > 1`,
    [runId, pk.join(',')],
  );
  const del = await client.query(
    `DELETE FROM ${staged} s USING (${ranked}) d WHERE d.__rn > 1 AND s.${quoteIdent(RECORD_COL)} = d.${quoteIdent(RECORD_COL)}`,
  );
  return del.rowCount ?? 0;
}

/** append: records whose key is already in the target are dead-lettered (DUPLICATE_KEY). */
export async function rejectExistingKeys(
  client: PoolClient,
  runId: string,
  staged: string,
  target: string,
  pk: string[],
): Promise<number> {
  const on = pk.map((c) => `t.${quoteIdent(c)} = s.${quoteIdent(c)}`).join(' AND ');
  const keyText =
    pk.length === 1
      ? `s.${quoteIdent(pk[0])}::text`
      : `concat_ws(',', ${pk.map((c) => `s.${quoteIdent(c)}::text`).join(', ')})`;
  await client.query(
    `INSERT INTO ingestion.dead_letters (run_id, record_number, reason, column_name, value, message, raw_record)
     SELECT $1, s.${quoteIdent(RECORD_COL)}, 'DUPLICATE_KEY', $2, ${keyText}, 'primary key already in the target (strategy append)', to_jsonb(s) - '${RECORD_COL}'
       FROM ${staged} s WHERE EXISTS (SELECT 1 FROM ${target} t WHERE ${on})`,
    [runId, pk.join(',')],
  );
  const del = await client.query(`DELETE FROM ${staged} s WHERE EXISTS (SELECT 1 FROM ${target} t WHERE ${on})`);
  return del.rowCount ?? 0;
}

/** merge/incremental: within the input, a key keeps its last record by orderBy (then input order). */
export async function dedupeKeepLast(
  client: PoolClient,
  orderBy: string | undefined,
  staged: string,
  pk: string[],
): Promise<number> {
  const keys = pk.map((c) => quoteIdent(c)).join(', ');
  const order = [orderBy ? `${quoteIdent(orderBy)} DESC NULLS LAST` : '', `${quoteIdent(RECORD_COL)} DESC`]
    .filter(Boolean)
    .join(', ');
  const del = await client.query(
    `DELETE FROM ${staged} s USING (SELECT ${quoteIdent(RECORD_COL)} AS r, row_number() OVER (PARTITION BY ${keys} ORDER BY ${order}) AS rn FROM ${staged}) d
      WHERE d.rn > 1 AND s.${quoteIdent(RECORD_COL)} = d.r`,
  );
  return del.rowCount ?? 0;
}

/** The later of two cursor values, compared as the cursor column's type. */
export async function greatest(
  client: PoolClient,
  contract: DatasetContract,
  cursor: string,
  a: string,
  b: string,
): Promise<string> {
  const col = contract.columns.find((c) => c.name === cursor)!;
  const t = parseType(col.type);
  const base = typeof t === 'string' ? 'text' : t.base;
  const cast = ['timestamp', 'timestamptz', 'date', 'text'].includes(base) ? base : 'numeric';
  return (await client.query(`SELECT greatest($1::${cast}, $2::${cast})::text AS g`, [a, b])).rows[0].g;
}
