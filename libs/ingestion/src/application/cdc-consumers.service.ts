import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DomainError, periodic, PeriodicTask, PresenceLock, WEIR_CONFIG, WeirConfig } from '@weir/platform';
import { CATALOG, CatalogPort } from '@weir/catalog';
import { CdcSlotTooLargeError } from '../ingestion.errors';
import { CdcMetrics } from './cdc.metrics';
import { cdcOf } from './cdc-streams.service';
import { CDC_REPLICATION, CdcConsumerHandle, CdcReplication } from './ports/cdc-replication.port';
import { CDC_STREAM_STORE, CdcStreamRecord, CdcStreamStore } from './ports/cdc-stream-store.port';
import { SourcesService } from './sources.service';

/** How long a consumer's lease lasts without renewal (an instance that dies is noticed at once: its presence connection goes). */
const LEASE_MS = 15_000;
const RENEW_MS = 3_000;
/** After a consumer stopped on an error that is not the stream's fault (source unreachable…), before it is tried again. */
const RETRY_MS = 5_000;

/**
 * Runs CDC consumers under the `worker` role: leases streams (one consumer per source across all
 * instances), renews the leases (a lost one stops the consumer), and watches every stream's slot:
 * lag as a metric and an alert above lagAlertBytes; a paused or failed source whose slot retains
 * more than maxSlotBytes is failed and its slot dropped.
 */
