import { Inject, Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  MetricsService,
  Outbox,
  OutboxMessage,
  Queryable,
  Retention,
  RUN_EVENTS_TOPIC,
  RunStateEvent,
  Warehouse,
  WEIR_CONFIG,
  WeirConfig,
} from '@weir/platform';
import { Counter } from 'prom-client';
import { OpenLineageWarning, validateOpenLineageEvent } from '../domain/openlineage-validator';
import { normalizeOpenLineageEvent } from '../domain/openlineage-normalize';
import { LINEAGE_GRAPH_WRITER, LineageGraphWriter, StoreItem } from './ports/lineage-graph-writer.port';
import { LINEAGE_CONFIG, LineageConfig } from '../lineage.config';
import { RunEventTranslator } from './run-event.translator';
import { BatchTooLargeError, EmptyBatchError, InvalidEventError, UnstorableEventError } from '../lineage.errors';

/** Outbox topic of the events waiting to be forwarded to WEIR_OPENLINEAGE_URL. */
export const FORWARD_TOPIC = 'lineage.forward';
/** Outbox topic of received events (their lineage.events ids) waiting to be applied to the graph. */
export const APPLY_TOPIC = 'lineage.apply';

/**
 * OpenLineage in and out. In: `POST /api/v1/lineage` events are validated against Weir's own
 * schema, kept durably in lineage.events together with an outbox row (group commit: the requests
 * arriving while one transaction commits share the next), answered 201, and applied to the graph
 * by the outbox dispatcher in batches, in the order received, exactly once (the graph follows
 * within milliseconds; a crash in between delays the application, never loses it). Out: the run state changes the other slices
 * publish through the outbox become OpenLineage RunEvents, applied to the graph in the outbox's
 * own transaction (exactly once) and, when WEIR_OPENLINEAGE_URL is set, queued in the outbox again
 * for forwarding (batched, retried with backoff, never in a run's way).
 */
@Injectable()
export class OpenLineageService implements OnModuleInit {
  private readonly log = new Logger('OpenLineage');
  readonly translator: RunEventTranslator;
  /** Accepted events waiting for the next write (one transaction per batch: group commit). */
  private queue: { item: StoreItem; done: (e?: Error) => void }[] = [];
  /** Flushes under way: two, so one statement commits while the next is sent. */
  private flushers = 0;
  static readonly FLUSHERS = 2;
  /** Largest number of events written in one transaction. */
  static readonly BATCH = 200;

  constructor(
    private readonly ds: DataSource,
    private readonly outbox: Outbox,
    warehouse: Warehouse,
    @Inject(LINEAGE_CONFIG) private readonly config: LineageConfig,
    @Inject(WEIR_CONFIG) private readonly weir: WeirConfig,
    @Inject(LINEAGE_GRAPH_WRITER) private readonly store: LineageGraphWriter,
    @Optional() private readonly retention?: Retention,
    @Optional() metrics?: MetricsService,
  ) {
    this.translator = new RunEventTranslator(warehouse, config.namespace);
    this.unapplied = metrics
      ? new Counter({
          name: 'weir_lineage_events_unapplied_total',
          help: 'Accepted OpenLineage events left out of the graph because PostgreSQL refused their data',
          labelNames: ['kind'],
          registers: [metrics.registry],
        })
      : undefined;
    this.warned = metrics
      ? new Counter({
          name: 'weir_lineage_event_warnings_total',
          help: 'Deviations of accepted OpenLineage events (format:uri, format:uuid, format:date-time, schemaURL:missing, runId:mapped, eventTime:utc)',
          labelNames: ['kind'],
          registers: [metrics.registry],
        })
      : undefined;
  }
  private readonly unapplied?: Counter<'kind'>;
  private readonly warned?: Counter<'kind'>;

