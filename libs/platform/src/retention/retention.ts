import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import { WEIR_CONFIG } from '../config/config.tokens';
import type { WeirConfig } from '../config/weir-config';
import { MetricsService } from '../observability/metrics.service';
import { periodic, PeriodicTask } from '../lifecycle/periodic';

/**
 * Deletes at most `limit` rows of `table` (with an `id` key) matching `where`, oldest first by
 * `orderBy`, skipping rows another sweep holds. `$1` is the limit; `where` refers to its own
 * `params` as `$2`, `$3`… Returns how many rows it deleted.
 */
export async function deleteOldest(
  ds: DataSource,
  q: { table: string; where: string; orderBy: string; params: unknown[]; limit: number },
): Promise<number> {
  const [{ n }] = await ds.query(
    `WITH d AS (DELETE FROM ${q.table} WHERE id = ANY (ARRAY(
        SELECT id FROM ${q.table} WHERE ${q.where} ORDER BY ${q.orderBy} LIMIT $1 FOR UPDATE SKIP LOCKED)) RETURNING 1)
     SELECT count(*)::int AS n FROM d`,
    [q.limit, ...q.params],
  );
  return n;
}

/** One retention rule: what it deletes, and the statement that deletes at most `limit` rows of it. */
export interface RetentionPolicy {
  /** Short name, used in logs and as the metric label (e.g. `platform.outbox`). */
  name: string;
  /** What is deleted, for the log line (e.g. `dispatched outbox rows older than 7 days`). */
  describe: string;
  /** Deletes at most `limit` rows and returns how many it deleted; called until it deletes fewer. */
  deleteBatch(ds: DataSource, limit: number): Promise<number>;
}

/**
 * Deletes what is kept only for a while (dispatched outbox rows, old raw lineage events, old audit rows), so the
 * control-plane tables do not grow without bound. Slices register their policies at module init;
 * worker processes sweep a minute after start and then every hour, in batches of
 * {@link Retention.batchSize} rows (short transactions, no long locks), and `weir retention` sweeps
 * on demand. Several workers sweeping at once only repeat each other's deletes.
 */
@Injectable()
export class Retention implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('Retention');
  private readonly policies: RetentionPolicy[] = [];
  private readonly deleted: Counter<'policy'>;
  private task?: PeriodicTask;
  private stopped = false;
  batchSize = 10_000;
  firstSweepMs = 60_000;
  intervalMs = 3_600_000;

  constructor(
    private readonly ds: DataSource,
    @Inject(WEIR_CONFIG) private readonly config: WeirConfig,
    metrics: MetricsService,
  ) {
    this.deleted = new Counter({
      name: 'weir_retention_deleted_rows_total',
      help: 'Rows deleted by retention policies',
      labelNames: ['policy'],
      registers: [metrics.registry],
    });
  }

  register(policy: RetentionPolicy): void {
    if (this.policies.some((p) => p.name === policy.name))
      throw new Error(`retention policy "${policy.name}" is already registered`);
    this.policies.push(policy);
  }

  /** The registered policies' names and descriptions. */
  list(): { name: string; describe: string }[] {
    return this.policies.map(({ name, describe }) => ({ name, describe }));
  }

  /** Applies every policy once, to the end; returns the rows deleted per policy. */
  async sweep(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const p of this.policies) {
      const t0 = Date.now();
      let n = 0;
      for (;;) {
        if (this.stopped) break;
        const k = await p.deleteBatch(this.ds, this.batchSize);
        n += k;
        this.deleted.inc({ policy: p.name }, k);
        if (k < this.batchSize) break;
      }
      out[p.name] = n;
      if (n > 0) this.log.log(`${p.name}: deleted ${n} ${p.describe} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    return out;
  }

  onApplicationBootstrap(): void {
    if (!this.config.roles.has('worker')) return;
    this.task = periodic({
      everyMs: () => this.intervalMs,
      firstAfterMs: this.firstSweepMs,
      run: () => this.sweep(),
      onError: (e) =>
        this.log.error(`retention sweep failed (next try in ${this.intervalMs / 60_000} min): ${e.message}`),
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.task?.stop();
  }
}
