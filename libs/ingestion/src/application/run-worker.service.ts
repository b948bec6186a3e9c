import * as fs from 'node:fs';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { DomainError, HEARTBEAT_MS, PresenceLock, rowsOf, Warehouse, WEIR_CONFIG, WeirConfig } from '@weir/platform';
import { CATALOG, CatalogPort } from '@weir/catalog';
import { QUALITY_GATE, QualityGate } from '@weir/quality';
import type { SourceFormat } from '../domain/source';
import { LoadEngine, LoadFailedError, LoadResult } from '../infrastructure/engine/load-engine';
import { openRecords } from '../infrastructure/readers/open-records';
import { InputUnreadableError, ReaderBatch } from '../infrastructure/readers/record';
import { RunOrmEntity } from '../infrastructure/run.orm-entity';
import { SourceOrmEntity } from '../infrastructure/source.orm-entity';
import { FileNotFoundError, InterruptedError } from '../ingestion.errors';
import { RunEventsPublisher } from './run-events.publisher';
import { RunMetrics } from './run-metrics';
import { RunRecoveryService } from './run-recovery.service';
import { findRun } from './run.views';

/**
 * run-worker: claims queued runs one at a time (FOR UPDATE SKIP LOCKED, so instances share the
 * queue; an upload only on the instance holding its file), runs each through the load engine with
 * a heartbeat, and records its end with its event — the success inside the publish transaction.
 */
