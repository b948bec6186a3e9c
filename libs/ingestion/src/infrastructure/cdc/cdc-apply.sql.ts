import { quoteIdent } from '@weir/platform';

/** The soft-delete marker column of a CDC target (`deletes: soft`). */
export const DELETED_AT = '_weir_deleted_at';

/**
 * A batch's statements on the target. Values travel as one text array per column (`unnest`) and
 * are cast to the target column's own type, so any type the target has reads the source's text form.
 */

const unnestOf = (cols: string[], types: Map<string, string>, from = 1) =>
  `unnest(${cols.map((c, i) => `$${i + from}::text[]`).join(', ')}) AS u(${cols.map((c) => quoteIdent(c)).join(', ')})`;

const cast = (c: string, types: Map<string, string>) => `u.${quoteIdent(c)}::${types.get(c) ?? 'text'}`;

/** Upserts rows carrying `cols` (the key among them): inserted, or their carried columns updated. */
export function upsertSql(
  target: string,
  pk: string[],
  cols: string[],
  types: Map<string, string>,
  soft: boolean,
): string {
  const names = cols.map((c) => quoteIdent(c));
  const nonKey = cols.filter((c) => !pk.includes(c)).map((c) => quoteIdent(c));
  const sets = nonKey.map((c) => `${c} = EXCLUDED.${c}`);
  if (soft) sets.push(`${quoteIdent(DELETED_AT)} = NULL`);
  return (
    `INSERT INTO ${target} (${names.join(', ')}) SELECT ${cols.map((c) => cast(c, types)).join(', ')} FROM ${unnestOf(cols, types)} ` +
    `ON CONFLICT (${pk.map((c) => quoteIdent(c)).join(', ')}) ${sets.length ? `DO UPDATE SET ${sets.join(', ')}` : 'DO NOTHING'}`
  );
}

/** Deletes rows by key: removed (hard), or marked with `_weir_deleted_at` (soft). */
export function deleteSql(target: string, pk: string[], types: Map<string, string>, soft: boolean): string {
  const match = pk.map((c) => `t.${quoteIdent(c)} = ${cast(c, types)}`).join(' AND ');
  return soft
    ? `UPDATE ${target} t SET ${quoteIdent(DELETED_AT)} = now() FROM ${unnestOf(pk, types)} WHERE ${match} AND t.${quoteIdent(DELETED_AT)} IS NULL`
    : `DELETE FROM ${target} t USING ${unnestOf(pk, types)} WHERE ${match}`;
}

/** A TRUNCATE on the source (`truncate: apply`): every row removed, or marked deleted. */
export function truncateSql(target: string, soft: boolean): string {
  return soft
    ? `UPDATE ${target} SET ${quoteIdent(DELETED_AT)} = now() WHERE ${quoteIdent(DELETED_AT)} IS NULL`
    : `DELETE FROM ${target}`;
}

/** The target's columns with their SQL types (`format_type`). */
export const targetTypesSql = `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`;

/** On the source: the table's replica identity, key columns and all columns (with type OIDs). */
export const sourceTableSql = `SELECT c.relreplident AS ident,
    (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = c.oid AND ((c.relreplident = 'd' AND i.indisprimary) OR (c.relreplident = 'i' AND i.indisreplident))) AS key,
    (SELECT json_agg(json_build_object('name', a.attname, 'typeOid', a.atttypid) ORDER BY a.attnum) FROM pg_attribute a
      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`;

/** On the source: the slot's lag (to its confirmed position) and retained WAL (from its restart position). */
export const slotLagSql = `SELECT GREATEST(0, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn))::bigint AS lag,
    GREATEST(0, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn))::bigint AS retained
  FROM pg_replication_slots WHERE slot_name = $1`;
