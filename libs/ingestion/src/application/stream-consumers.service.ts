import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Gauge, Histogram } from 'prom-client';
import { DomainError, MetricsService, PresenceLock, Warehouse, WEIR_CONFIG, WeirConfig } from '@weir/platform';
import { CATALOG, CatalogPort } from '@weir/catalog';
import { QUALITY_GATE, QualityGate } from '@weir/quality';
import { StreamConnector, streamDurable } from '../domain/connector';
import type { DriftPolicy } from '../domain/source';
import { LoadEngine, LoadFailedError, LoadResult } from '../infrastructure/engine/load.engine';
import type { RawRecord, Unparseable } from '../infrastructure/readers/record.types';
import { InterruptedError, StreamNotFoundError } from '../ingestion.errors';
import { RunEventsPublisher } from './run-events.publisher';
import { RunMetrics } from './run.metrics';
import { RUN_LEDGER, RunLedger } from './ports/run-ledger.port';
import type { SourceRecord } from './ports/source-repository.port';
import { STREAM_CONSUMERS, StreamConsumers, StreamLag, StreamMessage } from './ports/stream-consumer.port';
import { STREAM_LEASES, StreamLease, StreamLeases } from './ports/stream-lease.port';
import { SourcesService } from './sources.service';
import { runView, RunView } from './run.views';

/** After a batch that could not be committed, before the consumer is tried again (the batch is redelivered). */
const RETRY_MS = 5_000;
/** How long `next` waits for a first message before the loop checks its lease and lag. */
const IDLE_MS = 1_000;
const LAG_MS = 2_000;

/** What a stream source's consumer is doing, as `GET /api/ingestion/sources/:id/stream` shows it. */
export interface StreamStatus {
  source: string;
  stream: string;
  durable: string;
  /** `consuming` (an instance holds the lease), `waiting` (none does: no worker, or one is retrying). */
  state: 'consuming' | 'waiting';
  heldBy: string | null;
  /** Consumer lag (null when the consumer does not exist yet or NATS does not answer). */
  lag: StreamLag | null;
  lagError: string | null;
  /** The last stream sequence committed into the dataset (the source's watermark). */
  committedSequence: number | null;
  lastBatch: RunView | null;
  lastFailure: RunView | null;
}

const decoder = new TextDecoder();

/** A message as a record: its JSON object, or unparseable (a dead letter naming subject and sequence). */
function recordOf(m: StreamMessage): RawRecord | Unparseable {
  const text = decoder.decode(m.data);
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    return { unparseable: true, text: text.slice(0, 10_000), message: 'not a JSON object' };
  } catch (e) {
    return { unparseable: true, text: text.slice(0, 10_000), message: `not JSON: ${(e as Error).message}` };
  }
}

/**
 * Continuous stream sources (`nats_jetstream`) under the `worker` role: each source is leased by
 * one instance (the others wait), which pulls micro-batches (batchMessages or batchMs, whichever
 * first) from its durable consumer and loads each through the load engine with the merge
 * strategy, as a run of trigger `stream` — validated against the contract, bad messages to dead
 * letters with their subject and stream sequence (the stream moves on: maxRejectedRatio does not
 * apply), the run record and the last sequence committed with the data. Messages are acked only
 * after COMMIT: a crash redelivers the batch, and the merge on the key loads it once.
 */
