import type { SqlStatement } from './graph-rows.util';

/** Inserts the namespaces a batch names (sorted: concurrent batches take their locks in one order). */
export function insertNamespacesSql(names: Iterable<string>): SqlStatement {
  return {
    sql: `INSERT INTO lineage.namespaces (name) SELECT n FROM unnest($1::varchar[]) n ORDER BY 1 ON CONFLICT (name) DO NOTHING`,
    params: [[...names].sort()],
  };
}
