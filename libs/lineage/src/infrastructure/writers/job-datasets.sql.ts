import type { SqlStatement } from './graph-rows.util';

/** A job-reads/writes-dataset edge, by ids. */
export interface JobEdge {
  job: string;
  direction: 'input' | 'output';
  dataset: string;
}

/**
 * Inserts the edges not there yet (`edges` in job, direction, dataset order) and reads back, in the
 * same statement, what the output edges among them remember of their column lineage (rows with
 * `direction` null) and every edge of the jobs in `retargeted` (rows with `direction` set).
 */
export function insertJobEdgesSql(edges: JobEdge[], retargeted: string[]): SqlStatement {
  return {
    sql: `WITH ins AS (INSERT INTO lineage.job_datasets (job_id, direction, dataset_id) SELECT * FROM unnest($1::bigint[], $2::varchar[], $3::bigint[])
                        ON CONFLICT (job_id, direction, dataset_id) DO NOTHING RETURNING job_id)
           SELECT job_id, dataset_id, column_lineage_hash AS hash, column_lineage_at AS at, NULL AS direction FROM lineage.job_datasets
            WHERE job_id = ANY($1::bigint[]) AND dataset_id = ANY($3::bigint[]) AND direction = 'output' AND column_lineage_hash IS NOT NULL
           UNION ALL
           SELECT job_id, dataset_id, NULL, NULL, direction FROM lineage.job_datasets WHERE job_id = ANY($4::bigint[])`,
    params: [edges.map((e) => e.job), edges.map((e) => e.direction), edges.map((e) => e.dataset), retargeted],
  };
}

/** Deletes job edges (`edges` in job, direction, dataset order). */
export function deleteJobEdgesSql(edges: JobEdge[]): SqlStatement {
  return {
    sql: `DELETE FROM lineage.job_datasets jd WHERE jd.job_id = ANY($1::bigint[])
          AND (jd.job_id, jd.direction, jd.dataset_id) IN (SELECT * FROM unnest($1::bigint[], $2::varchar[], $3::bigint[]))`,
    params: [edges.map((e) => e.job), edges.map((e) => e.direction), edges.map((e) => e.dataset)],
  };
}

/** Stamps output edges with the digest and event time of the column lineage their job just gave. */
export function stampColumnLineageSql(
  stamps: { job: string; dataset: string; hash: string; at: string }[],
): SqlStatement {
  return {
    sql: `UPDATE lineage.job_datasets jd SET column_lineage_hash = x.h, column_lineage_at = x.at FROM unnest($1::bigint[], $2::bigint[], $3::varchar[], $4::timestamptz[]) AS x(j, d, h, at)
            WHERE jd.job_id = ANY($1::bigint[]) AND jd.job_id = x.j AND jd.direction = 'output' AND jd.dataset_id = x.d`,
    params: [
      stamps.map((x) => x.job),
      stamps.map((x) => x.dataset),
      stamps.map((x) => x.hash),
      stamps.map((x) => x.at),
    ],
  };
}