@Injectable()
export class RunWorkerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('ingestion');
  private readonly engine: LoadEngine;
  private timer?: NodeJS.Timeout;
  private working = false;
  private stopping = false;
  private current?: Promise<void>;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly warehouse: Warehouse,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    @Inject(QUALITY_GATE) private readonly gate: QualityGate,
    @Inject(WEIR_CONFIG) private readonly config: WeirConfig,
    private readonly presence: PresenceLock,
    private readonly events: RunEventsPublisher,
    private readonly metrics: RunMetrics,
    private readonly recovery: RunRecoveryService,
  ) {
    this.engine = new LoadEngine(warehouse);
  }

  /** Workers recover first (runs a dead process left), then poll the queue every second. */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.roles.has('worker')) return;
    await this.recovery.recover();
    this.recovery.startPeriodic();
    this.timer = setInterval(() => void this.kick(), 1000);
    this.timer.unref();
  }

  /** Stops claiming runs and lets the current one finish, before pools close. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.recovery.stop();
    await this.current?.catch(() => undefined);
  }

  private async entity(id: string): Promise<RunOrmEntity> {
    return findRun(this.ds, id);
  }

  /** Executes queued runs one after the other until none is left. */
  async kick(): Promise<void> {
    if (this.working || this.stopping || !this.config.roles.has('worker')) return;
    this.working = true;
    try {
      while (!this.stopping) {
        // the claim and its START event commit together
        const rows = await this.ds.transaction(async (em) => {
          const claimed = await em.query(
            // an upload is run by the instance that holds its file (input.heldBy)
            `UPDATE ingestion.runs SET status = 'running', started_at = now(), heartbeat_at = now(), claimed_by = $1
              WHERE id = (SELECT id FROM ingestion.runs WHERE status = 'queued' AND (input->>'heldBy' IS NULL OR input->>'heldBy' = $1)
                           ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1)
              RETURNING id, source_id`,
            [this.presence.instanceId],
          );
          const rs = rowsOf<{ id: string; source_id: string }>(claimed);
          const source = rs.length ? await em.getRepository(SourceOrmEntity).findOneBy({ id: rs[0].source_id }) : null;
          if (source) await this.events.publish(em, rs[0].id, source, 'START');
          return rs;
        });
        if (!rows.length) break;
        this.current = this.execute(rows[0].id);
        await this.current;
      }
    } catch (e) {
      this.log.error(`worker loop: ${(e as Error).message}`);
    } finally {
      this.working = false;
    }
  }

  /** Runs one claimed run to its end (succeeded or failed). Never throws. */
  async execute(runId: string): Promise<void> {
    const started = Date.now();
    const run = await this.entity(runId);
    const source = await this.ds.getRepository(SourceOrmEntity).findOneByOrFail({ id: run.sourceId });
    const heartbeat = setInterval(() => {
      void this.ds
        .query(`UPDATE ingestion.runs SET heartbeat_at = now() WHERE id = $1`, [runId])
        .catch(() => undefined);
    }, HEARTBEAT_MS);
    heartbeat.unref();
    let cleanup: () => void = () => undefined;
    let bytesRead = () => 0;
    try {
      const dataset = await this.catalog.getDataset(source.dataset);
      let batches: AsyncIterable<ReaderBatch>;
      if (run.input.replayOf) {
        batches = this.replayBatches(run.input.replayOf);
      } else {
        const file = run.input.uploadId ?? run.input.path!;
        if (!fs.existsSync(file)) throw new FileNotFoundError(`The input file is gone: ${file}`);
        const opened = await openRecords(file, source.format as SourceFormat, source.options);
        batches = opened.batches;
        cleanup = opened.cleanup;
        bytesRead = opened.bytesRead;
      }
      this.log.log(
        `run ${runId}: loading ${run.input.originalName ?? run.input.path ?? `dead letters of ${run.input.replayOf}`} into ${dataset.schema}.${dataset.table} (${source.strategy.kind})`,
      );
      const result = await this.engine.run({
        runId,
        sourceName: source.name,
        dataset: { name: dataset.name, schema: dataset.schema, table: dataset.table, contract: dataset.contract },
        format: source.format as SourceFormat,
        strategy: source.strategy,
        drift: source.drift as 'evolve' | 'freeze' | 'discard_columns',
        options: source.options,
        maxRejectedRatio: source.maxRejectedRatio,
        watermark: source.watermark,
        batches,
        qualityGate: this.gate,
        evolve: async (cols) =>
          (await this.catalog.addColumns(dataset.name, cols, `drift:evolve:${source.name}`)).contract,
        onProgress: (p) => {
          const secs = (Date.now() - started) / 1000;
          this.log.log(
            `run ${runId}: ${p.rowsRead} rows read (${Math.round(p.rowsRead / secs)} rows/s), ${p.rowsRejected} rejected`,
          );
          void this.ds
            .query(
              `UPDATE ingestion.runs SET rows_read = $2, rows_rejected = $3, bytes_read = $4, heartbeat_at = now() WHERE id = $1`,
              [runId, p.rowsRead, p.rowsRejected, bytesRead()],
            )
            .catch(() => undefined);
        },
        recordPublish: (client, r) => this.recordSuccess(client, runId, source, r, bytesRead()),
      });
      await this.catalog.recordLoad(dataset.name, { runId, at: new Date(), rows: result.loaded });
      this.metrics.count(source.name, 'succeeded', result, started);
      this.log.log(
        `run ${runId} succeeded: read ${result.read} = loaded ${result.loaded} + rejected ${result.rejected} + deduplicated ${result.deduplicated} in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
          `(stream ${(result.phases.stream / 1000).toFixed(1)} s, settle ${(result.phases.settle / 1000).toFixed(1)} s, publish ${(result.phases.publish / 1000).toFixed(1)} s)`,
      );
    } catch (e) {
      const code =
        e instanceof DomainError
          ? e.code
          : e instanceof InputUnreadableError
            ? 'INGESTION.UNREADABLE_INPUT'
            : 'INGESTION.LOAD_FAILED';
      const message = e instanceof Error ? e.message : String(e);
      const counts = e instanceof LoadFailedError ? e.counts : undefined;
      const failed = [
        runId,
        code,
        message.slice(0, 4000),
        bytesRead(),
        counts?.read ?? null,
        counts?.rejected ?? null,
        counts?.deduplicated ?? null,
        e instanceof LoadFailedError && e.quality ? JSON.stringify(e.quality) : null,
      ];
      await this.ds.transaction(async (em) => {
        // a run another worker already failed as interrupted keeps that verdict (and its one FAIL event)
        const updated = rowsOf(
          await em.query(
            `UPDATE ingestion.runs SET status = 'failed', finished_at = now(), error_code = $2, error_message = $3, bytes_read = $4,
                    rows_read = COALESCE($5, rows_read), rows_rejected = COALESCE($6, rows_rejected), rows_deduplicated = COALESCE($7, rows_deduplicated),
                    quality = COALESCE($8, quality)
              WHERE id = $1 AND status = 'running' RETURNING id`,
            failed,
          ),
        );
        if (updated.length)
          await this.events.publish(em, runId, source, 'FAIL', {
            error: { code, message: message.slice(0, 2000) },
            stats: counts ? { rowsRead: counts.read, rowsRejected: counts.rejected } : undefined,
          });
      });
      this.metrics.metrics.runs.inc({ source: source.name, status: 'failed' });
      this.log.warn(`run ${runId} failed (${code}): ${message}`);
    } finally {
      clearInterval(heartbeat);
      cleanup();
      if (run.input.uploadId) fs.rmSync(run.input.uploadId, { force: true });
    }
  }

  /** In the publish transaction: the run record and the watermark commit with the data. */
  private async recordSuccess(
    client: PoolClient,
    runId: string,
    source: SourceOrmEntity,
    r: LoadResult,
    bytes: number,
  ): Promise<void> {
    // only a run still ours publishes: one another worker took as interrupted (a heartbeat it could not
    // see in time) stays failed, and this transaction, the target's change included, rolls back
    const done = await client.query(
      `UPDATE ingestion.runs SET status = 'succeeded', finished_at = now(), heartbeat_at = now(), bytes_read = $2, rows_read = $3, rows_loaded = $4,
              rows_rejected = $5, rows_deduplicated = $6, columns_discarded = $7, watermark_before = $8, watermark_after = $9, quality = $10
        WHERE id = $1 AND status = 'running'`,
      [
        runId,
        bytes,
        r.read,
        r.loaded,
        r.rejected,
        r.deduplicated,
        Object.keys(r.columnsDiscarded).length ? JSON.stringify(r.columnsDiscarded) : null,
        source.watermark,
        r.watermarkAfter,
        JSON.stringify(r.quality),
      ],
    );
    if (done.rowCount !== 1) {
      throw new InterruptedError(
        `Run ${runId} was taken as interrupted (no heartbeat for ${this.recovery.staleMs / 1000} s) before it could publish; nothing was published, trigger it again`,
      );
    }
    if (source.strategy.kind === 'incremental' && r.watermarkAfter !== source.watermark) {
      await client.query(`UPDATE ingestion.sources SET watermark = $2, updated_at = now() WHERE id = $1`, [
        source.id,
        r.watermarkAfter,
      ]);
    }
    await this.events.publish(client, runId, source, 'COMPLETE', {
      stats: { rowsRead: r.read, rowsWritten: r.loaded, rowsRejected: r.rejected, bytes },
    });
  }

  /** Replay input: the dead letters of a run, as records (unparseable ones stay unparseable). */
  private async *replayBatches(runId: string): AsyncGenerator<ReaderBatch> {
    let after = '0';
    while (true) {
      const rows = await this.warehouse.query<{
        id: string;
        raw_record: Record<string, unknown> | null;
        raw_text: string | null;
        reason: string;
      }>(
        `SELECT id, raw_record, raw_text, reason FROM ingestion.dead_letters WHERE run_id = $1 AND id > $2 ORDER BY id LIMIT 5000`,
        [runId, after],
      );
      if (rows.length === 0) return;
      after = rows[rows.length - 1].id;
      yield {
        records: rows.map((r) =>
          r.raw_record
            ? r.raw_record
            : { unparseable: true as const, text: r.raw_text ?? '', message: `still unparseable (was ${r.reason})` },
        ),
      };
    }
  }
}