@Injectable()
export class CdcConsumersService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('cdc');
  private readonly running = new Map<string, CdcConsumerHandle>();
  private readonly retryAt = new Map<string, number>();
  private tasks: PeriodicTask[] = [];
  private stopping = false;
  /** Claims (ms) and slot checks (ms): WEIR_CDC_POLL_MS, WEIR_CDC_CHECK_MS. */
  pollMs: number;
  checkMs: number;

  constructor(
    @Inject(CDC_STREAM_STORE) private readonly store: CdcStreamStore,
    @Inject(CDC_REPLICATION) private readonly replication: CdcReplication,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    @Inject(WEIR_CONFIG) private readonly config: WeirConfig,
    private readonly sources: SourcesService,
    private readonly presence: PresenceLock,
    private readonly metrics: CdcMetrics,
  ) {
    this.pollMs = Number(config.env['WEIR_CDC_POLL_MS'] ?? 1000) || 1000;
    this.checkMs = Number(config.env['WEIR_CDC_CHECK_MS'] ?? 10_000) || 10_000;
  }

  onApplicationBootstrap(): void {
    if (!this.config.roles.has('worker')) return;
    const onError = (e: Error) => this.log.error(`cdc: ${e.message}`);
    this.tasks = [
      periodic({ everyMs: () => this.pollMs, firstAfterMs: 0, tickMs: 100, run: () => this.claim(), onError }),
      periodic({ everyMs: () => RENEW_MS, tickMs: 500, run: () => this.renew(), onError }),
      periodic({ everyMs: () => this.checkMs, tickMs: 500, run: () => this.watch(), onError }),
    ];
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.tasks.map((t) => t.stop()));
    await Promise.all(
      [...this.running.entries()].map(async ([id, h]) => {
        await h.stop();
        await this.store.release(id, this.presence.instanceId).catch(() => undefined);
      }),
    );
  }

  /** Consumers running in this instance (source ids). */
  consuming(): string[] {
    return [...this.running.keys()];
  }

  /** Leases free streams and starts their consumers. */
  async claim(): Promise<void> {
    if (this.stopping) return;
    const claimed = await this.store.claim(this.presence.instanceId, LEASE_MS, 10);
    for (const s of claimed) {
      if (this.running.has(s.sourceId) || (this.retryAt.get(s.sourceId) ?? 0) > Date.now()) {
        if (!this.running.has(s.sourceId)) await this.store.release(s.sourceId, this.presence.instanceId);
        continue;
      }
      await this.start(s).catch(async (e) => {
        this.log.warn(`cdc: could not start the consumer of source ${s.sourceId}: ${(e as Error).message}`);
        this.retryAt.set(s.sourceId, Date.now() + RETRY_MS);
        await this.store.release(s.sourceId, this.presence.instanceId);
      });
    }
  }

  private async start(s: CdcStreamRecord): Promise<void> {
    const source = await this.sources.entity(s.sourceId);
    const c = cdcOf(source);
    if (!c) return;
    const dataset = await this.catalog.getDataset(source.dataset);
    const owner = this.presence.instanceId;
    this.log.log(
      `source ${source.name}: consuming ${c.table} (slot ${c.slot}, from ${s.confirmedLsn ?? 'a snapshot'})`,
    );
    const handle = this.replication.start({
      sourceId: s.sourceId,
      sourceName: source.name,
      connector: c,
      dataset: { name: dataset.name, schema: dataset.schema, table: dataset.table, contract: dataset.contract },
      drift: source.drift,
      stream: s,
      owner,
      evolve: async (cols) =>
        (await this.catalog.addColumns(dataset.name, cols, `drift:evolve:${source.name}`)).contract,
      onBatch: (b) => {
        const labels = { source: source.name };
        this.metrics.changes.inc({ ...labels, outcome: 'read' }, b.read);
        this.metrics.changes.inc({ ...labels, outcome: 'applied' }, b.applied);
        this.metrics.changes.inc({ ...labels, outcome: 'deduplicated' }, b.deduplicated);
        if (b.deadLetters) this.metrics.changes.inc({ ...labels, outcome: 'dead_lettered' }, b.deadLetters);
        this.metrics.latency.observe(labels, b.latencyMs / 1000);
      },
    });
    this.running.set(s.sourceId, handle);
    handle.done
      .then(
        () => undefined,
        async (e: unknown) => {
          if (e instanceof DomainError) {
            this.log.error(`source ${source.name}: CDC stream failed (${e.code}): ${e.message}`);
            await this.store.fail(s.sourceId, owner, e.code, e.message);
          } else {
            this.log.warn(`source ${source.name}: CDC consumer stopped (${(e as Error).message}); retrying`);
            this.retryAt.set(s.sourceId, Date.now() + RETRY_MS);
          }
        },
      )
      .catch(() => undefined)
      .finally(async () => {
        this.running.delete(s.sourceId);
        // at shutdown the leases are given up before the pools close (beforeApplicationShutdown)
        if (!this.stopping) await this.store.release(s.sourceId, owner).catch(() => undefined);
      });
  }

  /** Keeps the leases of running consumers; a lost one (paused, failed, removed, taken) stops its consumer. */
  async renew(): Promise<void> {
    for (const [id, h] of [...this.running.entries()]) {
      const kept = await this.store.renew(id, this.presence.instanceId, LEASE_MS).catch(() => true);
      if (!kept) {
        this.log.log(
          `cdc: stream of source ${id} is no longer ours (paused, failed or removed): stopping its consumer`,
        );
        await h.stop();
      }
    }
  }

  /** Slot lag of every stream: the metric, the alert, and the size limit of paused or failed ones. */
  async watch(): Promise<void> {
    for (const s of await this.store.list()) {
      const source = await this.sources.entity(s.sourceId).catch(() => null);
      const c = source && cdcOf(source);
      if (!source || !c) continue;
      const lag = await this.replication.slotLag(c).catch(() => undefined);
      if (lag === undefined) continue;
      const alert = lag !== null && lag.lagBytes > c.lagAlertBytes;
      if (lag) this.metrics.lag.set({ source: source.name }, lag.lagBytes);
      if (alert && !s.lagAlert)
        this.log.error(
          `source ${source.name}: CDC slot ${c.slot} lags ${lag!.lagBytes} bytes behind the source (alert above ${c.lagAlertBytes})`,
        );
      await this.store.recordLag(s.sourceId, lag?.lagBytes ?? null, alert);
      if (lag && (s.state === 'paused' || s.state === 'failed') && lag.retainedBytes > c.maxSlotBytes) {
        const e = new CdcSlotTooLargeError(
          `Source ${source.name} was ${s.state} while its slot ${c.slot} retained ${lag.retainedBytes} bytes of WAL on the source (more than maxSlotBytes ${c.maxSlotBytes}): the slot was dropped so the source's disk does not fill; resume the source to take a new snapshot`,
        );
        await this.replication.drop(c);
        await this.store.resetPosition(s.sourceId);
        await this.store.fail(s.sourceId, null, e.code, e.message);
        this.log.error(e.message);
      }
    }
  }
}
