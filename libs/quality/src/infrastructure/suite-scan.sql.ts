/**
 * The statements around a suite's scan (a read-only transaction on the warehouse, a savepoint the
 * scan can fall back to). The checks' own SQL is compiled by domain/suite-compiler.ts.
 */

export interface SqlQuery {
  text: string;
  values: unknown[];
}

/** The scan's transaction: nothing it runs may write. */
export const BEGIN_READ_ONLY = 'BEGIN READ ONLY';
export const COMMIT = 'COMMIT';
export const ROLLBACK = 'ROLLBACK';

/** The savepoint the scan rolls back to when it fails as a whole. */
export const SCAN_SAVEPOINT = 'weir_scan';
export const savepointSql = (name: string): string => `SAVEPOINT ${name}`;
export const releaseSavepointSql = (name: string): string => `RELEASE SAVEPOINT ${name}`;
export const rollbackToSavepointSql = (name: string): string => `ROLLBACK TO SAVEPOINT ${name}`;

/** Whether `schema.table` exists (as `e`); the names are validated identifiers, quoted here. */
export function tableExistsQuery(target: { schema: string; table: string }): SqlQuery {
  return { text: `SELECT to_regclass($1) IS NOT NULL AS e`, values: [`"${target.schema}"."${target.table}"`] };
}
