/** SQL of the catalog's own tables that TypeORM does not write for us. */

export interface SqlQuery {
  text: string;
  values: unknown[];
}

/**
 * Transaction-scoped advisory locks on a relation and on a dataset name: one ownership claim at a
 * time per relation and per name (two builds racing for one relation).
 */
export function claimLockQuery(relation: string, name: string): SqlQuery {
  return {
    text: `SELECT pg_advisory_xact_lock(hashtextextended($1, 0)), pg_advisory_xact_lock(hashtextextended($2, 0))`,
    values: [`weir.claim:${relation}`, `weir.claim.name:${name}`],
  };
}

/**
 * A dataset's last load, and its publish event: one event per dataset row updated (none when there
 * is no such dataset), its payload a {@link DatasetUpdated}, its key `<runId>:<dataset>`.
 */
export function recordLoadSql(
  name: string,
  load: { runId: string; at: Date; rows: number | null; job?: string },
): { sql: string; params: unknown[]; payload: string; key: string } {
  return {
    sql: `UPDATE catalog.datasets SET last_load_at = $2, last_load_run_id = $3, last_load_rows = $4
           WHERE name = $1 RETURNING name, warehouse_schema, warehouse_table`,
    params: [name, load.at, load.runId, load.rows === null ? null : String(load.rows), load.job ?? null],
    payload: `jsonb_build_object('dataset', src.name, 'schema', src.warehouse_schema, 'table', src.warehouse_table,
               'runId', $3::text, 'rows', $4::bigint, 'job', $5::text, 'at', to_char($2::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`,
    key: `$3::text || ':' || src.name`,
  };
}
