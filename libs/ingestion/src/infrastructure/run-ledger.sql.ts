import { instanceAliveSql } from '@weir/platform';
import type { Liveness, NewRun, RunFailure, RunSuccess } from '../application/ports/run-ledger.port';

/** A statement and its bound parameters. */
export interface Sql {
  sql: string;
  params: unknown[];
}

const seconds = (ms: number) => `${ms / 1000} seconds`;

export const RUN_COLUMNS = `id, source_id, status, trigger, idempotency_key, input, created_by, created_at, started_at, finished_at,
  heartbeat_at, claimed_by, bytes_read, rows_read, rows_loaded, rows_rejected, rows_deduplicated, columns_discarded,
  watermark_before, watermark_after, quality, error_code, error_message`;

/** The source's row, locked (none when it was deleted). */
export const lockSourceSql = (sourceId: string): Sql => ({
  sql: `SELECT id FROM ingestion.sources WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`,
  params: [sourceId],
});

export const latestByKeySql = (sourceId: string, key: string): Sql => ({
  sql: `SELECT ${RUN_COLUMNS} FROM ingestion.runs WHERE source_id = $1 AND idempotency_key = $2 ORDER BY created_at DESC LIMIT 1`,
  params: [sourceId, key],
});

export const createRunSql = (r: NewRun): Sql => ({
  sql: `INSERT INTO ingestion.runs (source_id, status, trigger, idempotency_key, input, created_by)
        VALUES ($1, 'queued', $2, $3, $4, $5) RETURNING ${RUN_COLUMNS}`,
  params: [r.sourceId, r.trigger, r.idempotencyKey, JSON.stringify(r.input), r.createdBy],
});

export const startRunSql = (r: NewRun, instanceId: string): Sql => ({
  sql: `INSERT INTO ingestion.runs (source_id, status, trigger, idempotency_key, input, created_by, started_at, heartbeat_at, claimed_by)
        VALUES ($1, 'running', $2, $3, $4, $5, now(), now(), $6) RETURNING ${RUN_COLUMNS}`,
  params: [r.sourceId, r.trigger, r.idempotencyKey, JSON.stringify(r.input), r.createdBy, instanceId],
});

export const findRunSql = (id: string): Sql => ({
  sql: `SELECT ${RUN_COLUMNS} FROM ingestion.runs WHERE id = $1`,
  params: [id],
});

export function listRunsSql(f: { sourceId?: string; status?: string; limit: number }): Sql {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.sourceId !== undefined) where.push(`source_id = $${params.push(f.sourceId)}`);
  if (f.status !== undefined) where.push(`status = $${params.push(f.status)}`);
  return {
    sql: `SELECT ${RUN_COLUMNS} FROM ingestion.runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
          ORDER BY created_at DESC LIMIT $${params.push(f.limit)}`,
    params,
  };
}

export const countForSourceSql = (sourceId: string): Sql => ({
  sql: `SELECT count(*)::int AS n FROM ingestion.runs WHERE source_id = $1`,
  params: [sourceId],
});

/** The oldest queued run this instance may run (an upload is run by the instance holding its file). */
export const claimNextSql = (instanceId: string): Sql => ({
  sql: `UPDATE ingestion.runs SET status = 'running', started_at = now(), heartbeat_at = now(), claimed_by = $1
         WHERE id = (SELECT id FROM ingestion.runs WHERE status = 'queued' AND (input->>'heldBy' IS NULL OR input->>'heldBy' = $1)
                      ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1)
         RETURNING id, source_id, input->'parent' AS parent`,
  params: [instanceId],
});

export const heartbeatSql = (id: string): Sql => ({
  sql: `UPDATE ingestion.runs SET heartbeat_at = now() WHERE id = $1 RETURNING cancel_requested_at IS NOT NULL AS cancel`,
  params: [id],
});

/** A queued run cancelled: failed at once (nothing was read). */
export const cancelQueuedSql = (id: string, message: string): Sql => ({
  sql: `UPDATE ingestion.runs SET status = 'failed', finished_at = now(), error_code = 'INGESTION.CANCELLED', error_message = $2
         WHERE id = $1 AND status = 'queued' RETURNING id, source_id, input->'parent' AS parent`,
  params: [id, message],
});

/** A running run asked to stop: its worker sees it at its next heartbeat. */
export const requestCancelSql = (id: string): Sql => ({
  sql: `UPDATE ingestion.runs SET cancel_requested_at = COALESCE(cancel_requested_at, now())
         WHERE id = $1 AND status = 'running' RETURNING id`,
  params: [id],
});

export const progressSql = (id: string, p: { rowsRead: number; rowsRejected: number; bytesRead: number }): Sql => ({
  sql: `UPDATE ingestion.runs SET rows_read = $2, rows_rejected = $3, bytes_read = $4, heartbeat_at = now() WHERE id = $1`,
  params: [id, p.rowsRead, p.rowsRejected, p.bytesRead],
});

