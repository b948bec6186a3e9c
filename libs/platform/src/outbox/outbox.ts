import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { WEIR_CONFIG } from '../config/config.tokens';
import type { WeirConfig } from '../config/weir-config';
import { deleteOldest, Retention } from '../retention/retention';
import { MetricsService } from '../observability/metrics.service';
import { Gauge } from 'prom-client';

/** Anything that runs SQL inside the caller's transaction: a pg client, a TypeORM EntityManager or QueryRunner. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/** One dispatched outbox row. */
export interface OutboxMessage<T = unknown> {
  id: string;
  topic: string;
  key: string | null;
  payload: T;
  createdAt: Date;
  /** 1 on the first delivery; more when an earlier delivery failed. */
  attempts: number;
}

/**
 * Handles a batch of one topic's messages, in id order. `tx` is the transaction that marks them
 * dispatched: database work done through it commits with the mark (exactly once); work done
 * elsewhere (HTTP) is at least once. Throwing undoes the handler's `tx` work and retries the batch later.
 */
export type OutboxHandler<T = unknown> = (messages: OutboxMessage<T>[], tx: Queryable) => Promise<void>;

interface Subscription {
  topic: string;
  handler: OutboxHandler;
  batchSize: number;
  maxAttempts: number;
}

/** Backoff after the n-th failed attempt: 1 s, 2 s, 4 s … capped at 5 min. */
export const outboxBackoffMs = (attempts: number): number => Math.min(300_000, 1000 * 2 ** Math.max(0, attempts - 1));

/**
 * The transactional outbox. A slice writes its event with {@link Outbox.publish} on the same
 * connection and in the same transaction as the state change it reports, so the event exists
 * if and only if the change committed: a crash can delay an event, never lose or invent one.
 * Worker processes poll the table and hand each topic's pending rows, in id order and in
 * batches, to the handlers subscribed to that topic (at least once: handlers must be idempotent).
 * A failing batch is retried with exponential backoff; after `maxAttempts` it is parked
 * (`dispatched_at` stays null, `last_error` says why) and logged.
 * Rows are claimed with `FOR UPDATE SKIP LOCKED`, so several instances share the work.
 */
