import { randomUUID } from 'node:crypto';
import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { AuditLog, WEIR_CONFIG, WeirConfig } from '@weir/platform';
import {
  Alert,
  AlertDestinationSpecError,
  alertPayload,
  deliveryBackoffMs,
  maskUrl,
  parseAlertDestination,
  routesTo,
  withoutUrlSecrets,
} from '../domain/alert';
import { ORCHESTRATION_CONFIG, OrchestrationConfig } from '../orchestration.config';
import {
  AlertDestinationExistsError,
  AlertDestinationInUseError,
  AlertDestinationNotFoundError,
  InvalidAlertDestinationError,
  InvalidRunRequestError,
} from '../orchestration.errors';
import { ALERT_STORE, AlertStore, ClaimedDelivery, DeliveryAttempt, DeliveryStatus } from './ports/alert-store.port';
import { PIPELINE_STORE, PipelineStore } from './ports/pipeline-store.port';
import { AlertDeliveryView, alertDeliveryView, AlertDestinationView, alertDestinationView } from './alert.views';
import { OrchestrationMetrics } from './orchestration.metrics';

/** A delivery's retries wait at most this long. */
const MAX_RETRY_DELAY_MS = 300_000;
/** How often instances with the worker role look for deliveries due (retries, and ones a restart left). */
const POLL_MS = 1000;
/** Deliveries claimed at once by one pass. */
const BATCH = 20;
/** Answers that will not get better by retrying (a wrong URL, a revoked Slack webhook): failed at once. */
const PERMANENT = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

/**
 * alert-destinations and deliveries: destinations (webhooks, `json` or `slack`) managed over REST;
 * an alert is routed to its destinations and recorded as one delivery per destination (once per
 * alert key), then posted. A failed post is retried with exponential backoff up to
 * WEIR_ALERT_MAX_ATTEMPTS; every attempt is recorded. Deliveries are claimed with FOR UPDATE SKIP
 * LOCKED: any instance may post one, none posts the same attempt twice, and a restart loses none
 * (workers look for due deliveries every second).
 */
