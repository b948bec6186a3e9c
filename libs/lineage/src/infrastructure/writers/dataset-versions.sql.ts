import type { Json, SqlStatement } from './graph-rows.util';

/**
 * Inserts new schema versions (in dataset id, version order), stamped with the run that brought
 * them, and moves each dataset's `current_version` up to its newest (never down), in one statement.
 */
export function insertVersionsSql(
  versions: { id: string; version: number; fields: Json[] }[],
  runId: string | null,
): SqlStatement {
  return {
    sql: `WITH ins AS (INSERT INTO lineage.dataset_versions (dataset_id, version, fields, run_id) SELECT *, $4::uuid FROM unnest($1::bigint[], $2::int[], $3::jsonb[])
                      ON CONFLICT (dataset_id, version) DO NOTHING RETURNING dataset_id, version)
         UPDATE lineage.datasets d SET current_version = m.version FROM (SELECT dataset_id, max(version) AS version FROM ins GROUP BY 1) m
          WHERE d.id = ANY($1::bigint[]) AND d.id = m.dataset_id AND d.current_version < m.version`,
    params: [
      versions.map((v) => v.id),
      versions.map((v) => v.version),
      versions.map((v) => JSON.stringify(v.fields)),
      runId,
    ],
  };
}
