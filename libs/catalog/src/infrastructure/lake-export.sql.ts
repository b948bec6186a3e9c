import { qualifiedTable, quoteIdent } from '@weir/platform';
import { MASK } from '../domain/contract-compiler';
import type { ExportColumn } from '../domain/lake-export';

/** SQL of lake exports; names through quoteIdent/qualifiedTable, values as quoted literals. */

/** A string as an SQL literal (standard_conforming_strings: only quotes double). */
export function sqlLiteral(v: string): string {
  return `'${v.replace(/'/g, "''")}'`;
}

/** One column as the text an export reads (see ExportReader). */
export function exportExpression(c: ExportColumn): string {
  const q = quoteIdent(c.name);
  // a masked PII column: its values never leave PostgreSQL
  if (c.mask === 'null') return 'NULL::text';
  if (c.mask === 'text') return `CASE WHEN ${q} IS NULL THEN NULL ELSE ${sqlLiteral(MASK)} END`;
  if (c.array) return `to_json(${q})::text`;
  switch (c.kind) {
    case 'date':
      return `(${q} - DATE '1970-01-01')::text`;
    case 'binary':
      return `encode(${q}, 'hex')`;
    case 'timestamp':
    case 'timestamptz':
      return `(extract(epoch FROM ${q}) * 1000000)::bigint::text`;
    default:
      return `${q}::text`;
  }
}

/** The partition columns' values, as text, in order. */
export function partitionValuesSql(schema: string, table: string, partitionBy: string[]): string {
  const cols = partitionBy.map((c, i) => `${quoteIdent(c)}::text AS p${i}`).join(', ');
  return `SELECT DISTINCT ${cols} FROM ${qualifiedTable(schema, table)} ORDER BY ${partitionBy.map((_, i) => `${i + 1}`).join(', ')}`;
}

/** The rows of an export: partition values then columns, as text, ordered by the partition. */
export function exportRowsSql(
  schema: string,
  table: string,
  columns: ExportColumn[],
  partitionBy: string[],
  only?: (string | null)[][],
): string {
  const list = [
    ...partitionBy.map((c, i) => `${quoteIdent(c)}::text AS p${i}`),
    ...columns.map((c, i) => `${exportExpression(c)} AS c${i}`),
  ].join(', ');
  let sql = `SELECT ${list} FROM ${qualifiedTable(schema, table)}`;
  if (only) {
    const match = (vals: (string | null)[]) =>
      '(' +
      partitionBy
        .map((c, i) =>
          vals[i] === null ? `${quoteIdent(c)} IS NULL` : `${quoteIdent(c)}::text = ${sqlLiteral(vals[i] as string)}`,
        )
        .join(' AND ') +
      ')';
    sql += ` WHERE ${only.length ? only.map(match).join(' OR ') : 'false'}`;
  }
  if (partitionBy.length) sql += ` ORDER BY ${partitionBy.map((_, i) => `${i + 1}`).join(', ')}`;
  return sql;
}

/**
 * A query run as the reader and streamed by COPY: through `platform.weir_read_rows` (migration
 * 1764040000000), where no change of role is allowed; `n` text columns.
 */
export function copyAsReaderSql(query: string, n: number, viaReader: boolean): string {
  if (!viaReader) return `COPY (${query}) TO STDOUT`;
  const defs = Array.from({ length: n }, (_, i) => `x${i} text`).join(', ');
  return `COPY (SELECT * FROM platform.weir_read_rows(${sqlLiteral(query)}) AS t(${defs})) TO STDOUT`;
}

export const EXPORT_SESSION_SQL = [`SET LOCAL DateStyle = 'ISO'`, `SET LOCAL TimeZone = 'UTC'`];