@Injectable()
export class Outbox implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('Outbox');
  private readonly subs = new Map<string, Subscription>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private again = false;
  private stopped = false;
  /** Poll interval of the dispatcher. */
  pollMs = 250;
  /** After a publish, how long to wait for more events before dispatching (fewer, larger batches under load). */
  coalesceMs = 15;
  private scheduled?: NodeJS.Timeout;

  constructor(
    private readonly ds: DataSource,
    @Inject(WEIR_CONFIG) private readonly config: WeirConfig,
    @Optional() retention?: Retention,
    @Optional() metrics?: MetricsService,
  ) {
    if (metrics) {
      // read at scrape time (one query shared by the three gauges): what waits per topic, what is
      // parked, and how old the oldest waiting event is
      type Row = { topic: string; attempts: number; n: number; age: number };
      let read: { at: number; rows: Promise<Row[]>; done: boolean } | undefined;
      const rows = (): Promise<Row[]> => {
        // one query at a time, reused for a second after it ends (slow scrapes do not stack queries)
        if (!read || (read.done && Date.now() - read.at > 1000)) {
          const r: { at: number; rows: Promise<Row[]>; done: boolean } = {
            at: Date.now(),
            done: false,
            rows: this.ds
              .query(
                `SELECT topic, attempts, count(*)::int AS n, extract(epoch FROM now() - min(created_at))::float8 AS age
                 FROM platform.outbox WHERE dispatched_at IS NULL GROUP BY topic, attempts`,
              )
              .catch(() => []) as Promise<Row[]>, // the database away: no outbox figures, the rest still served
          };
          void r.rows.finally(() => {
            r.done = true;
            r.at = Date.now();
          });
          read = r;
        }
        return read.rows;
      };
      const parkedRow = (r: Row) => r.attempts >= (this.subs.get(r.topic)?.maxAttempts ?? Infinity);
      const gauge = (name: string, help: string, fill: (g: Gauge<'topic'>, rs: Row[]) => void) =>
        new Gauge({
          name,
          help,
          labelNames: ['topic'],
          registers: [metrics.registry],
          async collect() {
            const rs = await rows();
            this.reset();
            fill(this, rs);
          },
        });
      gauge(
        'weir_outbox_pending',
        'Outbox events waiting to be dispatched, by topic (parked ones excluded)',
        (g, rs) => {
          for (const r of rs) if (!parkedRow(r)) g.inc({ topic: r.topic }, r.n);
        },
      );
      gauge('weir_outbox_parked', 'Outbox events parked after their last attempt failed, by topic', (g, rs) => {
        for (const r of rs) if (parkedRow(r)) g.inc({ topic: r.topic }, r.n);
      });
      gauge(
        'weir_outbox_oldest_pending_seconds',
        'Age of the oldest outbox event waiting to be dispatched, by topic',
        (g, rs) => {
          const oldest = new Map<string, number>();
          for (const r of rs) if (!parkedRow(r)) oldest.set(r.topic, Math.max(oldest.get(r.topic) ?? 0, r.age));
          for (const [topic, age] of oldest) g.set({ topic }, age);
        },
      );
    }
    const days = config.outboxRetentionDays;
    if (retention && days > 0) {
      retention.register({
        name: 'platform.outbox',
        describe: `dispatched outbox rows older than ${days} days`,
        deleteBatch: (ds, limit) =>
          deleteOldest(ds, {
            table: 'platform.outbox',
            where: 'dispatched_at IS NOT NULL AND dispatched_at < now() - make_interval(days => $2)',
            orderBy: 'dispatched_at',
            params: [days],
            limit,
          }),
      });
    }
  }

  /** When the oldest event of `topic` still to dispatch was written (parked ones included); null when none is. */
  async oldestPending(topic: string): Promise<Date | null> {
    const [row] = await this.ds.query(
      `SELECT min(created_at) AS at FROM platform.outbox WHERE topic = $1 AND dispatched_at IS NULL`,
      [topic],
    );
    return row?.at ?? null;
  }

  /** Writes an event in the caller's transaction (`tx` must be the connection doing the state change). */
  async publish(tx: Queryable, topic: string, payload: unknown, key?: string): Promise<void> {
    await tx.query(`INSERT INTO platform.outbox (topic, key, payload) VALUES ($1, $2, $3)`, [
      topic,
      key ?? null,
      JSON.stringify(payload),
    ]);
    this.kick();
  }

  /**
   * One statement, atomic even outside a transaction: runs `cte` (a data-modifying statement with
   * RETURNING, visible as `src`) and writes one event whose payload is `payloadSql`, computed over
   * `src`. For hot paths where a state change and its event are a single INSERT (one round trip).
   */
  async publishWith<T = unknown>(
    q: Queryable,
    topic: string,
    cte: string,
    payloadSql: string,
    params: unknown[],
  ): Promise<T> {
    const rows = (await q.query(
      `WITH src AS (${cte}), ev AS (INSERT INTO platform.outbox (topic, payload) SELECT $${params.length + 1}, (${payloadSql}) RETURNING payload) SELECT payload FROM ev`,
      [...params, topic],
    )) as { payload: T }[];
    this.kick();
    return rows[0].payload;
  }

  /**
   * One statement, atomic even outside a transaction: runs `statement` (a data-modifying statement
   * with RETURNING) and, if it returned at least one row, writes `payload` as one event. For state
   * changes that are a single UPDATE or INSERT, this saves the BEGIN / COMMIT round trips of
   * {@link Outbox.publish}. `ctes` are more `name AS (…)` definitions placed before it (data-modifying
   * statements must sit at the top level of the WITH, so a multi-table change goes there and
   * `statement` selects from it). Returns the rows the statement returned.
   */
  async publishAlong<R = Record<string, unknown>>(
    q: Queryable,
    statement: string,
    params: unknown[],
    topic: string,
    payload: unknown,
    key?: string,
    ctes?: string,
  ): Promise<R[]> {
    const n = params.length;
    const res = (await q.query(
      `WITH ${ctes ? `${ctes}, ` : ''}src AS (${statement}), ev AS (INSERT INTO platform.outbox (topic, key, payload) SELECT $${n + 1}, $${n + 2}, $${n + 3}::jsonb WHERE EXISTS (SELECT 1 FROM src)) SELECT * FROM src`,
      [...params, topic, key ?? null, JSON.stringify(payload)],
    )) as R[] | { rows: R[] };
    const rows = Array.isArray(res) ? res : res.rows;
    if (rows.length) this.kick();
    return rows;
  }

  /**
   * One statement, atomic even outside a transaction: runs `statement` (a data-modifying statement
   * with RETURNING, visible as `src`) and writes one event per row it returned, whose payload
   * (`payloadSql`, jsonb) and key (`keySql`) are expressions over that row's columns. Returns the rows.
   */
  async publishEach<R = Record<string, unknown>>(
    q: Queryable,
    statement: string,
    params: unknown[],
    topic: string,
    payloadSql: string,
    keySql = 'NULL',
  ): Promise<R[]> {
    const n = params.length;
    const res = (await q.query(
      `WITH src AS (${statement}), ev AS (INSERT INTO platform.outbox (topic, key, payload) SELECT $${n + 1}, ${keySql}, (${payloadSql})::jsonb FROM src) SELECT * FROM src`,
      [...params, topic],
    )) as R[] | { rows: R[] };
    const rows = Array.isArray(res) ? res : res.rows;
    if (rows.length) this.kick();
    return rows;
  }

  /** Registers the handler of a topic (one per topic per process). */
  subscribe<T>(
    topic: string,
    handler: OutboxHandler<T>,
    opts: { batchSize?: number; maxAttempts?: number } = {},
  ): void {
    if (this.subs.has(topic)) throw new Error(`outbox topic "${topic}" already has a handler`);
    this.subs.set(topic, {
      topic,
      handler: handler as OutboxHandler,
      batchSize: opts.batchSize ?? 100,
      maxAttempts: opts.maxAttempts ?? 20,
    });
  }

  onApplicationBootstrap(): void {
    if (!this.config.roles.has('worker')) return;
    this.timer = setInterval(() => this.nudge(), this.pollMs);
    this.timer.unref();
  }

  /** Stops dispatching and lets the current pass finish, before the pools close. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.scheduled) clearTimeout(this.scheduled);
    await this.running?.catch(() => undefined);
  }

  /**
   * Asks for a dispatch pass soon: call it after the transaction that published has committed.
   * Kicks within {@link coalesceMs} share one pass, so a burst of events is handed over in batches.
   */
  kick(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = setTimeout(() => {
      this.scheduled = undefined;
      this.nudge();
    }, this.coalesceMs);
    this.scheduled.unref();
  }

  /** Asks for a dispatch pass soon (after the publishing transaction had time to commit). */
  private nudge(): void {
    if (this.stopped || !this.config.roles.has('worker') || this.subs.size === 0) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.dispatchPending()
      .catch((e) => {
        this.log.error(`dispatch failed: ${(e as Error).message}`);
        return 0;
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          setTimeout(() => this.nudge(), 20).unref();
        }
      });
  }

  /** Dispatches until no subscribed topic has a due row; returns how many rows were handled. */
  async dispatchPending(): Promise<number> {
    let total = 0;
    for (;;) {
      let pass = 0;
      for (const sub of this.subs.values()) pass += await this.dispatchTopic(sub);
      total += pass;
      if (pass === 0 || this.stopped) return total;
    }
  }

  /**
   * For tests and shutdown paths: waits until every due row of the subscribed topics is handled
   * (or `timeoutMs` passes). Dispatches in this process even when it is not a worker.
   */
  async drain(timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      await this.running?.catch(() => undefined);
      await this.dispatchPending();
      const [{ n }] = await this.ds.query(
        `SELECT count(*)::int AS n FROM platform.outbox o WHERE dispatched_at IS NULL AND available_at <= now() AND topic = ANY($1)
            AND attempts < (SELECT max_attempts FROM unnest($1::text[], $2::int[]) AS s(topic, max_attempts) WHERE s.topic = o.topic)`,
        [[...this.subs.keys()], [...this.subs.values()].map((s) => s.maxAttempts)],
      );
      if (n === 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`outbox not drained within ${timeoutMs} ms`);
  }

  private async dispatchTopic(sub: Subscription): Promise<number> {
    const qr = this.ds.createQueryRunner();
    await qr.connect();
    try {
      await qr.startTransaction();
      const rows = (await qr.query(
        `SELECT id, topic, key, payload, created_at AS "createdAt", attempts + 1 AS attempts FROM platform.outbox
          WHERE topic = $1 AND dispatched_at IS NULL AND available_at <= now() AND attempts < $3
          ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [sub.topic, sub.batchSize, sub.maxAttempts],
      )) as OutboxMessage[];
      if (rows.length === 0) {
        await qr.commitTransaction();
        return 0;
      }
      const ids = rows.map((r) => r.id);
      await qr.query(`SAVEPOINT outbox_handler`);
      try {
        await sub.handler(rows, qr);
        await qr.query(
          `UPDATE platform.outbox SET dispatched_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY($1::bigint[])`,
          [ids],
        );
      } catch (e) {
        const attempts = Math.max(...rows.map((r) => r.attempts));
        const message = (e as Error).message ?? String(e);
        const parked = attempts >= sub.maxAttempts;
        await qr.query(`ROLLBACK TO SAVEPOINT outbox_handler`);
        await qr.query(
          `UPDATE platform.outbox SET attempts = attempts + 1, last_error = $2, available_at = now() + $3::interval WHERE id = ANY($1::bigint[])`,
          [ids, message.slice(0, 4000), `${outboxBackoffMs(attempts) / 1000} seconds`],
        );
        if (parked)
          this.log.error(`topic ${sub.topic}: ${ids.length} event(s) parked after ${attempts} attempts: ${message}`);
        else
          this.log.warn(
            `topic ${sub.topic}: ${ids.length} event(s) will be retried in ${outboxBackoffMs(attempts) / 1000} s (attempt ${attempts}): ${message}`,
          );
        await qr.commitTransaction();
        return 0;
      }
      await qr.commitTransaction();
      return rows.length;
    } catch (e) {
      if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
      throw e;
    } finally {
      await qr.release();
    }
  }
}
