import type { StoreItem } from '../../application/ports/lineage-graph-writer.port';
import type { SqlStatement } from './graph-rows.util';

/**
 * Inserts events as received (RETURNING id, in order). The events travel as one JSON text (no
 * array-literal escaping), their columns are read from it; the raw text is kept when there is one.
 */
export function storeEventsSql(items: StoreItem[]): SqlStatement {
  return {
    sql: `INSERT INTO lineage.events (kind, event_type, event_time, run_id, job_namespace, job_name, producer, payload, warnings)
            SELECT k.kind, x.e->>'eventType', (x.e->>'eventTime')::timestamptz, CASE WHEN k.kind = 'RunEvent' THEN (x.e->'run'->>'runId')::uuid END,
                   x.e->'job'->>'namespace', x.e->'job'->>'name', x.e->>'producer', x.e, w.w
              FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS x(e, n) JOIN unnest($1::varchar[]) WITH ORDINALITY AS k(kind, n) USING (n)
                   LEFT JOIN jsonb_array_elements($3::jsonb) WITH ORDINALITY AS w(w, wn) ON w.wn = x.n AND jsonb_typeof(w.w) = 'array'
             ORDER BY n
            RETURNING id`,
    params: [
      items.map((i) => i.kind),
      `[${items.map((i) => i.raw ?? JSON.stringify(i.event)).join(',')}]`,
      items.some((i) => i.warnings?.length)
        ? JSON.stringify(items.map((i) => (i.warnings?.length ? i.warnings : null)))
        : '[]',
    ],
  };
}

/** The outbox payload over {@link storeEventsSql}'s rows (`src`): `{"events": [ids, in order]}`. */
export const EVENT_IDS_PAYLOAD_SQL = `SELECT jsonb_build_object('events', jsonb_agg(id::text ORDER BY id)) FROM src`;

/** Stored events by id. */
export function loadEventsSql(ids: string[]): SqlStatement {
  return {
    sql: `SELECT id::text AS id, kind, payload FROM lineage.events WHERE id = ANY($1::bigint[])`,
    params: [ids],
  };
}

/**
 * What retention deletes of lineage.events (for `deleteOldest`: `$1` is its limit): events received
 * more than `days` days ago, and before `before` when given.
 */
export function oldEventsSql(days: number, before: Date | null): { where: string; orderBy: string; params: unknown[] } {
  return {
    where: 'received_at < now() - make_interval(days => $2) AND ($3::timestamptz IS NULL OR received_at < $3)',
    orderBy: 'received_at',
    params: [days, before],
  };
}

/** The savepoint a batch is applied in when it must not take its transaction down with it. */
export const SAVEPOINT_SQL = {
  set: `SAVEPOINT lineage_apply`,
  rollback: `ROLLBACK TO SAVEPOINT lineage_apply`,
  release: `RELEASE SAVEPOINT lineage_apply`,
} as const;
