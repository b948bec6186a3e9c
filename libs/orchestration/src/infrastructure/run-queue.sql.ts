import type { LeaseOptions, NewPipelineRun, StepChanges } from '../application/ports/run-queue.port';
import { KEY_PATTERN, partitionKey, PartitionRange } from '../domain/partitions';

/** The slots of a pool not defined in orchestration.pools, unless the caller says otherwise. */
export const DEFAULT_POOL_SLOTS = 16;

/** A statement and its bound parameters. */
export interface Sql {
  sql: string;
  params: unknown[];
}

export const RUN_COLUMNS = `id, pipeline_id, version, status, trigger, partition, params, idempotency_key, created_by,
  created_at, started_at, finished_at, error, backfill_id`;
export const STEP_COLUMNS = `id, run_id, step_id, kind, status, pool, attempt, max_attempts, ready_at, lease_owner,
  lease_expires_at, started_at, finished_at, error_code, error, ref, output`;

/** The run and its pending steps, in one statement. */
export const createRunSql = (r: NewPipelineRun): Sql => ({
  sql: `WITH r AS (INSERT INTO orchestration.runs (pipeline_id, version, status, trigger, partition, params, idempotency_key, created_by, backfill_id)
                   VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7, $11) RETURNING ${RUN_COLUMNS}),
             s AS (INSERT INTO orchestration.step_runs (run_id, step_id, kind, status, max_attempts, pool)
                   SELECT r.id, x.step, x.kind, 'pending', x.max, x.pool
                     FROM r, unnest($8::text[], $9::text[], $10::int[], $12::text[]) x(step, kind, max, pool))
        SELECT * FROM r`,
  params: [
    r.pipelineId,
    r.version,
    r.trigger,
    r.partition,
    JSON.stringify(r.params),
    r.idempotencyKey,
    r.createdBy,
    r.steps.map((s) => s.stepId),
    r.steps.map((s) => s.kind),
    r.steps.map((s) => s.maxAttempts),
    r.backfillId ?? null,
    r.steps.map((s) => s.pool ?? null),
  ],
});

/** Per partition (all, or those of `keys`): its latest run and its last success (orchestration.partition_states). */
export const partitionStatesSql = (pipelineId: string, keys?: string[]): Sql => ({
  sql: `SELECT partition, run_id AS id, status, last_run_at AS created_at, last_success_at AS last_success
          FROM orchestration.partition_states WHERE pipeline_id = $1${keys ? ' AND partition = ANY($2::text[])' : ''}`,
  params: keys ? [pipelineId, keys] : [pipelineId],
});

const SERIES_STEP = { hourly: '1 hour', daily: '1 day', monthly: '1 month' } as const;
const KEY_FORMAT = { hourly: 'YYYY-MM-DD"T"HH24', daily: 'YYYY-MM-DD', monthly: 'YYYY-MM' } as const;
/** A UTC instant as a timestamp without time zone (the series steps in UTC whatever the session's zone). */
const utc = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');

/** Partitions of the range that are not gaps: one index range scan of partition_states. */
export const partitionsCoveredSql = (pipelineId: string, r: PartitionRange): Sql => ({
  sql: `SELECT count(*)::int AS n FROM orchestration.partition_states
         WHERE pipeline_id = $1 AND partition BETWEEN $2 AND $3 AND partition ~ $4
           AND status NOT IN ('failed', 'cancelled')`,
  params: [pipelineId, partitionKey(r.kind, r.first), partitionKey(r.kind, r.last), KEY_PATTERN[r.kind]],
});

/** The gaps of a range, paged: its keys made by generate_series, each looked up in partition_states. */
export const gapsPageSql = (pipelineId: string, r: PartitionRange, offset: number, limit: number): Sql => ({
  sql: `SELECT k.key AS partition, s.run_id AS id, s.status, s.last_run_at AS created_at, s.last_success_at AS last_success
          FROM generate_series($2::timestamp, $3::timestamp, $4::interval) AS g(t)
          CROSS JOIN LATERAL (SELECT to_char(g.t, $5) AS key) k
          LEFT JOIN orchestration.partition_states s ON s.pipeline_id = $1 AND s.partition = k.key
         WHERE s.status IS NULL OR s.status IN ('failed', 'cancelled')
         ORDER BY g.t OFFSET $6 LIMIT $7`,
  params: [pipelineId, utc(r.first), utc(r.last), SERIES_STEP[r.kind], KEY_FORMAT[r.kind], offset, limit],
});