export const succeedSql = (id: string, s: RunSuccess): Sql => ({
  sql: `UPDATE ingestion.runs SET status = 'succeeded', finished_at = now(), heartbeat_at = now(), bytes_read = $2, rows_read = $3,
               rows_loaded = $4, rows_rejected = $5, rows_deduplicated = $6, columns_discarded = $7, watermark_before = $8,
               watermark_after = $9, quality = $10
         WHERE id = $1 AND status = 'running' RETURNING source_id`,
  params: [
    id,
    s.bytesRead,
    s.rowsRead,
    s.rowsLoaded,
    s.rowsRejected,
    s.rowsDeduplicated,
    s.columnsDiscarded && Object.keys(s.columnsDiscarded).length ? JSON.stringify(s.columnsDiscarded) : null,
    s.watermarkBefore,
    s.watermarkAfter,
    JSON.stringify(s.quality ?? null),
  ],
});

export const advanceWatermarkSql = (sourceId: string, watermark: string | null): Sql => ({
  sql: `UPDATE ingestion.sources SET watermark = $2, updated_at = now() WHERE id = $1`,
  params: [sourceId, watermark],
});

export const failSql = (id: string, f: RunFailure): Sql => ({
  sql: `UPDATE ingestion.runs SET status = 'failed', finished_at = now(), error_code = $2, error_message = $3, bytes_read = $4,
               rows_read = COALESCE($5, rows_read), rows_rejected = COALESCE($6, rows_rejected),
               rows_deduplicated = COALESCE($7, rows_deduplicated), quality = COALESCE($8, quality)
         WHERE id = $1 AND status = 'running' RETURNING id`,
  params: [
    id,
    f.code,
    f.message.slice(0, 4000),
    f.bytesRead,
    f.rowsRead,
    f.rowsRejected,
    f.rowsDeduplicated,
    f.quality === undefined || f.quality === null ? null : JSON.stringify(f.quality),
  ],
});

/** Dead: one of this instance's ids before a restart, or not alive with its heartbeat older than the grace. */
const deadSql = (claimed: string, prev: string, grace: string) =>
  `(${claimed} = ANY(${prev}::text[]) OR (heartbeat_at < now() - ${grace}::interval AND NOT ${instanceAliveSql(claimed)}))`;

export const failIfDeadSql = (id: string, live: Liveness): Sql => ({
  sql: `UPDATE ingestion.runs SET status = 'failed', finished_at = now(), error_code = 'INGESTION.INTERRUPTED',
               error_message = 'the worker running it stopped (crash or kill) before publishing; the target is unchanged'
         WHERE id = $1 AND status = 'running' AND claimed_by IS NOT NULL AND claimed_by <> $4
           AND ${deadSql('claimed_by', '$2', '$3')}
         RETURNING id`,
  params: [id, live.previousInstances, seconds(live.graceMs), live.instanceId],
});

export const failInterruptedSql = (staleMs: number, live: Liveness, message: string): Sql => ({
  sql: `UPDATE ingestion.runs SET status = 'failed', finished_at = now(), error_code = 'INGESTION.INTERRUPTED', error_message = $2
         WHERE status = 'running' AND (heartbeat_at IS NULL OR heartbeat_at < now() - $1::interval
               OR claimed_by = ANY($3::text[])
               OR (claimed_by IS NOT NULL AND claimed_by <> $4 AND heartbeat_at < now() - $5::interval AND NOT ${instanceAliveSql('claimed_by')}))
         RETURNING id, source_id, input->'parent' AS parent`,
  params: [seconds(staleMs), message, live.previousInstances, live.instanceId, seconds(live.graceMs)],
});

export const failLostUploadsSql = (live: Liveness): Sql => ({
  sql: `UPDATE ingestion.runs SET status = 'failed', finished_at = now(), error_code = 'INGESTION.UPLOAD_LOST',
               error_message = 'the instance that received this upload (' || (input->>'heldBy') || ') is gone, and the file with it; upload it again'
         WHERE status = 'queued' AND input->>'heldBy' IS NOT NULL AND input->>'heldBy' <> $2
           AND (input->>'heldBy' = ANY($1::text[]) OR (created_at < now() - $3::interval AND NOT ${instanceAliveSql(`(input->>'heldBy')`)}))
         RETURNING id, source_id, input->'parent' AS parent`,
  params: [live.previousInstances, live.instanceId, seconds(UPLOAD_ARRIVAL_MS)],
});

/** A queued upload younger than this is not failed yet: its instance may still be announcing itself. */
export const UPLOAD_ARRIVAL_MS = 10_000;

export const uploadsInUseSql = (files: string[]): Sql => ({
  sql: `SELECT input->>'uploadId' AS f, bool_or(status IN ('queued', 'running')) AS live
          FROM ingestion.runs WHERE input->>'uploadId' = ANY($1::text[]) GROUP BY 1`,
  params: [files],
});
