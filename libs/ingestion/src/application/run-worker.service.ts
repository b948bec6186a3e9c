import * as fs from 'node:fs';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DomainError, HEARTBEAT_MS, PresenceLock, Queryable, Warehouse, WEIR_CONFIG, WeirConfig } from '@weir/platform';
import { CATALOG, CatalogPort } from '@weir/catalog';
import { QUALITY_GATE, QualityGate } from '@weir/quality';
import type { SourceFormat } from '../domain/source';
import { LoadEngine, LoadFailedError, LoadResult } from '../infrastructure/engine/load.engine';
import { InputUnreadableError } from '../infrastructure/readers/record.types';
import { parseQueryWatermark } from '../domain/connector';
import type { RunRecord, RunRef } from '../domain/run';
import { InterruptedError, RunCancelledError } from '../ingestion.errors';
import { RunEventsPublisher } from './run-events.publisher';
import { RunMetrics } from './run.metrics';
import { RunRecoveryService } from './run-recovery.service';
import { findRun } from './run.views';
import { RUN_LEDGER, RunFailure, RunLedger } from './ports/run-ledger.port';
import { ConnectorRead, SOURCE_CONNECTORS, SourceConnectors } from './ports/source-connector.port';
import type { SourceRecord } from './ports/source-repository.port';
import { SourcesService } from './sources.service';

const cancelled = (runId: string) =>
  new RunCancelledError(`Run ${runId} was cancelled before it published; the target is unchanged`);

/** The batches until the run is cancelled: then the load stops with INGESTION.CANCELLED. */
async function* stopOnAbort<T>(batches: AsyncIterable<T>, signal: AbortSignal, runId: string): AsyncIterable<T> {
  for await (const b of batches) {
    if (signal.aborted) throw cancelled(runId);
    yield b;
  }
  if (signal.aborted) throw cancelled(runId);
}

/** The run's OpenLineage parent (the pipeline run that asked for it), for its events. */
const parentOf = (run: RunRecord | RunRef) => {
  const parent = 'input' in run ? run.input.parent : run.parent;
  return parent ? { parent } : {};
};

/**
 * run-worker: claims queued runs one at a time (FOR UPDATE SKIP LOCKED, so instances share the
 * queue; an upload only on the instance holding its file), runs each through the load engine with
 * a heartbeat, and records its end with its event — the success inside the publish transaction.
 */
