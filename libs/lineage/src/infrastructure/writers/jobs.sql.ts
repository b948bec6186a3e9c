import { type Json, type SqlStatement, withoutDeleted } from './graph-rows.util';

/**
 * Inserts the jobs not there yet and reads back the existing ones (`= ANY(array)` on the indexed
 * columns: a superset the writer narrows), each row flagged `inserted`. `jobs` in key order.
 */
export function insertOrFindJobsSql(
  jobs: { namespace: string; name: string; facets: Json; run: string | null }[],
): SqlStatement {
  return {
    sql: `WITH ins AS (INSERT INTO lineage.jobs (namespace, name, facets, latest_run_id) SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::jsonb[], $4::uuid[])
                        ON CONFLICT (namespace, name) DO NOTHING RETURNING id, namespace, name, facets, latest_run_id)
           SELECT *, true AS inserted FROM ins
           UNION ALL SELECT id, namespace, name, facets, latest_run_id, false FROM lineage.jobs WHERE namespace = ANY($5::varchar[]) AND name = ANY($2::varchar[])`,
    params: [
      jobs.map((j) => j.namespace),
      jobs.map((j) => j.name),
      jobs.map((j) => JSON.stringify(withoutDeleted(j.facets))),
      jobs.map((j) => j.run),
      [...new Set(jobs.map((j) => j.namespace))],
    ],
  };
}

/** Updates the facets and latest run of existing jobs, by primary key (`changed` in id order). */
export function updateJobsSql(changed: { id: string; facets: Json; run: string | null }[]): SqlStatement {
  return {
    sql: `UPDATE lineage.jobs t SET facets = x.f, latest_run_id = x.r, updated_at = now() FROM unnest($1::bigint[], $2::jsonb[], $3::uuid[]) AS x(id, f, r)
            WHERE t.id = ANY($1::bigint[]) AND t.id = x.id`,
    params: [changed.map((c) => c.id), changed.map((c) => JSON.stringify(c.facets)), changed.map((c) => c.run)],
  };
}

/** Locks jobs (ids in ascending order), so concurrent batches completing runs of them take turns. */
export function lockJobsSql(ids: string[]): SqlStatement {
  return { sql: `SELECT id FROM lineage.jobs WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`, params: [ids] };
}