  /**
   * Validates an event (strict or lenient, per WEIR_OPENLINEAGE_STRICT) and, when lenient, makes it
   * storable: run ids that are not UUIDs mapped, an eventTime without offset read as UTC.
   */
  private check(
    event: unknown,
    raw?: string,
  ):
    | { ok: true; item: StoreItem }
    | { ok: false; kind?: string; errors: { path: string; message: string; keyword: string }[] } {
    const v = validateOpenLineageEvent(event, { strict: this.config.strict });
    if (!v.ok) return v;
    if (!v.warnings.length) return { ok: true, item: { kind: v.kind, event: event as Record<string, unknown>, raw } };
    const n = normalizeOpenLineageEvent(event as Record<string, unknown>, v.warnings);
    return { ok: true, item: { kind: v.kind, event: n.event, raw: n.changed ? undefined : raw, warnings: v.warnings } };
  }

  private count(warnings: OpenLineageWarning[] | undefined): void {
    for (const w of warnings ?? []) this.warned?.inc({ kind: w.kind });
  }

  onModuleInit(): void {
    this.outbox.subscribe<RunStateEvent>(RUN_EVENTS_TOPIC, (msgs, tx) => this.onRunEvents(msgs, tx), { batchSize: 50 });
    this.outbox.subscribe<{ events: string[] }>(APPLY_TOPIC, (msgs, tx) => this.onReceived(msgs, tx), {
      batchSize: 10,
    });
    if (this.config.forwardUrl)
      this.outbox.subscribe<unknown>(FORWARD_TOPIC, (msgs) => this.forward(msgs), { batchSize: 50, maxAttempts: 30 });
    const days = this.config.eventRetentionDays;
    if (this.retention && days > 0) {
      this.retention.register({
        name: 'lineage.events',
        describe: `raw OpenLineage events older than ${days} days`,
        // never an event not applied to the graph yet (an older pending apply holds everything after it back)
        deleteBatch: async (ds, limit) => {
          const pending = await this.outbox.oldestPending(APPLY_TOPIC);
          if (pending && pending.getTime() < Date.now() - days * 86_400_000 && !this.retentionHeldWarned) {
            this.retentionHeldWarned = true;
            this.log.warn(
              `lineage.events retention is held back: events received since ${pending.toISOString()} wait to be applied (a parked lineage.apply outbox row?)`,
            );
          }
          return this.store.deleteOldEvents(ds, limit, days, pending);
        },
      });
    }
  }

  /** Validates and stores one OpenLineage event. Throws 400 LINEAGE.INVALID_EVENT with the schema errors. */
  async ingest(event: unknown, raw?: string): Promise<{ kind: string; warnings?: OpenLineageWarning[] }> {
    const v = this.check(event, raw);
    if (!v.ok) {
      const first = v.errors[0];
      throw new InvalidEventError(
        `The event is not a valid OpenLineage ${v.kind ?? 'event'} (spec 2-0-2): ${first ? `${first.path || '/'} ${first.message}` : 'invalid'}${v.errors.length > 1 ? ` (and ${v.errors.length - 1} more)` : ''}`,
        { errors: v.errors },
      );
    }
    await new Promise<void>((resolve, reject) => {
      this.queue.push({ item: v.item, done: (e) => (e ? reject(e) : resolve()) });
      this.scheduleFlush();
    });
    this.count(v.item.warnings);
    return { kind: v.item.kind, ...(v.item.warnings ? { warnings: v.item.warnings } : {}) };
  }

  /**
   * Validates and stores a batch (OpenLineage's `/api/v1/lineage/batch`): all or nothing; the
   * errors of invalid events carry their index (`/3/run/runId`).
   */
  async ingestMany(events: unknown[]): Promise<{
    accepted: number;
    kinds: Record<string, number>;
    warnings?: (OpenLineageWarning & { index: number })[];
  }> {
    if (events.length === 0) throw new EmptyBatchError('The batch holds no events');
    if (events.length > OpenLineageService.MAX_BATCH)
      throw new BatchTooLargeError(
        `A batch holds at most ${OpenLineageService.MAX_BATCH} events (got ${events.length})`,
      );
    const items: StoreItem[] = [];
    const errors: { index: number; path: string; message: string; keyword: string }[] = [];
    const warnings: (OpenLineageWarning & { index: number })[] = [];
    events.forEach((event, index) => {
      const v = this.check(event);
      if (v.ok) {
        items.push(v.item);
        for (const w of v.item.warnings ?? []) warnings.push({ index, ...w, path: `/${index}${w.path}` });
      } else for (const e of v.errors) errors.push({ index, ...e, path: `/${index}${e.path}` });
    });
    if (errors.length) {
      const bad = new Set(errors.map((e) => e.index)).size;
      throw new InvalidEventError(
        `${bad} of ${events.length} events are not valid OpenLineage (spec 2-0-2); nothing was stored. First: ${errors[0].path} ${errors[0].message}`,
        { errors: errors.slice(0, 200) },
      );
    }
    await this.accept(items).catch((e) => {
      throw unstorable(e);
    });
    const kinds: Record<string, number> = {};
    for (const i of items) {
      kinds[i.kind] = (kinds[i.kind] ?? 0) + 1;
      this.count(i.warnings);
    }
    return { accepted: items.length, kinds, ...(warnings.length ? { warnings: warnings.slice(0, 1000) } : {}) };
  }