export const findLiveSql = (pipelineId: string, key: string): Sql => ({
  sql: `SELECT ${RUN_COLUMNS} FROM orchestration.runs
         WHERE pipeline_id = $1 AND idempotency_key = $2 AND status NOT IN ('failed', 'cancelled')
         ORDER BY created_at DESC LIMIT 1`,
  params: [pipelineId, key],
});

/** The oldest queued runs of a pipeline, as many as it has free slots (`maxActive` less those running). */
export const startableSql = (pipelineId: string, maxActive: number): Sql => ({
  sql: `SELECT ${RUN_COLUMNS} FROM orchestration.runs WHERE pipeline_id = $1 AND status = 'queued'
         ORDER BY created_at, id
         LIMIT greatest(0, $2::int - (SELECT count(*) FROM orchestration.runs WHERE pipeline_id = $1 AND status = 'running'))`,
  params: [pipelineId, maxActive],
});

export function listRunsSql(f: { pipelineId?: string; status?: string; partition?: string; limit: number }): Sql {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.pipelineId !== undefined) where.push(`pipeline_id = $${params.push(f.pipelineId)}`);
  if (f.status !== undefined) where.push(`status = $${params.push(f.status)}`);
  if (f.partition !== undefined) where.push(`partition = $${params.push(f.partition)}`);
  return {
    sql: `SELECT ${RUN_COLUMNS} FROM orchestration.runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
          ORDER BY created_at DESC LIMIT $${params.push(f.limit)}`,
    params,
  };
}

/**
 * A run's status and its steps' states (`steps`: step id → state); with `pipelineId`, the runs of
 * that pipeline running (`running`).
 */
export const planReadSql = (runId: string, pipelineId: string | null = null): Sql => ({
  sql: `SELECT r.status, (SELECT json_object_agg(s.step_id, s.status) FROM orchestration.step_runs s WHERE s.run_id = r.id) AS steps,
               CASE WHEN $2::uuid IS NULL THEN 0
                    ELSE (SELECT count(*) FROM orchestration.runs x WHERE x.pipeline_id = $2::uuid AND x.status = 'running') END AS running
          FROM orchestration.runs r WHERE r.id = $1`,
  params: [runId, pipelineId],
});

/**
 * A plan's locks, in one statement: with `pipelineId` the pipeline's promotion lock first (blocking:
 * its holder waits for no other lock but its own run's row, which no other plan of a start holds
 * without it), then the run's row (FOR UPDATE); its status.
 */
export const planLockSql = (runId: string, pipelineId: string | null): Sql => ({
  sql: `WITH l AS MATERIALIZED (SELECT CASE WHEN $2::text IS NULL THEN true
                                            ELSE (SELECT true FROM (SELECT pg_advisory_xact_lock(hashtextextended('weir.promote:' || $2::text, 0))) w) END AS ok)
        SELECT r.status FROM l, orchestration.runs r WHERE r.id = $1 FOR UPDATE OF r`,
  params: [runId, pipelineId],
});

/**
 * A plan's changes in one statement (under the run's lock): steps queued, steps skipped with their
 * reason (`ctes`), and the run's status (`statement`, a row when it changed: running, or its end).
 */
export const planApplySql = (
  runId: string,
  c: StepChanges,
  status: 'running' | 'succeeded' | 'failed',
): { ctes: string; statement: string; params: unknown[] } => ({
  ctes: `queued AS (UPDATE orchestration.step_runs SET status = 'queued', ready_at = now()
                     WHERE run_id = $1 AND step_id = ANY($2::text[]) AND status = 'pending'),
         skipped AS (UPDATE orchestration.step_runs s SET status = 'skipped', finished_at = now(), error = x.reason
                       FROM unnest($3::text[], $4::text[]) AS x(step_id, reason)
                      WHERE s.run_id = $1 AND s.step_id = x.step_id AND s.status = 'pending')`,
  statement: `UPDATE orchestration.runs SET status = $5::text, started_at = COALESCE(started_at, now()),
                     finished_at = CASE WHEN $5::text = 'running' THEN finished_at ELSE now() END,
                     error = CASE WHEN $5::text = 'running' THEN error ELSE $6::text END
               WHERE id = $1 AND status <> $5::text RETURNING id`,
  params: [runId, c.queue, c.skip.map((s) => s.stepId), c.skip.map((s) => s.reason), status, c.end?.error ?? null],
});

