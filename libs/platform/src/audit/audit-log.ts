import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { Counter } from 'prom-client';
import { WEIR_CONFIG } from '../config/config.tokens';
import type { WeirConfig } from '../config/weir-config';
import { deleteOldest, Retention } from '../retention/retention';
import { MetricsService } from '../observability/metrics.service';
import type { Queryable } from '../outbox/outbox';
import type { Principal } from '../auth/roles';
import { ApiKeysService } from '../auth/api-keys.service';
import { extractApiKey } from '../auth/api-key.guard';
import { InvalidAuditQueryError } from '../errors/platform.errors';
import { redactForAudit, storable } from './redact';

export type AuditOutcome = 'ok' | 'refused' | 'failed';

/** One audit row as written: who did what, when, and how it ended. */
export interface AuditEntry {
  /** When it started (default: now). */
  at?: Date;
  /** The key id, `cli:<os user>` or `anonymous`. */
  actor: string;
  actorName?: string | null;
  /** HTTP method, or `CLI`. */
  method: string;
  route?: string | null;
  path: string;
  resourceId?: string | null;
  /** Redacted by {@link recordAudit}; pass the raw body or options. */
  diff?: unknown;
  status?: number | null;
  outcome: AuditOutcome;
  errorCode?: string | null;
  durationMs: number;
  requestId?: string | null;
}

/** An audit row as read back. */
export interface AuditRecord {
  id: string;
  at: Date;
  actor: string;
  actorName: string | null;
  method: string;
  route: string | null;
  path: string;
  resourceId: string | null;
  diff: unknown;
  status: number | null;
  outcome: AuditOutcome;
  errorCode: string | null;
  durationMs: number;
  requestId: string | null;
}

/** Filters of {@link AuditLog.list}; every one optional. */
export interface AuditQuery {
  actor?: string;
  /** Route template or path prefix (`/api/catalog` matches every catalog route). */
  route?: string;
  method?: string;
  outcome?: AuditOutcome;
  resource?: string;
  from?: Date;
  to?: Date;
  limit?: number;
  cursor?: string;
}

export const AUDIT_OUTCOMES: readonly AuditOutcome[] = ['ok', 'refused', 'failed'];
export const MUTATING_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** How a status reads in the audit log: below 400 ok, 4xx refused, 5xx failed. */
export function outcomeOf(status: number): AuditOutcome {
  return status >= 500 ? 'failed' : status >= 400 ? 'refused' : 'ok';
}

const cut = (s: string | null | undefined, n: number): string | null =>
  s === null || s === undefined ? null : storable(s.length > n ? s.slice(0, n) : s);

/** Writes one audit row (the diff redacted and capped here) and returns its id. Used by the API and by `weir` commands. */
export async function recordAudit(q: Queryable, e: AuditEntry): Promise<string> {
  const diff = e.diff === undefined || e.diff === null ? null : JSON.stringify(redactForAudit(e.diff));
  const res = await q.query(
    `INSERT INTO platform.audit_log
       (at, actor, actor_name, method, route, path, resource_id, diff, status, outcome, error_code, duration_ms, request_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13) RETURNING id::text AS id`,
    [
      e.at ?? new Date(),
      cut(e.actor, 200),
      cut(e.actorName, 200),
      cut(e.method, 10),
      cut(e.route, 500),
      cut(e.path, 2000) ?? '',
      cut(e.resourceId, 500),
      diff,
      e.status ?? null,
      e.outcome,
      cut(e.errorCode, 100),
      Math.max(0, Math.round(e.durationMs)),
      cut(e.requestId, 128),
    ],
  );
  // a pg client answers { rows }, TypeORM the rows themselves
  const rows = (Array.isArray(res) ? res : (res as { rows: { id: string }[] }).rows) as { id: string }[];
  return rows[0].id;
}

/** The resource a route acts on: its `:id` or `:name` parameter, else its last parameter. */
function resourceOf(params: Record<string, unknown> | undefined): string | null {
  if (!params) return null;
  for (const k of ['id', 'name']) if (typeof params[k] === 'string') return params[k] as string;
  const values = Object.values(params).filter((v): v is string => typeof v === 'string');
  return values.length ? values[values.length - 1] : null;
}

interface Cursor {
  at: string;
  id: string;
}

function encodeCursor(r: AuditRecord): string {
  return Buffer.from(JSON.stringify({ at: r.at.toISOString(), id: r.id } satisfies Cursor)).toString('base64url');
}