  /** Most events in one batch request. */
  static readonly MAX_BATCH = 1000;

  private flushTimer?: NodeJS.Timeout;

  /** Starts a flush after a moment (requests arriving within it share the statement and the commit). */
  private scheduleFlush(): void {
    if (this.flushers >= OpenLineageService.FLUSHERS || this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, OpenLineageService.GATHER_MS);
  }

  /** How long a received event waits for others to share its commit. */
  static readonly GATHER_MS = 2;

  /**
   * Writes the queued events: while one transaction commits, the requests arriving meanwhile
   * queue up and go together in the next (the answer is sent only once its event is committed).
   * When a batch fails, its events are retried one by one, so one event's failure is its own.
   */
  private async flush(): Promise<void> {
    if (this.flushers >= OpenLineageService.FLUSHERS) return;
    this.flushers++;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, OpenLineageService.BATCH);
        try {
          await this.accept(batch.map((b) => b.item));
          for (const b of batch) b.done();
        } catch (e) {
          if (batch.length === 1) {
            batch[0].done(unstorable(e));
            continue;
          }
          for (const b of batch) {
            try {
              await this.accept([b.item]);
              b.done();
            } catch (err) {
              b.done(unstorable(err));
            }
          }
        }
      }
    } finally {
      this.flushers--;
    }
  }

  /**
   * Events accepted by this process and not yet applied, by lineage.events id, so this process's
   * dispatcher need not read them back. Only kept when this process is a worker; entries another
   * worker applied expire after a minute.
   */
  private readonly pending = new Map<string, { item: StoreItem; at: number }>();
  private retentionHeldWarned = false;

  /** Keeps the events and queues their application, in one statement (one round trip, atomic). */
  private async accept(items: StoreItem[]): Promise<void> {
    const events = await this.store.storeEventsAndPublish(this.ds, this.outbox, APPLY_TOPIC, items);
    // ids come back in insertion order
    if (this.weir.roles.has('worker')) {
      const now = Date.now();
      for (const [id, p] of this.pending) {
        if (now - p.at < 60_000 && this.pending.size < 50_000) break;
        this.pending.delete(id);
      }
      events.forEach((id, i) => this.pending.set(id, { item: items[i], at: now }));
    }
  }

  /** Applies received events to the graph, in the order they were received, in the dispatch transaction. */
  private async onReceived(msgs: OutboxMessage<{ events: string[] }>[], tx: Queryable): Promise<void> {
    const ids = msgs.flatMap((m) => m.payload.events).sort((a, b) => Number(a) - Number(b));
    const missing = ids.filter((id) => !this.pending.has(id));
    const loaded = missing.length ? await this.store.loadEvents(tx, missing) : new Map<string, StoreItem>();
    const items = ids
      .map((id) => this.pending.get(id)?.item ?? loaded.get(id))
      .filter((x): x is StoreItem => x !== undefined);
    await this.applyIsolated(tx, msgs, items);
    for (const id of ids) this.pending.delete(id);
  }

  /**
   * Applies a batch; when it fails on the data itself (PostgreSQL refusing a value: SQLSTATE class 22,
   * or a NOT NULL / CHECK violation), the items are applied one at a time, in order, each in its own
   * savepoint. When some apply and some do not, those that do not are logged, counted
   * (`weir_lineage_events_unapplied_total`) and left out of the graph; their raw events stay in
   * lineage.events. So one bad event never holds back the events received with it. When none
   * applies (a bug of ours would look like that), or on any other error, the batch fails and the
   * outbox retries it, then parks it (`weir_outbox_parked`): nothing is dropped quietly.
   * On a batch's first delivery there is no savepoint of its own (none is needed on the ingest path's
   * common case): a failure undoes the outbox's savepoint and the batch comes back, isolated then.
   */
  private async applyIsolated(tx: Queryable, msgs: OutboxMessage[], items: StoreItem[]): Promise<void> {
    if (msgs.every((m) => m.attempts === 1)) return this.store.project(tx, items);
    const attempt = (batch: StoreItem[]): Promise<unknown> => this.store.tryProject(tx, batch);
    if (!items.length) return;
    const failed = await attempt(items);
    if (!failed) return;
    if (items.length === 1) throw failed;
    const bad: [StoreItem, unknown][] = [];
    for (const item of items) {
      const e = await attempt([item]);
      if (e) bad.push([item, e]);
    }
    if (bad.length === items.length) throw failed;
    for (const [item, e] of bad) this.badEvent(item, e);
  }

  private badEvent(item: StoreItem, e: unknown): void {
    this.unapplied?.inc({ kind: item.kind });
    const ev = item.event as {
      job?: { namespace?: string; name?: string };
      run?: { runId?: string };
      eventType?: string;
    };
    this.log.error(
      `an OpenLineage ${item.kind} (job ${ev.job?.namespace}/${ev.job?.name}, run ${ev.run?.runId ?? '-'}, ${ev.eventType ?? ''}) could not be applied to the graph and is left out of it: ${(e as Error).message}`,
    );
  }

  private async onRunEvents(msgs: OutboxMessage<RunStateEvent>[], tx: Queryable): Promise<void> {
    const items: StoreItem[] = [];
    for (const m of msgs) {
      const event = await this.translator.translate(m.payload);
      const v = validateOpenLineageEvent(event);
      if (!v.ok) {
        // a bug of ours, not the run's: keep the run's event out of the graph, say so loudly
        this.log.error(
          `run event ${m.payload.job}/${m.payload.runId} ${m.payload.state} translates to an invalid OpenLineage event: ${JSON.stringify(v.errors.slice(0, 3))}`,
        );
        continue;
      }
      items.push({ kind: v.kind, event });
      if (this.config.forwardUrl)
        await this.outbox.publish(tx, FORWARD_TOPIC, event, `${m.payload.runId}:${m.payload.state}`);
    }
    // the raw events first (outside the isolation, so an event left out of the graph is still kept)
    if (items.length) await this.store.storeEvents(tx, items);
    await this.applyIsolated(tx, msgs, items);
  }

  /** Posts each event to WEIR_OPENLINEAGE_URL (4 at a time); any failure retries the batch later. */
  private async forward(msgs: OutboxMessage[]): Promise<void> {
    const url = this.config.forwardUrl!;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.config.forwardApiKey) headers['authorization'] = `Bearer ${this.config.forwardApiKey}`;
    let next = 0;
    const worker = async () => {
      while (next < msgs.length) {
        const m = msgs[next++];
        const res = await fetch(url, {
          method: 'POST',
          headers,
          body: JSON.stringify(m.payload),
          signal: AbortSignal.timeout(10_000),
        });
        if (!res.ok) throw new Error(`${new URL(url).host} answered HTTP ${res.status} for event ${m.key}`);
        await res.arrayBuffer().catch(() => undefined);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }
}

/**
 * PostgreSQL refusing a value the schema allows (class 22: a `\u0000` in a string, a timestamp out
 * of range) is the event's fault, not the server's: 400 with the database's reason.
 */
function unstorable(e: unknown): Error {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('22')) {
    return new UnstorableEventError(`The event is valid OpenLineage but cannot be stored: ${(e as Error).message}`, {
      sqlstate: code,
    });
  }
  return e as Error;
}
