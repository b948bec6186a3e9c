import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Outbox, OutboxMessage, Queryable, RUN_EVENTS_TOPIC, RunStateEvent, ValidationError, Warehouse } from '@weir/platform';
import { validateOpenLineageEvent } from '../domain/openlineage-validator';
import { LineageStore } from '../infrastructure/lineage-store';
import { LINEAGE_CONFIG, LineageConfig } from './lineage.config';
import { RunEventTranslator } from './run-event-translator';

/** Outbox topic of the events waiting to be forwarded to WEIR_OPENLINEAGE_URL. */
export const FORWARD_TOPIC = 'lineage.forward';

/**
 * OpenLineage in and out. In: `POST /api/v1/lineage` events are validated against Weir's own
 * schema and applied to the graph in one transaction. Out: the run state changes the other slices
 * publish through the outbox become OpenLineage RunEvents, applied to the graph in the outbox's
 * own transaction (exactly once) and, when WEIR_OPENLINEAGE_URL is set, queued in the outbox again
 * for forwarding (batched, retried with backoff, never in a run's way).
 */
@Injectable()
export class OpenLineageService implements OnModuleInit {
  private readonly log = new Logger('OpenLineage');
  private readonly store = new LineageStore();
  readonly translator: RunEventTranslator;

  constructor(
    private readonly ds: DataSource,
    private readonly outbox: Outbox,
    warehouse: Warehouse,
    @Inject(LINEAGE_CONFIG) private readonly config: LineageConfig,
  ) {
    this.translator = new RunEventTranslator(warehouse, config.namespace);
  }

  onModuleInit(): void {
    this.outbox.subscribe<RunStateEvent>(RUN_EVENTS_TOPIC, (msgs, tx) => this.onRunEvents(msgs, tx), { batchSize: 50 });
    if (this.config.forwardUrl) this.outbox.subscribe<unknown>(FORWARD_TOPIC, (msgs) => this.forward(msgs), { batchSize: 50, maxAttempts: 30 });
  }

  /** Validates and stores one OpenLineage event. Throws 400 LINEAGE.INVALID_EVENT with the schema errors. */
  async ingest(event: unknown): Promise<{ kind: string }> {
    const v = validateOpenLineageEvent(event);
    if (!v.ok) {
      const first = v.errors[0];
      throw new ValidationError(
        'LINEAGE.INVALID_EVENT',
        `The event is not a valid OpenLineage ${v.kind ?? 'event'} (spec 2-0-2): ${first ? `${first.path || '/'} ${first.message}` : 'invalid'}${v.errors.length > 1 ? ` (and ${v.errors.length - 1} more)` : ''}`,
        { errors: v.errors },
      );
    }
    await this.ds.transaction((em) => this.store.apply(em, v.kind, event as Record<string, unknown>));
    return { kind: v.kind };
  }

  private async onRunEvents(msgs: OutboxMessage<RunStateEvent>[], tx: Queryable): Promise<void> {
    for (const m of msgs) {
      const event = await this.translator.translate(m.payload);
      const v = validateOpenLineageEvent(event);
      if (!v.ok) {
        // a bug of ours, not the run's: keep the run's event out of the graph, say so loudly
        this.log.error(`run event ${m.payload.job}/${m.payload.runId} ${m.payload.state} translates to an invalid OpenLineage event: ${JSON.stringify(v.errors.slice(0, 3))}`);
        continue;
      }
      await this.store.apply(tx, v.kind, event);
      if (this.config.forwardUrl) await this.outbox.publish(tx, FORWARD_TOPIC, event, `${m.payload.runId}:${m.payload.state}`);
    }
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
        const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(m.payload), signal: AbortSignal.timeout(10_000) });
        if (!res.ok) throw new Error(`${new URL(url).host} answered HTTP ${res.status} for event ${m.key}`);
        await res.arrayBuffer().catch(() => undefined);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }
}
