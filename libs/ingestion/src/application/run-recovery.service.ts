import * as fs from 'node:fs';
import * as path from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import {
  HEARTBEAT_MS,
  instanceAliveSql,
  liveStaleMs,
  periodic,
  PeriodicTask,
  PresenceLock,
  rowsOf,
  Warehouse,
  WEIR_CONFIG,
  WeirConfig,
} from '@weir/platform';
import { SourceOrmEntity } from '../infrastructure/source.orm-entity';
import { INGESTION_CONFIG, IngestionConfig } from '../ingestion.config';
import { RunEventsPublisher } from './run-events.publisher';

/**
 * run-recovery: runs whose worker died (stale heartbeat, a dead instance) are failed with their FAIL
 * event; uploads held by a gone instance are failed; orphaned stage tables and leftover upload files
 * are removed. At a worker's start, then periodically (see RunWorkerService).
 */
@Injectable()
export class RunRecoveryService {
  private readonly log = new Logger('ingestion');
  /** A running run whose heartbeat is older than this is taken as interrupted (WEIR_RUN_STALE_SECONDS). */
  staleMs: number;
  /** How often workers look for runs interrupted elsewhere (a dead instance), besides at start. */
  recoverEveryMs: number;
  private recovery?: PeriodicTask;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly warehouse: Warehouse,
    @Inject(INGESTION_CONFIG) private readonly cfg: IngestionConfig,
    @Inject(WEIR_CONFIG) config: WeirConfig,
    private readonly presence: PresenceLock,
    private readonly events: RunEventsPublisher,
  ) {
    this.staleMs = config.runStaleMs;
    this.recoverEveryMs = Math.max(5000, this.staleMs / 2);
  }

  /** Runs another instance left behind when it died are failed by the survivors, not only at a restart. */
  startPeriodic(): void {
    this.recovery = periodic({
      everyMs: () => this.recoverEveryMs,
      run: () => this.recover(liveStaleMs(this.staleMs)),
      onError: (e) => this.log.error(`recovering interrupted runs: ${e.message}`),
    });
  }

  async stop(): Promise<void> {
    await this.recovery?.stop();
  }

  /** Fails runs whose worker died (stale heartbeat) and drops staging tables nobody owns. */
  async recover(staleMs = this.staleMs): Promise<void> {
    const message =
      'the worker running it stopped (crash or kill) before publishing; the target is unchanged, trigger it again';
    const rows = await this.ds.transaction(async (em) => {
      // stale heartbeat; or claimed by an instance known dead (this one before a restart, or one
      // whose presence connection is gone and whose heartbeat stopped): no need to wait the timeout
      const stale = await em.query(
        `UPDATE ingestion.runs SET status = 'failed', finished_at = now(), error_code = 'INGESTION.INTERRUPTED', error_message = $2
          WHERE status = 'running' AND (heartbeat_at IS NULL OR heartbeat_at < now() - $1::interval
                OR claimed_by = ANY($3::text[])
                OR (claimed_by IS NOT NULL AND claimed_by <> $4 AND heartbeat_at < now() - $5::interval AND NOT ${instanceAliveSql('claimed_by')}))
          RETURNING id, source_id`,
        [
          `${staleMs / 1000} seconds`,
          message,
          this.presence.previousInstances,
          this.presence.instanceId,
          `${(2 * HEARTBEAT_MS) / 1000} seconds`,
        ],
      );
      // uploads held by an instance that is gone cannot be read by anyone else: failed clearly
      const lost = await em.query(
        `UPDATE ingestion.runs SET status = 'failed', finished_at = now(), error_code = 'INGESTION.UPLOAD_LOST',
                error_message = 'the instance that received this upload (' || (input->>'heldBy') || ') is gone, and the file with it; upload it again'
          WHERE status = 'queued' AND input->>'heldBy' IS NOT NULL AND input->>'heldBy' <> $2
            AND (input->>'heldBy' = ANY($1::text[]) OR (created_at < now() - interval '10 seconds' AND NOT ${instanceAliveSql(`(input->>'heldBy')`)}))
          RETURNING id, source_id`,
        [this.presence.previousInstances, this.presence.instanceId],
      );
      const lostRows = rowsOf<{ id: string; source_id: string }>(lost);
      if (lostRows.length)
        this.log.warn(
          `failed ${lostRows.length} queued upload run(s) whose instance is gone: ${lostRows.map((r) => r.id).join(', ')}`,
        );
      const rs = [...rowsOf<{ id: string; source_id: string }>(stale), ...lostRows];
      const sources = rs.length
        ? await em.getRepository(SourceOrmEntity).findBy({ id: In([...new Set(rs.map((r) => r.source_id))]) })
        : [];
      const byId = new Map(sources.map((x) => [x.id, x]));
      for (const r of rs) {
        const source = byId.get(r.source_id);
        if (source)
          await this.events.publish(em, r.id, source, 'FAIL', { error: { code: 'INGESTION.INTERRUPTED', message } });
      }
      return rs;
    });
    if (rows.length)
      this.log.warn(
        `marked ${rows.length} interrupted run(s) failed: ${rows.map((r: { id: string }) => r.id).join(', ')}`,
      );
    const orphans = await this.warehouse.query<{ s: string; t: string }>(
      `SELECT n.nspname AS s, c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND c.relname LIKE '\\_\\_weir\\_stage\\_%'
          AND NOT EXISTS (SELECT 1 FROM ingestion.runs r WHERE r.status = 'running' AND replace(r.id::text, '-', '') LIKE substr(c.relname, 14) || '%')`,
    );
    for (const o of orphans)
      await this.warehouse.query(`DROP TABLE IF EXISTS "${o.s}"."${o.t}"`).catch(() => undefined);
    await this.removeLeftoverUploads();
  }

  /**
   * Upload files no queued or running run needs (their run ended while a process was killed before it
   * could remove them, or the upload never became a run) are removed; a file younger than an hour
   * without a run may still be arriving and is kept.
   */
  private async removeLeftoverUploads(): Promise<void> {
    const dir = this.cfg.uploadDir;
    if (!fs.existsSync(dir)) return;
    const names = fs.readdirSync(dir).filter((n) => /^[0-9a-f-]{36}$/.test(n));
    if (!names.length) return;
    const files = names.map((n) => path.join(dir, n));
    // per file: whether some run still needs it (queued or running), absent when no run has it
    const live = new Map(
      rowsOf<{ f: string; live: boolean }>(
        await this.ds.query(
          `SELECT input->>'uploadId' AS f, bool_or(status IN ('queued', 'running')) AS live FROM ingestion.runs WHERE input->>'uploadId' = ANY($1::text[]) GROUP BY 1`,
          [files],
        ),
      ).map((r) => [r.f, r.live]),
    );
    let removed = 0;
    for (const f of files) {
      if (live.get(f)) continue;
      const young = Date.now() - (fs.statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0) < 3_600_000;
      if (!live.has(f) && young) continue; // no run yet: maybe still arriving
      fs.rmSync(f, { force: true });
      removed++;
    }
    if (removed) this.log.warn(`removed ${removed} upload file(s) left behind by ended runs in ${dir}`);
  }
}
