import * as fs from 'node:fs';
import * as path from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  HEARTBEAT_MS,
  liveStaleMs,
  periodic,
  PeriodicTask,
  PresenceLock,
  Warehouse,
  WEIR_CONFIG,
  WeirConfig,
} from '@weir/platform';
import { dropOrphanStages } from '../infrastructure/engine/stage-copy.writer';
import { Liveness, RUN_LEDGER, RunLedger } from './ports/run-ledger.port';
import type { SourceRecord } from './ports/source-repository.port';
import { SourcesService } from './sources.service';
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
    @Inject(RUN_LEDGER) private readonly ledger: RunLedger,
    private readonly sources: SourcesService,
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
    const live: Liveness = {
      instanceId: this.presence.instanceId,
      previousInstances: this.presence.previousInstances,
      graceMs: 2 * HEARTBEAT_MS,
    };
    const rows = await this.ledger.transaction(async (tx) => {
      // stale heartbeat; or claimed by an instance known dead (this one before a restart, or one
      // whose presence connection is gone and whose heartbeat stopped): no need to wait the timeout
      const stale = await this.ledger.failInterrupted(tx, staleMs, live, message);
      // uploads held by an instance that is gone cannot be read by anyone else: failed clearly
      const lost = await this.ledger.failLostUploads(tx, live);
      if (lost.length)
        this.log.warn(
          `failed ${lost.length} queued upload run(s) whose instance is gone: ${lost.map((r) => r.id).join(', ')}`,
        );
      const sources = new Map<string, SourceRecord | null>();
      for (const r of [...stale, ...lost]) {
        if (!sources.has(r.sourceId)) sources.set(r.sourceId, await this.sources.entity(r.sourceId).catch(() => null));
        const source = sources.get(r.sourceId);
        const code = lost.includes(r) ? 'INGESTION.UPLOAD_LOST' : 'INGESTION.INTERRUPTED';
        if (source)
          await this.events.publish(tx, r.id, source, 'FAIL', {
            error: { code, message },
            ...(r.parent ? { parent: r.parent } : {}),
          });
      }
      return [...stale, ...lost];
    });
    if (rows.length)
      this.log.warn(
        `marked ${rows.length} interrupted run(s) failed: ${rows.map((r: { id: string }) => r.id).join(', ')}`,
      );
    await dropOrphanStages(this.warehouse);
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
    const live = await this.ledger.uploadsInUse(files);
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