function decodeCursor(s: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Cursor;
    if (typeof c.at === 'string' && !isNaN(Date.parse(c.at)) && typeof c.id === 'string' && /^\d{1,19}$/.test(c.id))
      return c;
  } catch {
    /* falls through */
  }
  throw new InvalidAuditQueryError('cursor is not one this API returned (take nextCursor from the previous page)');
}

function toRecord(r: Record<string, unknown>): AuditRecord {
  return {
    id: String(r['id']),
    at: r['at'] as Date,
    actor: r['actor'] as string,
    actorName: (r['actor_name'] as string | null) ?? null,
    method: r['method'] as string,
    route: (r['route'] as string | null) ?? null,
    path: r['path'] as string,
    resourceId: (r['resource_id'] as string | null) ?? null,
    diff: r['diff'] ?? null,
    status: (r['status'] as number | null) ?? null,
    outcome: r['outcome'] as AuditOutcome,
    errorCode: (r['error_code'] as string | null) ?? null,
    durationMs: r['duration_ms'] as number,
    requestId: (r['request_id'] as string | null) ?? null,
  };
}

/**
 * The audit log (platform.audit_log): records every mutating API request after its response —
 * accepted, refused (4xx) or failed (5xx) — off the request's path (an insert that fails is a
 * warning, never the request's failure), lists rows for `GET /api/platform/audit`, and keeps them
 * WEIR_AUDIT_RETENTION_DAYS days (a retention policy).
 */
@Injectable()
export class AuditLog {
  private readonly log = new Logger('AuditLog');
  private pending = 0;
  /** Inserts in flight beyond which new rows are dropped (with a warning and a metric), so a slow database never piles up memory. */
  maxPending = 1000;
  private readonly dropped?: Counter<'reason'>;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly fieldMasks: { prefix: string; field: string; mask: (value: unknown) => unknown }[] = [];

  constructor(
    private readonly ds: DataSource,
    @Inject(WEIR_CONFIG) config: WeirConfig,
    @Optional() private readonly keys?: ApiKeysService,
    @Optional() retention?: Retention,
    @Optional() metrics?: MetricsService,
  ) {
    if (metrics)
      this.dropped = new Counter({
        name: 'weir_audit_dropped_total',
        help: 'Audit rows not written (the insert failed, or too many were waiting)',
        labelNames: ['reason'],
        registers: [metrics.registry],
      });
    const days = config.auditRetentionDays;
    if (retention && days > 0) {
      retention.register({
        name: 'platform.audit_log',
        describe: `audit log rows older than ${days} days`,
        deleteBatch: (ds, limit) =>
          deleteOldest(ds, {
            table: 'platform.audit_log',
            where: 'at < now() - make_interval(days => $2)',
            orderBy: 'at',
            params: [days],
            limit,
          }),
      });
    }
  }

  /**
   * A top-level body field of the requests under `prefix` that holds a secret no field-name rule
   * catches (an alert destination's `url`, whose path is often the token): recorded as `mask` makes
   * it, accepted or refused. The slice owning the route says so once, when it starts.
   */
  maskBodyField(prefix: string, field: string, mask: (value: unknown) => unknown): void {
    this.fieldMasks.push({ prefix: prefix.toLowerCase(), field, mask });
  }

  /** The body as recorded: the masks of {@link maskBodyField} applied (redactForAudit does the rest when written). */
  private bodyOf(path: string, body: unknown): unknown {
    if (!body || typeof body !== 'object' || !Object.keys(body).length) return null;
    if (Array.isArray(body)) return body;
    let out = body as Record<string, unknown>;
    const p = path.toLowerCase(); // routes match in any letter case
    for (const m of this.fieldMasks)
      if ((p === m.prefix || p.startsWith(`${m.prefix}/`)) && out[m.field] !== undefined)
        out = { ...out, [m.field]: m.mask(out[m.field]) };
    return out;
  }

  /** Writes a row in the background: never throws, never waits. */
  record(entry: AuditEntry): void {
    if (this.pending >= this.maxPending) {
      this.dropped?.inc({ reason: 'backlog' });
      this.log.warn(`audit row of ${entry.method} ${entry.path} dropped: ${this.pending} inserts already waiting`);
      return;
    }
    this.pending++;
    const p = recordAudit(this.ds, entry)
      .then(() => undefined)
      .catch((e: Error) => {
        this.dropped?.inc({ reason: 'error' });
        this.log.warn(`audit row of ${entry.method} ${entry.route ?? entry.path} not written: ${e.message}`);
      })
      .finally(() => {
        this.pending--;
        this.inFlight.delete(p);
      });
    this.inFlight.add(p);
  }