@Injectable()
export class AlertsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('orchestration');
  private timer?: NodeJS.Timeout;
  private passing?: Promise<void>;
  private again = false;
  private stopping = false;
  private readonly retryTimers = new Set<NodeJS.Timeout>();

  constructor(
    @Inject(ALERT_STORE) private readonly store: AlertStore,
    @Inject(PIPELINE_STORE) private readonly pipelines: PipelineStore,
    @Inject(ORCHESTRATION_CONFIG) private readonly cfg: OrchestrationConfig,
    @Inject(WEIR_CONFIG) private readonly config: WeirConfig,
    @Optional() private readonly metrics?: OrchestrationMetrics,
    @Optional() audit?: AuditLog,
  ) {
    // a destination's URL is a secret (its path or query is often the token): the audit log keeps
    // what the answers show, scheme and host
    audit?.maskBodyField('/api/orchestration/alert-destinations', 'url', (v) =>
      typeof v === 'string' ? maskUrl(v) : v,
    );
  }

  onApplicationBootstrap(): void {
    if (!this.config.roles.has('worker')) return;
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
    this.kick();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    for (const t of this.retryTimers) clearTimeout(t);
    await this.passing;
  }

  // ---- destinations ----

  private parse(raw: unknown, name?: string) {
    try {
      return parseAlertDestination(raw, name);
    } catch (e) {
      if (e instanceof AlertDestinationSpecError)
        throw new InvalidAlertDestinationError(`The alert destination is invalid: ${e.message}`, {
          problems: e.problems,
        });
      throw e;
    }
  }

  async create(raw: unknown, by: string | null): Promise<AlertDestinationView> {
    const spec = this.parse(raw);
    const d = await this.store.createDestination(spec, by);
    if (!d)
      throw new AlertDestinationExistsError(
        `An alert destination named "${spec.name}" already exists; PUT it to change it`,
      );
    this.log.log(`alert destination ${d.name}: created (${d.format})`);
    return alertDestinationView(d);
  }

  async update(name: string, raw: unknown): Promise<AlertDestinationView> {
    const spec = this.parse(raw, name);
    const d = await this.store.updateDestination(name, spec);
    if (!d) throw new AlertDestinationNotFoundError(`No alert destination ${JSON.stringify(name)}`);
    this.log.log(`alert destination ${d.name}: changed`);
    return alertDestinationView(d);
  }

  /** Removes it with its deliveries; refused while a pipeline names it in `alerts`. */
  async remove(name: string): Promise<void> {
    const users = (await this.pipelines.list()).filter((p) => (p.spec.alerts ?? []).includes(name)).map((p) => p.name);
    if (users.length)
      throw new AlertDestinationInUseError(
        `Alert destination ${name} is named in the alerts of pipeline(s) ${users.join(', ')}; change them first`,
        { pipelines: users },
      );
    if (!(await this.store.removeDestination(name)))
      throw new AlertDestinationNotFoundError(`No alert destination ${JSON.stringify(name)}`);
    this.log.log(`alert destination ${name}: removed`);
  }

  async get(name: string): Promise<AlertDestinationView> {
    const d = await this.store.findDestination(name);
    if (!d) throw new AlertDestinationNotFoundError(`No alert destination ${JSON.stringify(name)}`);
    return alertDestinationView(d);
  }

  async list(): Promise<AlertDestinationView[]> {
    return (await this.store.listDestinations()).map(alertDestinationView);
  }

  async deliveries(filter: { destination?: string; status?: string; limit?: number }): Promise<AlertDeliveryView[]> {
    const statuses = ['pending', 'delivered', 'failed'];
    if (filter.status !== undefined && !statuses.includes(filter.status))
      throw new InvalidRunRequestError(`status: one of ${statuses.join(', ')}`);
    if (filter.destination !== undefined) await this.get(filter.destination);
    const rows = await this.store.listDeliveries({
      destination: filter.destination,
      status: filter.status as DeliveryStatus | undefined,
      limit: Math.min(Math.max(filter.limit ?? 100, 1), 1000),
    });
    return rows.map(alertDeliveryView);
  }

  /** Sends a test alert to the destination now (one attempt here; retried like any other if it fails). */
  async test(name: string, by: string | null): Promise<AlertDeliveryView> {
    const d = await this.store.findDestination(name);
    if (!d) throw new AlertDestinationNotFoundError(`No alert destination ${JSON.stringify(name)}`);
    const alert: Alert = {
      type: 'test',
      title: `Test alert from Weir to destination ${d.name}`,
      pipeline: null,
      runId: null,
      partition: null,
      step: null,
      error: null,
      details: { requestedBy: by },
      at: new Date().toISOString(),
      links: { destination: `/api/orchestration/alert-destinations/${d.name}` },
    };
    const id = await this.store.enqueue({
      destinationId: d.id,
      alertType: 'test',
      dedupeKey: `test:${randomUUID()}`,
      pipeline: null,
      payload: alertPayload(alert, d.format),
      maxAttempts: this.cfg.alertMaxAttempts,
    });
    for (const c of await this.store.claimDue(1, this.leaseMs(), id!)) await this.attempt(c);
    return alertDeliveryView((await this.store.findDelivery(id!))!);
  }

  // ---- publishing and delivery ----

  /**
   * Records a delivery of the alert to each destination it routes to (once per destination and
   * `key`: the same alert published twice, by two instances or a repeated hook, is sent once) and
   * starts posting them. Returns how many were recorded.
   */
  async publish(alert: Alert, key: string): Promise<number> {
    const named = alert.pipeline ? ((await this.pipelines.findByName(alert.pipeline))?.spec.alerts ?? []) : [];
    let recorded = 0;
    for (const d of await this.store.listDestinations()) {
      if (!routesTo(d, alert, named)) continue;
      const id = await this.store.enqueue({
        destinationId: d.id,
        alertType: alert.type,
        dedupeKey: key,
        pipeline: alert.pipeline,
        payload: alertPayload(alert, d.format),
        maxAttempts: this.cfg.alertMaxAttempts,
      });
      if (id) recorded++;
    }
    if (recorded) {
      this.log.warn(`alert ${alert.type}: ${alert.title} (${recorded} destination(s))`);
      this.kick();
    }
    return recorded;
  }

  /** Starts a delivery pass soon (one at a time per process; a kick during a pass makes another). */
  kick(): void {
    if (this.stopping) return;
    if (this.passing) {
      this.again = true;
      return;
    }
    this.passing = this.deliverDue().finally(() => {
      this.passing = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Posts every delivery due, a batch at a time. Never throws. */
  async deliverDue(): Promise<void> {
    try {
      for (;;) {
        const batch = await this.store.claimDue(BATCH, this.leaseMs());
        if (!batch.length || this.stopping) break;
        await Promise.all(batch.map((c) => this.attempt(c)));
        if (batch.length < BATCH) break;
      }
    } catch (e) {
      this.log.error(`alert deliveries: ${(e as Error).message}`);
    }
  }

  private leaseMs(): number {
    return this.cfg.alertTimeoutMs + 5000;
  }

  /** One post of a claimed delivery, its result recorded. Never throws. */
  private async attempt(c: ClaimedDelivery): Promise<void> {
    const t0 = Date.now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(c.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'weir-alerts' },
        body: JSON.stringify(c.payload),
        signal: AbortSignal.timeout(this.cfg.alertTimeoutMs),
      });
      status = res.status;
      // the receiver's answer may quote the URL it was called on (its token): taken out
      if (!res.ok)
        error =
          `HTTP ${res.status}: ${withoutUrlSecrets((await res.text().catch(() => '')).slice(0, 2000), c.url).slice(0, 200)}`.trim();
      else await res.body?.cancel().catch(() => undefined);
    } catch (e) {
      // the cause names the failure (refused, timed out); never the URL, which may hold a secret
      const err = e as Error & { cause?: { code?: string; message?: string } };
      error =
        err.name === 'TimeoutError'
          ? `no answer within ${this.cfg.alertTimeoutMs} ms`
          : (err.cause?.code ?? err.message);
    }
    const attempt: DeliveryAttempt = {
      attempt: c.attempt,
      at: new Date(t0).toISOString(),
      status,
      error,
      ms: Date.now() - t0,
    };
    try {
      if (error === null) {
        await this.store.recordAttempt(c.id, attempt, { status: 'delivered' });
        this.metrics?.alertDeliveries.inc({ outcome: 'delivered' });
        return;
      }
      if (c.attempt < c.maxAttempts && !(status !== null && PERMANENT(status))) {
        const retryInMs = deliveryBackoffMs(c.attempt, this.cfg.alertRetryBaseMs, MAX_RETRY_DELAY_MS);
        await this.store.recordAttempt(c.id, attempt, { status: 'pending', retryInMs });
        this.metrics?.alertDeliveries.inc({ outcome: 'retry' });
        this.log.warn(
          `alert delivery ${c.id} to ${c.destination}: attempt ${c.attempt}/${c.maxAttempts} failed (${error}); retry in ${retryInMs} ms`,
        );
        this.retrySoon(retryInMs);
        return;
      }
      await this.store.recordAttempt(c.id, attempt, { status: 'failed' });
      this.metrics?.alertDeliveries.inc({ outcome: 'failed' });
      this.log.error(`alert delivery ${c.id} to ${c.destination}: failed after ${c.attempt} attempt(s) (${error})`);
    } catch (e) {
      this.log.error(`recording alert delivery ${c.id}: ${(e as Error).message}`);
    }
  }

  /** A retry due within the poll interval or so is started by a timer here (any role); later ones by the workers' poll. */
  private retrySoon(ms: number): void {
    if (this.stopping || ms > 60_000) return;
    const t = setTimeout(() => {
      this.retryTimers.delete(t);
      this.kick();
    }, ms + 10);
    t.unref();
    this.retryTimers.add(t);
  }
}