/**
 * A step's lease in one statement: orchestration.lease_step (migration 1763996000000: the
 * candidate, the run's and pool's locks, their room counted under them, the claim), the locks
 * held only for this statement's own transaction. `leased`: the step with its run's partition,
 * params, pipeline, version and trigger (jsonb), or null.
 */
export const leaseSql = (owner: string, leaseMs: number, opts: LeaseOptions): Sql => ({
  sql: `SELECT orchestration.lease_step($1, $2::interval, $3::text[], $4::text[], $5::int) AS leased`,
  params: [
    owner,
    `${leaseMs / 1000} seconds`,
    opts.kinds ? [...opts.kinds] : null,
    opts.notKinds ? [...opts.notKinds] : null,
    opts.defaultPoolSlots ?? DEFAULT_POOL_SLOTS,
  ],
});

/** A lease is its step, its owner and its attempt: an older attempt of the same owner no longer holds it. */
export const renewSql = (id: string, owner: string, attempt: number, leaseMs: number): Sql => ({
  sql: `UPDATE orchestration.step_runs SET lease_expires_at = now() + $3::interval
         WHERE id = $1 AND lease_owner = $2 AND attempt = $4 AND status = 'running' RETURNING id`,
  params: [id, owner, `${leaseMs / 1000} seconds`, attempt],
});

export const succeedSql = (
  id: string,
  owner: string,
  attempt: number,
  output: Record<string, unknown> | null,
): Sql => ({
  sql: `UPDATE orchestration.step_runs SET status = 'succeeded', finished_at = now(), lease_owner = NULL,
               lease_expires_at = NULL, output = $3
         WHERE id = $1 AND lease_owner = $2 AND attempt = $4 AND status = 'running' RETURNING run_id`,
  params: [id, owner, output === null ? null : JSON.stringify(output), attempt],
});

/** A failed attempt: queued again after the backoff while attempts are left, else failed. */
export const failSql = (
  id: string,
  owner: string,
  attempt: number,
  f: { code: string; message: string; retryInMs: number | null },
): Sql => ({
  sql: `UPDATE orchestration.step_runs
           SET status = CASE WHEN $5::bigint IS NOT NULL AND attempt < max_attempts THEN 'queued' ELSE 'failed' END,
               ready_at = CASE WHEN $5::bigint IS NOT NULL AND attempt < max_attempts THEN now() + ($5::bigint * interval '1 millisecond') ELSE ready_at END,
               finished_at = CASE WHEN $5::bigint IS NOT NULL AND attempt < max_attempts THEN NULL ELSE now() END,
               error_code = $3, error = $4, lease_owner = NULL, lease_expires_at = NULL
         WHERE id = $1 AND lease_owner = $2 AND attempt = $6 AND status = 'running' RETURNING run_id, status`,
  params: [id, owner, f.code, f.message.slice(0, 4000), f.retryInMs, attempt],
});

/** Leases that expired: the step goes back to the queue while attempts are left, else fails. */
export const reclaimSql = (): Sql => ({
  sql: `UPDATE orchestration.step_runs
           SET status = CASE WHEN attempt < max_attempts THEN 'queued' ELSE 'failed' END,
               ready_at = now(), finished_at = CASE WHEN attempt < max_attempts THEN NULL ELSE now() END,
               error_code = 'ORCHESTRATION.LEASE_EXPIRED',
               error = 'the worker running it stopped renewing its lease (crash or kill); ' ||
                       CASE WHEN attempt < max_attempts THEN 'queued again' ELSE 'no attempt left' END,
               lease_owner = NULL, lease_expires_at = NULL
         WHERE status = 'running' AND lease_expires_at < now() RETURNING run_id`,
  params: [],
});

/** Active runs that no step moves on: a running run with no queued or running step, a queued run. */
export const stalledRunsSql = (): Sql => ({
  sql: `SELECT r.id, r.pipeline_id, r.status FROM orchestration.runs r
         WHERE r.status IN ('queued', 'running')
           AND NOT EXISTS (SELECT 1 FROM orchestration.step_runs s WHERE s.run_id = r.id AND s.status IN ('queued', 'running'))`,
  params: [],
});
