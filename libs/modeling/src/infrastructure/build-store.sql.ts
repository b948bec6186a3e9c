import type { NewBuild } from '../application/ports/build-store.port';
import type { StepPatch } from '../application/modeling.views';

/** A statement, its parameters, and (for publishAlong) the CTEs it needs. */
export interface Sql {
  sql: string;
  params: unknown[];
  ctes?: string;
}

/** The build, its pending steps in DAG order: one statement (the outbox adds the START event). */
export const createBuildSql = (b: NewBuild): Sql => ({
  sql: `SELECT id FROM b`,
  params: [
    b.id,
    b.projectId,
    b.selector,
    b.fullRefresh,
    b.steps.map((s) => s.nodeId),
    b.steps.map((s) => s.materialized),
    b.takeOver,
    b.parent ? JSON.stringify(b.parent) : null,
    b.command ?? null,
    b.dbtArgs ? JSON.stringify(b.dbtArgs) : null,
  ],
  ctes: `b AS (INSERT INTO modeling.builds (id, project_id, selector, full_refresh, take_over, status, parent, command, dbt_args) VALUES ($1, $2, $3, $4, $7, 'running', $8::jsonb, $9, $10::jsonb) RETURNING id),
       s AS (INSERT INTO modeling.build_steps (build_id, node_id, materialized, status)
             SELECT b.id, x.node, x.mat, 'pending' FROM b, unnest($5::text[], $6::text[]) WITH ORDINALITY x(node, mat, ord) ORDER BY x.ord)`,
});

/** The build and its steps in one round trip (builds are polled). */
export const findBuildSql = (id: string): Sql => ({
  sql: `SELECT b.id, b.project_id, b.selector, b.full_refresh, b.take_over, b.status, b.started_at, b.finished_at, b.command, b.dbt_args,
               (SELECT json_agg(json_build_object('node_id', s.node_id, 'materialized', s.materialized, 'status', s.status,
                                                  'started_at', s.started_at, 'finished_at', s.finished_at,
                                                  'rows_affected', s.rows_affected, 'error', s.error, 'error_code', s.error_code,
                                                  'refs', s.refs) ORDER BY s.id)
                  FROM modeling.build_steps s WHERE s.build_id = b.id) AS steps
          FROM modeling.builds b WHERE b.id = $1`,
  params: [id],
});

/** A running build asked to stop: no step starts after its runner sees it. */
export const requestCancelSql = (id: string): Sql => ({
  sql: `UPDATE modeling.builds SET cancel_requested_at = COALESCE(cancel_requested_at, now())
         WHERE id = $1 AND status = 'running' RETURNING id`,
  params: [id],
});

export const cancelRequestedSql = (id: string): Sql => ({
  sql: `SELECT 1 FROM modeling.builds WHERE id = $1 AND cancel_requested_at IS NOT NULL`,
  params: [id],
});

export const heartbeatSql = (id: string): Sql => ({
  sql: `UPDATE modeling.builds SET heartbeat_at = now() WHERE id = $1 AND status = 'running' RETURNING id`,
  params: [id],
});

const STEP_COLUMNS: Record<keyof StepPatch, string> = {
  status: 'status',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  rowsAffected: 'rows_affected',
  compiledSql: 'compiled_sql',
  error: 'error',
  errorCode: 'error_code',
  refs: 'refs',
};

/** The step's given fields, only while its build is running (FOR SHARE: recovery waits for it). */
export function updateStepSql(buildId: string, nodeId: string, patch: StepPatch): Sql {
  const keys = (Object.keys(patch) as (keyof StepPatch)[]).filter((k) => patch[k] !== undefined && k in STEP_COLUMNS);
  if (!keys.length) throw new Error(`updateStep ${nodeId}: empty patch`);
  const params: unknown[] = [
    buildId,
    nodeId,
    ...keys.map((k) => (k === 'refs' && patch.refs !== null ? JSON.stringify(patch.refs) : patch[k])),
  ];
  return {
    sql: `UPDATE modeling.build_steps SET ${keys.map((k, i) => `${STEP_COLUMNS[k]} = $${i + 3}`).join(', ')}
           WHERE build_id = $1 AND node_id = $2
             AND EXISTS (SELECT 1 FROM modeling.builds b WHERE b.id = $1 AND b.status = 'running' FOR SHARE) RETURNING id`,
    params,
  };
}

export const endBuildSql = (id: string, status: 'succeeded' | 'failed', at: Date): Sql => ({
  sql: `UPDATE modeling.builds SET status = $2, finished_at = $3 WHERE id = $1 AND status = 'running' RETURNING id`,
  params: [id, status, at],
});

/** Stale builds failed, their running steps failed and pending ones skipped; the started steps per build. */
export const failStaleSql = (staleMs: number, message: string): Sql => ({
  sql: `WITH b AS (UPDATE modeling.builds SET status = 'failed', finished_at = now()
                    WHERE status = 'running' AND heartbeat_at < now() - $1::interval RETURNING id, project_id, parent),
             s AS (UPDATE modeling.build_steps st SET status = CASE WHEN st.status = 'running' THEN 'failed' ELSE 'skipped' END,
                          finished_at = CASE WHEN st.status = 'running' THEN now() END, error = $2
                     FROM b WHERE st.build_id = b.id AND st.status IN ('running', 'pending') RETURNING st.build_id, st.node_id, st.status)
        SELECT b.id, b.project_id, b.parent, (SELECT array_agg(s.node_id) FROM s WHERE s.build_id = b.id AND s.status = 'failed') AS started FROM b`,
  params: [`${staleMs / 1000} seconds`, message],
});

/** Builds newest first with their steps counted by status. */
export const listBuildsSql = (f: { projectId?: string; status?: string; limit: number; before?: string }): Sql => ({
  sql: `SELECT b.id, b.project_id, b.selector, b.command, b.status, b.started_at, b.finished_at,
               count(s.id)::int AS total,
               (count(*) FILTER (WHERE s.status = 'succeeded'))::int AS succeeded,
               (count(*) FILTER (WHERE s.status = 'failed'))::int AS failed,
               (count(*) FILTER (WHERE s.status = 'skipped'))::int AS skipped,
               (count(*) FILTER (WHERE s.status = 'running'))::int AS running,
               (count(*) FILTER (WHERE s.status = 'pending'))::int AS pending
          FROM modeling.builds b LEFT JOIN modeling.build_steps s ON s.build_id = b.id
         WHERE ($1::uuid IS NULL OR b.project_id = $1) AND ($2::text IS NULL OR b.status = $2)
           AND ($3::timestamptz IS NULL OR b.started_at < $3)
         GROUP BY b.id
         ORDER BY b.started_at DESC, b.id DESC
         LIMIT $4`,
  params: [f.projectId ?? null, f.status ?? null, f.before ?? null, f.limit],
});
