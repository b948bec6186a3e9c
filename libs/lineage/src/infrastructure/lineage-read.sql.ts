import type { SqlStatement } from './writers/graph-rows.util';

/** What a run in Marquez's shape is made of (runs `r` joined to their job `j`). */
export const RUN_COLUMNS = `r.id, r.state, r.parent_run_id, r.nominal_start_time, r.nominal_end_time, r.started_at, r.ended_at, r.event_time, r.facets, r.created_at, r.updated_at,
  j.namespace AS job_namespace, j.name AS job_name`;

/** A page of raw events by event time (ties by arrival), and their count. */
export interface EventsQuery {
  before?: string;
  after?: string;
  sortDirection: 'asc' | 'desc';
  limit: number;
  offset: number;
  withWarnings?: boolean;
}

/** The page of {@link EventsQuery} (`payload`, `warnings`) and the count of all it matches (`n`). */
export function eventsPageSql(q: EventsQuery): { page: SqlStatement; count: SqlStatement } {
  const dir = q.sortDirection === 'asc' ? 'ASC' : 'DESC';
  const range = [q.before ?? 'infinity', q.after ?? '-infinity'];
  const where = `event_time < $1::timestamptz AND event_time >= $2::timestamptz${q.withWarnings ? ' AND warnings IS NOT NULL' : ''}`;
  return {
    page: {
      sql: `SELECT payload, warnings FROM lineage.events WHERE ${where} ORDER BY event_time ${dir}, id ${dir} LIMIT $3 OFFSET $4`,
      params: [...range, q.limit, q.offset],
    },
    count: { sql: `SELECT count(*)::int AS n FROM lineage.events WHERE ${where}`, params: range },
  };
}

/** A search of datasets and jobs by name. */
export interface SearchQuery {
  q: string;
  filter?: 'DATASET' | 'JOB';
  sort: 'NAME' | 'UPDATE_AT';
  limit: number;
  namespace?: string;
}

/**
 * Datasets and jobs whose name contains `q` (case-insensitive; `\`, `%` and `_` match themselves),
 * with the count of all that match (`total`). Exact matches come first, then prefix matches, then
 * the rest; each band by name or by last update (newest first). A name matches exactly or by prefix
 * whole (`mart.orders`) or by its last dotted part (`orders` in `mart.orders`).
 */
export function searchSql(q: SearchQuery): SqlStatement {
  const escaped = q.q.replace(/[\\%_]/g, (c) => `\\${c}`);
  const last = `regexp_replace(name, '^.*[.]', '')`;
  const rank = `CASE WHEN lower(name) = lower($5) OR lower(${last}) = lower($5) THEN 0 WHEN name ILIKE $6 OR ${last} ILIKE $6 THEN 1 ELSE 2 END`;
  return {
    sql: `SELECT type, name, namespace, updated_at, count(*) OVER () AS total FROM (
         SELECT 'DATASET' AS type, name, namespace, updated_at FROM lineage.datasets WHERE $2::text IS DISTINCT FROM 'JOB' AND name ILIKE $1 AND ($4::text IS NULL OR namespace = $4)
         UNION ALL
         SELECT 'JOB', name, namespace, updated_at FROM lineage.jobs WHERE $2::text IS DISTINCT FROM 'DATASET' AND name ILIKE $1 AND ($4::text IS NULL OR namespace = $4)) x
        ORDER BY ${rank}, ${q.sort === 'UPDATE_AT' ? 'updated_at DESC, name, namespace, type' : 'name, namespace, type'} LIMIT $3`,
    params: [`%${escaped}%`, q.filter ?? null, q.limit, q.namespace ?? null, q.q, `${escaped}%`],
  };
}

/** A page of a job's runs, newest event first, with the count of all (`total`). */
export function runsOfJobSql(jobId: string, limit: number, offset: number): SqlStatement {
  return {
    sql: `SELECT ${RUN_COLUMNS}, count(*) OVER () AS total
         FROM lineage.runs r JOIN lineage.jobs j ON j.id = r.job_id WHERE r.job_id = $1 ORDER BY r.event_time DESC, r.id LIMIT $2 OFFSET $3`,
    params: [jobId, limit, offset],
  };
}

/** One run by its OpenLineage runId (a UUID). */
export function runByIdSql(id: string): SqlStatement {
  return {
    sql: `SELECT ${RUN_COLUMNS} FROM lineage.runs r JOIN lineage.jobs j ON j.id = r.job_id WHERE r.id = $1`,
    params: [id],
  };
}

/** A page of the datasets or jobs of a namespace, by name: their ids and the count of all (`total`). */
export function namespacePageSql(
  table: 'lineage.datasets' | 'lineage.jobs',
  ns: string,
  limit: number,
  offset: number,
): SqlStatement {
  return {
    sql: `SELECT id, count(*) OVER () AS total FROM ${table} WHERE namespace = $1 ORDER BY name LIMIT $2 OFFSET $3`,
    params: [ns, limit, offset],
  };
}
