/** Shared by the graph writers: statements as values, and the insert-or-find rows they read back. */
export type Json = Record<string, any>;

/** One SQL statement and its bound parameters, as a builder emits it. */
export interface SqlStatement {
  sql: string;
  params: unknown[];
}

/** Ids of the rows a batch touches: graph key (namespace, name) -> bigint id as text. */
export type IdMap = Map<string, string>;

/**
 * The rows of an insert-or-find statement (`INSERT … ON CONFLICT DO NOTHING RETURNING …, true AS
 * inserted` plus the existing rows, `false`), one per key: an inserted row wins over a found one.
 */
export function oneRowPerKey<R extends { inserted: boolean }>(rows: R[], keyOf: (r: R) => string): Map<string, R> {
  const out = new Map<string, R>();
  for (const r of rows) {
    const k = keyOf(r);
    if (!out.get(k)?.inserted) out.set(k, r);
  }
  return out;
}

/** Orders `[key, value]` entries by key (code-unit order, as the statements lock rows). */
export const byKey = <T>(a: [string, T], b: [string, T]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** Orders rows by their bigint id (text), the order updates lock them in. */
export const byId = (a: { id: string }, b: { id: string }) => Number(a.id) - Number(b.id);

/** Facets as stored: one sent as `{"_deleted": true}` removes the facet (OpenLineage's way to delete one). */
export const withoutDeleted = (f: Json): Json =>
  Object.fromEntries(
    Object.entries(f).filter(([, v]) => !(v && typeof v === 'object' && (v as Json)['_deleted'] === true)),
  );

/** The error that makes the outbox retry a batch: a row neither inserted nor found yet. */
export function notVisible(what: string): Error {
  return new Error(
    `lineage: ${what} neither inserted nor found (concurrent insert not yet visible); the batch is retried`,
  );
}