@Injectable()
export class RunWorkerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('ingestion');
  private readonly engine: LoadEngine;
  /** How often a running run beats (and learns of a cancel request made on another instance). */
  heartbeatMs = HEARTBEAT_MS;
  /** Runs executing in this process, to stop at once when cancelled here. */
  private readonly cancels = new Map<string, AbortController>();

  /** Stops a run executing in this process before it publishes; false when it does not run here. */
  cancelLocal(runId: string): boolean {
    const c = this.cancels.get(runId);
    if (!c) return false;
    c.abort();
    return true;
  }
  private timer?: NodeJS.Timeout;
  private working = false;
  private stopping = false;
  /** The queue loop going on (a claim, then the runs it executes), awaited at shutdown. */
  private loop?: Promise<void>;

  constructor(
    @Inject(RUN_LEDGER) private readonly ledger: RunLedger,
    private readonly sources: SourcesService,
    private readonly warehouse: Warehouse,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    @Inject(QUALITY_GATE) private readonly gate: QualityGate,
    @Inject(WEIR_CONFIG) private readonly config: WeirConfig,
    private readonly presence: PresenceLock,
    private readonly events: RunEventsPublisher,
    private readonly metrics: RunMetrics,
    private readonly recovery: RunRecoveryService,
    @Inject(SOURCE_CONNECTORS) private readonly connectors: SourceConnectors,
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

  /**
   * Stops claiming runs and lets the current one finish, before pools close — a claim in flight
   * too (its transaction would otherwise meet a closed pool: `Connection terminated`).
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.recovery.stop();
    await this.loop?.catch(() => undefined);
  }

  private async entity(id: string): Promise<RunRecord> {
    return findRun(this.ledger, id);
  }

  /** Executes queued runs one after the other until none is left. */
  async kick(): Promise<void> {
    if (this.working || this.stopping || !this.config.roles.has('worker')) return;
    this.working = true;
    this.loop = this.drain().finally(() => (this.working = false));
    await this.loop;
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopping) {
        // the claim and its START event commit together
        const claimed = await this.ledger.transaction(async (tx) => {
          const run = await this.ledger.claimNext(tx, this.presence.instanceId);
          const source = run ? await this.sources.entity(run.sourceId).catch(() => null) : null;
          if (run && source) await this.events.publish(tx, run.id, source, 'START', parentOf(run));
          return run;
        });
        if (!claimed) break;
        await this.execute(claimed.id);
      }
    } catch (e) {
      this.log.error(`worker loop: ${(e as Error).message}`);
    }
  }

  /** Runs one claimed run to its end (succeeded or failed). Never throws. */
  async execute(runId: string): Promise<void> {
    const started = Date.now();
    const run = await this.entity(runId);
    const source = await this.sources.entity(run.sourceId);
    // the heartbeat also carries a cancel request: the load stops before it publishes anything
    const cancel = new AbortController();
    this.cancels.set(runId, cancel);
    const heartbeat = setInterval(
      () =>
        void this.ledger
          .heartbeat(runId)
          .then((asked) => {
            if (asked && !cancel.signal.aborted) {
              this.log.warn(`run ${runId}: cancel requested; stopping before anything is published`);
              cancel.abort();
            }
          })
          .catch(() => undefined),
      this.heartbeatMs,
    );
    heartbeat.unref();
    let read: ConnectorRead | undefined;
    const bytesRead = () => read?.bytesRead() ?? 0;
    try {
      const dataset = await this.catalog.getDataset(source.dataset);
      read = await this.connectors.open({
        runId,
        source,
        input: run.input,
        contract: dataset.contract,
        watermark: source.watermark,
        signal: cancel.signal,
      });
      let batches = read.batches;
      this.log.log(
        `run ${runId}: loading ${read.description} into ${dataset.schema}.${dataset.table} (${source.strategy.kind})`,
      );
      // a query source without a tie-breaker keeps the cursor's value alone as its watermark
      const watermark =
        read.pushdown && !read.pushdown.tieBreaker && !read.checkpoint
          ? (parseQueryWatermark(source.watermark)?.cursor ?? null)
          : source.watermark;
      batches = stopOnAbort(batches, cancel.signal, runId);
      const result = await this.engine.run({
        runId,
        sourceName: source.name,
        dataset: { name: dataset.name, schema: dataset.schema, table: dataset.table, contract: dataset.contract },
        format: source.format as SourceFormat,
        strategy: source.strategy,
        drift: source.drift as 'evolve' | 'freeze' | 'discard_columns',
        options: source.options,
        maxRejectedRatio: source.maxRejectedRatio,
        watermark,
        pushdown: read.pushdown,
        checkpoint: read.checkpoint,
        batches,
        qualityGate: this.gate,
        evolve: async (cols) =>
          (await this.catalog.addColumns(dataset.name, cols, `drift:evolve:${source.name}`)).contract,
        onProgress: (p) => {
          const secs = (Date.now() - started) / 1000;
          this.log.log(
            `run ${runId}: ${p.rowsRead} rows read (${Math.round(p.rowsRead / secs)} rows/s), ${p.rowsRejected} rejected`,
          );
          void this.ledger
            .progress(runId, { rowsRead: p.rowsRead, rowsRejected: p.rowsRejected, bytesRead: bytesRead() })
            .catch(() => undefined);
        },
        recordPublish: (client, r) => {
          // a cancel that came while the load settled: the publish transaction rolls back
          if (cancel.signal.aborted) throw cancelled(runId);
          return this.recordSuccess(client, run, source, r, bytesRead(), !!read?.checkpoint);
        },
      });
      await this.catalog.recordLoad(dataset.name, {
        runId,
        at: new Date(),
        rows: result.loaded,
        job: `ingestion.${source.name}`,
      });
      this.metrics.count(source.name, 'succeeded', result, started);
      const summary = read.summary?.();
      if (summary) this.log.log(`run ${runId}: ${summary}`);
      this.log.log(
        `run ${runId} succeeded: read ${result.read} = loaded ${result.loaded} + rejected ${result.rejected} + deduplicated ${result.deduplicated} in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
          `(stream ${(result.phases.stream / 1000).toFixed(1)} s, settle ${(result.phases.settle / 1000).toFixed(1)} s, publish ${(result.phases.publish / 1000).toFixed(1)} s)`,
      );
    } catch (e) {
      await this.recordFailure(runId, source, e, bytesRead(), run);
    } finally {
      clearInterval(heartbeat);
      this.cancels.delete(runId);
      await read?.close().catch(() => undefined);
      if (run.input.uploadId) fs.rmSync(run.input.uploadId, { force: true });
    }
  }

  /** The run failed, with its reason and the counts known, and its FAIL event; a run already failed keeps its verdict. */
  private async recordFailure(
    runId: string,
    source: SourceRecord,
    e: unknown,
    bytes: number,
    run: RunRecord,
  ): Promise<void> {
    const code =
      e instanceof DomainError
        ? e.code
        : e instanceof InputUnreadableError
          ? 'INGESTION.UNREADABLE_INPUT'
          : 'INGESTION.LOAD_FAILED';
    const message = e instanceof Error ? e.message : String(e);
    const counts = e instanceof LoadFailedError ? e.counts : undefined;
    const failure: RunFailure = {
      code,
      message,
      bytesRead: bytes,
      rowsRead: counts?.read ?? null,
      rowsRejected: counts?.rejected ?? null,
      rowsDeduplicated: counts?.deduplicated ?? null,
      quality: e instanceof LoadFailedError && e.quality ? e.quality : null,
    };
    // a run another worker already failed as interrupted keeps that verdict (and its one FAIL event)
    await this.ledger.transaction(async (tx) => {
      if (await this.ledger.fail(tx, runId, failure))
        await this.events.publish(tx, runId, source, code === 'INGESTION.CANCELLED' ? 'ABORT' : 'FAIL', {
          error: { code, message: message.slice(0, 2000) },
          stats: counts ? { rowsRead: counts.read, rowsRejected: counts.rejected } : undefined,
          ...parentOf(run),
        });
    });
    this.metrics.metrics.runs.inc({ source: source.name, status: 'failed' });
    this.log.warn(`run ${runId} failed (${code}): ${message}`);
  }

  /** In the publish transaction: the run record and the watermark commit with the data. */
  private async recordSuccess(
    client: Queryable,
    run: RunRecord,
    source: SourceRecord,
    r: LoadResult,
    bytes: number,
    ownCheckpoint = false,
  ): Promise<void> {
    const runId = run.id;
    // only a run still ours publishes: one another worker took as interrupted (a heartbeat it could not
    // see in time) stays failed, and this transaction, the target's change included, rolls back
    const done = await this.ledger.succeed(client, runId, {
      bytesRead: bytes,
      rowsRead: r.read,
      rowsLoaded: r.loaded,
      rowsRejected: r.rejected,
      rowsDeduplicated: r.deduplicated,
      columnsDiscarded: Object.keys(r.columnsDiscarded).length ? r.columnsDiscarded : null,
      watermarkBefore: source.watermark,
      watermarkAfter: r.watermarkAfter,
      quality: r.quality,
      // an incremental source's cursor, or the checkpoint a source keeps itself (a tap's STATE)
      advanceSourceWatermark:
        (source.strategy.kind === 'incremental' || ownCheckpoint) && r.watermarkAfter !== source.watermark,
    });
    if (!done) {
      throw new InterruptedError(
        `Run ${runId} was taken as interrupted (no heartbeat for ${this.recovery.staleMs / 1000} s) before it could publish; nothing was published, trigger it again`,
      );
    }
    await this.events.publish(client, runId, source, 'COMPLETE', {
      stats: { rowsRead: r.read, rowsWritten: r.loaded, rowsRejected: r.rejected, bytes },
      ...parentOf(run),
    });
  }
}
