import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { inlineParameters, quoteIdent } from '@weir/platform';
import type { QueryConnector } from '../../domain/connector';
import { SourceQueryFailedError, SourceUnreachableError } from '../../ingestion.errors';
import { readCsv } from '../readers/csv.reader';
import type { ReaderBatch } from '../readers/record.types';
import { pgClientConfig, ResolvedConnection, scrub } from './connection.util';
import type { QueryPlan } from './query-plan.util';

/** Rows per batch handed to the engine (the COPY stream itself is read as fast as it is consumed). */
export const DEFAULT_FETCH_SIZE = 10_000;

const BYTEA = 17;

const qualified = (t: string) =>
  t
    .split('.')
    .map((p) => quoteIdent(p))
    .join('.');

/**
 * The SELECT of a plan, and its parameters. `list` is the select list over the source rows
 * (`weir_src`), default every column.
 */
export function postgresSelect(c: QueryConnector, plan: QueryPlan, list = '*'): { sql: string; params: string[] } {
  const inner = c.table
    ? `SELECT ${plan.columns!.map((x) => quoteIdent(x)).join(', ')} FROM ${qualified(c.table)}`
    : c.query!.trim();
  if (!plan.cursor)
    return { sql: c.table && list === '*' ? inner : `SELECT ${list} FROM (${inner}) AS weir_src`, params: [] };
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
    sql: `SELECT ${list} FROM (${inner}) AS weir_src${where} ORDER BY ${cur}${tb ? `, ${tb}` : ''}`,
    params,
  };
}

/**
 * postgres_query: the rows stream out of the source as `COPY (SELECT …) TO STDOUT` (CSV) inside a
 * read-only repeatable-read transaction, into the same CSV reader files go through — the server
 * streams, nothing is buffered whole, and no row is decoded twice (a row cursor costs a protocol
 * message decoded per row in JavaScript: 2.2× psql's own copy; COPY is what psql does). Values are
 * PostgreSQL's text (numeric exact, timestamptz in UTC with its offset, booleans t/f, json, uuid),
 * bytea as base64; NULL is a marker of this read, so an empty string stays an empty string.
 */
export async function openPostgresQuery(
  c: QueryConnector,
  conn: ResolvedConnection,
  plan: QueryPlan,
  signal: AbortSignal,
): Promise<{ batches: AsyncIterable<ReaderBatch>; close: () => Promise<void> }> {
  const client = new Client(pgClientConfig(conn, 'weir-source', 15_000));
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
  let stream: (NodeJS.ReadableStream & { destroy?: (e?: Error) => void }) | undefined;
  let streaming = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    if (streaming) {
      // stopped mid-COPY (cancelled, or the run failed): closing the connection ends the COPY and
      // its transaction on the server (a ROLLBACK would wait behind the COPY)
      stream?.destroy?.();
      await client.end().catch(() => undefined);
      return;
    }
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end().catch(() => undefined);
  };
  const failed = (e: unknown) =>
    new SourceQueryFailedError(
      `The source database ${conn.shown} refused the read: ${scrub((e as Error).message, conn)}`,
    );
  const rowsPerBatch = c.fetchSize ?? DEFAULT_FETCH_SIZE;
  const nullMark = `weir_null_${randomBytes(8).toString('hex')}`;
  let copySql: string;
  try {
    await client.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`);
    await client.query(`SET LOCAL TIME ZONE 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL extra_float_digits = 3`);
    // the result's columns and types (no row read), for the select list: bytea as base64
    const probe = postgresSelect(c, plan);
    const shape = await client.query({
      text: `SELECT * FROM (${probe.sql}) AS weir_shape LIMIT 0`,
      values: probe.params,
    });
    const list = shape.fields
      .map((f) =>
        f.dataTypeID === BYTEA
          ? `encode(weir_src.${quoteIdent(f.name)}, 'base64') AS ${quoteIdent(f.name)}`
          : `weir_src.${quoteIdent(f.name)}`,
      )
      .join(', ');
    const { sql, params } = postgresSelect(c, plan, list || '*');
    copySql = `COPY (${inlineParameters(sql, params)}) TO STDOUT WITH (FORMAT csv, HEADER true, NULL '${nullMark}')`;
  } catch (e) {
    await close();
    throw failed(e);
  }
  const batches = (async function* (): AsyncGenerator<ReaderBatch> {
    try {
      const out = client.query(copyTo(copySql));
      stream = out;
      streaming = true;
      out.setEncoding('utf8'); // pg-copy-streams hands the rows over in chunks of tens of kB
      let pending: ReaderBatch | undefined;
      try {
        for await (const b of readCsv(out as never)) {
          if (signal.aborted) break;
          for (const r of b.records)
            if (Array.isArray(r)) for (let i = 0; i < r.length; i++) if (r[i] === nullMark) (r as unknown[])[i] = null;
          // batches of about rowsPerBatch rows (the CSV reader's follow the stream's chunks)
          if (pending) {
            for (const r of b.records) pending.records.push(r);
            if (b.header) pending.header = b.header;
          } else pending = b;
          if (pending.records.length >= rowsPerBatch) {
            yield pending;
            pending = undefined;
          }
        }
      } catch (e) {
        if (signal.aborted) return;
        throw failed(e);
      }
      if (!signal.aborted) streaming = false; // read to its end
      if (pending && !signal.aborted) yield pending;
    } finally {
      await close();
    }
  })();
  return { batches, close };
}