@Injectable()
export class StreamConsumersService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('streams');
  private readonly engine: LoadEngine;
  private readonly running = new Map<string, { stop: () => void; done: Promise<void>; connector: string }>();
  private readonly retryAt = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private stopping = false;
  private claiming = false;
  /** How often leases are tried (WEIR_STREAM_POLL_MS, default 2000). */
  pollMs: number;
  private readonly lagGauge: Gauge;
  private readonly batchSeconds: Histogram;
  /** Called after each committed batch (benchmarks and tests watch it). */
  onBatch?: (b: { source: string; messages: StreamMessage[]; result: LoadResult; committedAt: number }) => void;

  constructor(
    @Inject(STREAM_CONSUMERS) private readonly consumers: StreamConsumers,
    @Inject(STREAM_LEASES) private readonly leases: StreamLeases,
    @Inject(RUN_LEDGER) private readonly ledger: RunLedger,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    @Inject(QUALITY_GATE) private readonly gate: QualityGate,
    @Inject(WEIR_CONFIG) private readonly config: WeirConfig,
    private readonly sources: SourcesService,
    private readonly presence: PresenceLock,
    private readonly events: RunEventsPublisher,
    private readonly metrics: RunMetrics,
    warehouse: Warehouse,
    metricsService: MetricsService,
  ) {
    this.engine = new LoadEngine(warehouse);
    this.pollMs = Number(config.env['WEIR_STREAM_POLL_MS'] ?? 2000) || 2000;
    const registers = [metricsService.registry];
    this.lagGauge = new Gauge({
      name: 'weir_stream_consumer_lag',
      help: 'Messages of a stream source not yet delivered to its consumer (num_pending)',
      labelNames: ['source'],
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'weir_stream_batch_seconds',
      help: 'Time to load and commit one micro-batch of a stream source',
      labelNames: ['source'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15],
      registers,
    });
  }

  onApplicationBootstrap(): void {
    if (!this.config.roles.has('worker')) return;
    this.timer = setInterval(() => void this.claim(), this.pollMs);
    this.timer.unref();
    void this.claim();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    for (const r of this.running.values()) r.stop();
    await Promise.all([...this.running.values()].map((r) => r.done.catch(() => undefined)));
  }

  /** Leases every stream source not consumed here (the others' leases are refused), and stops those gone or changed. */
  async claim(): Promise<void> {
    if (this.claiming || this.stopping) return;
    this.claiming = true;
    try {
      const views = (await this.sources.list()).filter((s) => s.connector?.kind === 'nats_jetstream');
      const wanted = new Map(views.map((v) => [v.id, JSON.stringify(v.connector)]));
      for (const [id, r] of this.running) if (wanted.get(id) !== r.connector) r.stop();
      for (const v of views) {
        if (this.stopping || this.running.has(v.id) || (this.retryAt.get(v.id) ?? 0) > Date.now()) continue;
        const lease = await this.leases.tryAcquire(v.id, this.presence.instanceId);
        if (!lease) continue;
        const source = await this.sources.entity(v.id).catch(() => null);
        if (!source || source.connector?.kind !== 'nats_jetstream') {
          await lease.release();
          continue;
        }
        this.start(source, lease);
      }
    } catch (e) {
      this.log.error(`stream claims: ${(e as Error).message}`);
    } finally {
      this.claiming = false;
    }
  }

  private start(source: SourceRecord, lease: StreamLease): void {
    let stopped = false;
    const entry = {
      stop: () => (stopped = true),
      connector: JSON.stringify(source.connector),
      done: Promise.resolve(),
    };
    this.running.set(source.id, entry);
    entry.done = this.consume(source, lease, () => stopped || this.stopping)
      .catch((e) => {
        this.retryAt.set(source.id, Date.now() + RETRY_MS);
        this.log.warn(
          `stream source ${source.name}: ${(e as Error).message}; retrying in ${RETRY_MS / 1000} s (the batch is redelivered)`,
        );
      })
      .finally(async () => {
        this.running.delete(source.id);
        await lease.release().catch(() => undefined);
      });
  }

  /** The consumer loop of one leased source. */
  private async consume(source: SourceRecord, lease: StreamLease, stop: () => boolean): Promise<void> {
    const c = source.connector as StreamConnector;
    const sub = await this.consumers.open(source.name, c, source.watermark === null ? null : Number(source.watermark));
    this.log.log(`stream source ${source.name}: consuming ${c.stream}${c.subject ? ` (${c.subject})` : ''}`);
    let watermark = source.watermark;
    let lagAt = 0;
    try {
      while (!stop() && lease.held()) {
        if (Date.now() - lagAt >= LAG_MS) {
          lagAt = Date.now();
          this.lagGauge.set({ source: source.name }, (await sub.lag().catch(() => null))?.pending ?? 0);
        }
        const batch = await sub.next(c.batchMessages ?? 5000, c.batchMs ?? 1000, IDLE_MS);
        if (!batch.length) continue;
        try {
          const t0 = Date.now();
          const result = await this.loadBatch(source, batch, watermark);
          watermark = result.watermarkAfter;
          await sub.ack(batch);
          this.batchSeconds.observe({ source: source.name }, (Date.now() - t0) / 1000);
          this.onBatch?.({ source: source.name, messages: batch, result, committedAt: Date.now() });
        } catch (e) {
          await sub.nak(batch, RETRY_MS);
          throw e;
        }
      }
    } finally {
      await sub.close().catch(() => undefined);
    }
  }

  /** One micro-batch as one run: validated, merged and recorded in one transaction (nothing acked yet). */
  private async loadBatch(source: SourceRecord, batch: StreamMessage[], watermark: string | null): Promise<LoadResult> {
    const started = Date.now();
    const dataset = await this.catalog.getDataset(source.dataset);
    const first = batch[0].sequence;
    const last = batch.reduce((m, b) => Math.max(m, b.sequence), first);
    const run = await this.ledger.transaction(async (tx) => {
      const r = await this.ledger.start(
        tx,
        {
          sourceId: source.id,
          trigger: 'stream',
          idempotencyKey: `stream:${first}-${last}:${Date.now()}`,
          input: { query: { watermark } },
          createdBy: null,
        },
        this.presence.instanceId,
      );
      await this.events.publish(tx, r.id, source, 'START', {});
      return r;
    });
    try {
      const after = String(watermark === null ? last : Math.max(Number(watermark), last));
      const result = await this.engine.run({
        runId: run.id,
        sourceName: source.name,
        dataset: { name: dataset.name, schema: dataset.schema, table: dataset.table, contract: dataset.contract },
        format: 'ndjson',
        strategy: { ...source.strategy, kind: 'merge' },
        drift: source.drift as DriftPolicy,
        options: source.options,
        // a poison message is dead-lettered and the stream moves on: no ratio stops a batch
        maxRejectedRatio: 1,
        watermark,
        checkpoint: () => after,
        batches: (async function* () {
          yield { records: batch.map(recordOf) };
        })(),
        qualityGate: this.gate,
        evolve: async (cols) =>
          (await this.catalog.addColumns(dataset.name, cols, `drift:evolve:${source.name}`)).contract,
        recordPublish: async (client, r) => {
          const done = await this.ledger.succeed(client, run.id, {
            bytesRead: batch.reduce((n, m) => n + m.data.length, 0),
            rowsRead: r.read,
            rowsLoaded: r.loaded,
            rowsRejected: r.rejected,
            rowsDeduplicated: r.deduplicated,
            columnsDiscarded: Object.keys(r.columnsDiscarded).length ? r.columnsDiscarded : null,
            watermarkBefore: watermark,
            watermarkAfter: r.watermarkAfter,
            quality: r.quality,
            advanceSourceWatermark: true,
          });
          if (!done) throw new InterruptedError(`Batch ${run.id} was taken as interrupted before it could publish`);
          if (r.rejected) await this.leases.noteDeadLetters(client, run.id, batch);
          await this.events.publish(client, run.id, source, 'COMPLETE', {
            stats: { rowsRead: r.read, rowsWritten: r.loaded, rowsRejected: r.rejected },
          });
        },
      });
      await this.catalog
        .recordLoad(dataset.name, {
          runId: run.id,
          at: new Date(),
          rows: result.loaded,
          job: `ingestion.${source.name}`,
        })
        .catch(() => undefined);
      this.metrics.count(source.name, 'succeeded', result, started);
      return result;
    } catch (e) {
      const code = e instanceof DomainError ? e.code : 'INGESTION.LOAD_FAILED';
      const message = e instanceof Error ? e.message : String(e);
      const counts = e instanceof LoadFailedError ? e.counts : undefined;
      await this.ledger
        .transaction(async (tx) => {
          if (
            await this.ledger.fail(tx, run.id, {
              code,
              message,
              bytesRead: 0,
              rowsRead: counts?.read ?? null,
              rowsRejected: counts?.rejected ?? null,
              rowsDeduplicated: counts?.deduplicated ?? null,
              quality: e instanceof LoadFailedError && e.quality ? e.quality : null,
            })
          )
            await this.events.publish(tx, run.id, source, 'FAIL', { error: { code, message: message.slice(0, 2000) } });
        })
        .catch(() => undefined);
      this.metrics.metrics.runs.inc({ source: source.name, status: 'failed' });
      throw e;
    }
  }

  /** `GET /api/ingestion/sources/:id/stream`. */
  async status(idOrName: string): Promise<StreamStatus> {
    const source = await this.sources.entity(idOrName);
    const c = source.connector;
    if (c?.kind !== 'nats_jetstream')
      throw new StreamNotFoundError(`Source "${source.name}" is not a stream source (nats_jetstream)`);
    let lag: StreamLag | null = null;
    let lagError: string | null = null;
    try {
      lag = await this.consumers.lag(source.name, c);
    } catch (e) {
      lagError = (e as Error).message;
    }
    const heldBy = await this.leases.holder(source.id);
    const runs = await this.ledger.list({ sourceId: source.id, limit: 20 });
    const lastBatch = runs.find((r) => r.status === 'succeeded');
    const lastFailure = runs.find((r) => r.status === 'failed');
    return {
      source: source.name,
      stream: c.stream,
      durable: streamDurable(source.name, c),
      state: heldBy ? 'consuming' : 'waiting',
      heldBy,
      lag,
      lagError,
      committedSequence: source.watermark === null ? null : Number(source.watermark),
      lastBatch: lastBatch ? runView(lastBatch) : null,
      lastFailure: lastFailure ? runView(lastFailure) : null,
    };
  }
}
