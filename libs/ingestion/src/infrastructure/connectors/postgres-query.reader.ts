import { Client } from 'pg';
import { quoteIdent } from '@weir/platform';
import type { QueryConnector } from '../../domain/connector';
import { SourceQueryFailedError, SourceUnreachableError } from '../../ingestion.errors';
import type { ReaderBatch } from '../readers/record.types';
import { ResolvedConnection, scrub } from './connection.util';
import type { QueryPlan } from './query-plan.util';

export const DEFAULT_FETCH_SIZE = 10_000;

/** pg-cursor (no published types): a portal read `n` rows at a time. */
interface Cursor {
  read(n: number): Promise<unknown[]>;
  close(): Promise<void>;
  _result: { fields?: { name: string }[] };
}
type CursorClass = new (
  sql: string,
  params: unknown[],
  config: { rowMode: 'array'; types: { getTypeParser: (oid: number) => (v: string) => string } },
) => Cursor;
const CursorImpl = require('pg-cursor') as CursorClass;

const identity = (v: string) => v;
/** bytea in hex text form → base64. */
const bytea = (v: string) => Buffer.from(v.startsWith('\\x') ? v.slice(2) : v, 'hex').toString('base64');
/**
 * Every value as PostgreSQL's own text (numeric exact, bigint whole, timestamptz in UTC with its
 * offset, booleans t/f, json as its text, uuid), bytea as base64: what the contract validates,
 * as it would a CSV field.
 */
const TEXT_TYPES = { getTypeParser: (oid: number) => (oid === 17 ? bytea : identity) };

const qualified = (t: string) =>
  t
    .split('.')
    .map((p) => quoteIdent(p))
    .join('.');

/** The SELECT of a plan, and its parameters. */
export function postgresSelect(c: QueryConnector, plan: QueryPlan): { sql: string; params: string[] } {
  const inner = c.table
    ? `SELECT ${plan.columns!.map((x) => quoteIdent(x)).join(', ')} FROM ${qualified(c.table)}`
    : c.query!.trim();
  if (!plan.cursor) return { sql: c.table ? inner : `SELECT * FROM (${inner}) AS weir_src`, params: [] };
  const cur = `weir_src.${quoteIdent(plan.cursor)}`;
  const tb = plan.tieBreaker ? `weir_src.${quoteIdent(plan.tieBreaker)}` : undefined;
  const params: string[] = [];
  let where = '';
  if (plan.bound !== undefined) {
    params.push(plan.bound);
    where = `${cur} > $1`;
    if (tb && plan.tieCursor !== undefined) {
      params.push(plan.tieCursor, plan.tieValue!);
      where = `(${where} OR (${cur} = $2 AND ${tb} > $3))`;
    }
    where = ` WHERE ${where}`;
  }
  return {
    sql: `SELECT * FROM (${inner}) AS weir_src${where} ORDER BY ${cur}${tb ? `, ${tb}` : ''}`,
    params,
  };
}

/**
 * postgres_query: a server-side cursor (pg-cursor) in a read-only repeatable-read transaction,
 * `fetchSize` rows a round trip, the next fetch in flight while a batch is validated: never the
 * whole result in memory. The batches carry the result's column names as their header.
 */
export async function openPostgresQuery(
  c: QueryConnector,
  conn: ResolvedConnection,
  plan: QueryPlan,
  signal: AbortSignal,
): Promise<{ batches: AsyncIterable<ReaderBatch>; close: () => Promise<void> }> {
  const client = new Client({
    connectionString: conn.url,
    host: conn.url ? undefined : conn.host,
    port: conn.url ? undefined : conn.port,
    database: conn.url ? undefined : conn.database,
    user: conn.url ? undefined : conn.user,
    password: conn.url ? undefined : conn.password,
    ssl: conn.ssl === 'require' ? { rejectUnauthorized: false } : conn.ssl === 'verify-full' ? true : undefined,
    application_name: 'weir-source',
    connectionTimeoutMillis: 15_000,
  });
  client.on('error', () => undefined); // a dropped connection fails the next read instead
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => undefined);
    throw new SourceUnreachableError(
      `Cannot connect to the source database ${conn.shown}: ${scrub((e as Error).message, conn)}`,
    );
  }
  let closed = false;
  let cursor: Cursor | undefined;
  const close = async () => {
    if (closed) return;
    closed = true;
    if (cursor) await cursor.close().catch(() => undefined);
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end().catch(() => undefined);
  };
  const { sql, params } = postgresSelect(c, plan);
  const fetchSize = c.fetchSize ?? DEFAULT_FETCH_SIZE;
  const failed = (e: unknown) =>
    new SourceQueryFailedError(
      `The source database ${conn.shown} refused the read: ${scrub((e as Error).message, conn)}`,
    );
  try {
    await client.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`);
    await client.query(`SET LOCAL TIME ZONE 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL extra_float_digits = 3`);
  } catch (e) {
    await close();
    throw failed(e);
  }
  const batches = (async function* (): AsyncGenerator<ReaderBatch> {
    try {
      cursor = client.query(
        new CursorImpl(sql, params, { rowMode: 'array', types: TEXT_TYPES }) as never,
      ) as unknown as Cursor;
      let next = cursor.read(fetchSize);
      let header: string[] | undefined;
      while (!signal.aborted) {
        let rows: string[][];
        try {
          rows = (await next) as string[][];
        } catch (e) {
          throw failed(e);
        }
        if (!header) {
          header = (cursor._result.fields ?? []).map((f) => f.name);
          if (rows.length === 0) {
            yield { header, records: [] };
            break;
          }
          if (rows.length === fetchSize) next = cursor.read(fetchSize);
          yield { header, records: rows };
          if (rows.length < fetchSize) break;
          continue;
        }
        if (rows.length === 0) break;
        if (rows.length === fetchSize) next = cursor.read(fetchSize);
        yield { records: rows };
        if (rows.length < fetchSize) break;
      }
    } finally {
      await close();
    }
  })();
  return { batches, close };
}