  /** Waits for the rows being written (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  /**
   * Express middleware recording every POST, PUT, PATCH and DELETE once its response is sent:
   * mounted ahead of the body parsers and the router, so refusals by them and by the key guard
   * are recorded too.
   */
  middleware() {
    return (req: Request & { principal?: Principal; id?: string }, res: Response, next: NextFunction): void => {
      if (!MUTATING_METHODS.has(req.method)) return next();
      const at = new Date();
      const t0 = process.hrtime.bigint();
      let errorCode: string | null = null;
      // the problem+json `code` of an error answer, read from the body as it is sent
      const end = res.end.bind(res) as (...a: unknown[]) => Response;
      res.end = ((...args: unknown[]) => {
        const chunk = args[0];
        if (res.statusCode >= 400 && chunk && /problem\+json/.test(String(res.getHeader('content-type') ?? ''))) {
          const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
          if (text.length < 65_536) {
            const m = /"code"\s*:\s*"([^"\\]{1,100})"/.exec(text);
            if (m) errorCode = m[1];
          }
        }
        return end(...args);
      }) as Response['end'];
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        const durationMs = Number(process.hrtime.bigint() - t0) / 1e6;
        const routePath = req.route?.path as string | undefined;
        const route = routePath
          ? `${req.baseUrl ?? ''}${routePath}`
          : typeof res.locals?.['route'] === 'string'
            ? (res.locals['route'] as string)
            : null;
        const status = res.writableFinished || res.headersSent ? res.statusCode : 499; // 499: the client went away
        const path = (req.originalUrl ?? req.url ?? '').split('?')[0];
        const entry: AuditEntry = {
          at,
          actor: req.principal?.keyId ?? 'anonymous',
          actorName: req.principal?.name ?? null,
          method: req.method,
          route,
          path,
          resourceId: resourceOf(req.params as Record<string, unknown> | undefined),
          diff: this.bodyOf(path, req.body),
          status,
          outcome: outcomeOf(status),
          errorCode,
          durationMs,
          requestId: req.id ?? null,
        };
        const secret = req.principal ? undefined : extractApiKey(req);
        if (secret && this.keys) {
          // a route mounted ahead of the guard (OpenLineage ingest) checked the key itself: name it here
          this.keys
            .authenticate(secret)
            .then((p) => {
              if (p) Object.assign(entry, { actor: p.keyId, actorName: p.name });
            })
            .catch(() => undefined)
            .finally(() => this.record(entry));
        } else this.record(entry);
      };
      res.on('finish', finish);
      res.on('close', finish);
      next();
    };
  }

  /** Rows matching `q`, newest first, `limit` (default 50, at most 500) at a time. */
  async list(q: AuditQuery): Promise<{ items: AuditRecord[]; nextCursor: string | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (p: string) => string, v: unknown) => {
      params.push(v);
      where.push(sql(`$${params.length}`));
    };
    if (q.actor) add((p) => `actor = ${p}`, q.actor);
    if (q.route) add((p) => `(starts_with(coalesce(route, ''), ${p}) OR starts_with(path, ${p}))`, q.route);
    if (q.method) add((p) => `method = ${p}`, q.method.toUpperCase());
    if (q.outcome) add((p) => `outcome = ${p}`, q.outcome);
    if (q.resource) add((p) => `resource_id = ${p}`, q.resource);
    if (q.from) add((p) => `at >= ${p}`, q.from);
    if (q.to) add((p) => `at < ${p}`, q.to);
    if (q.cursor) {
      const c = decodeCursor(q.cursor);
      params.push(c.at, c.id);
      where.push(`(at, id) < ($${params.length - 1}::timestamptz, $${params.length}::bigint)`);
    }
    const limit = Math.min(Math.max(q.limit ?? 50, 1), 500);
    params.push(limit + 1);
    const rows = (await this.ds.query(
      `SELECT * FROM platform.audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY at DESC, id DESC LIMIT $${params.length}`,
      params,
    )) as Record<string, unknown>[];
    const items = rows.slice(0, limit).map(toRecord);
    return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]) : null };
  }
}
