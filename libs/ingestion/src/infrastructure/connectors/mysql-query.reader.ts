import type { QueryConnector } from '../../domain/connector';
import { SourceQueryFailedError, SourceUnreachableError } from '../../ingestion.errors';
import type { RawRecord, ReaderBatch, Unparseable } from '../readers/record.types';
import { ResolvedConnection, scrub } from './connection.util';
import { DEFAULT_FETCH_SIZE } from './postgres-query.reader';
import type { QueryPlan } from './query-plan.util';

const tick = (s: string) => '`' + s.replace(/`/g, '``') + '`';
const qualified = (t: string) => t.split('.').map(tick).join('.');

/** The SELECT of a plan, and its parameters (MySQL / MariaDB). */
export function mysqlSelect(c: QueryConnector, plan: QueryPlan): { sql: string; params: string[] } {
  const inner = c.table ? `SELECT ${plan.columns!.map(tick).join(', ')} FROM ${qualified(c.table)}` : c.query!.trim();
  if (!plan.cursor) return { sql: c.table ? inner : `SELECT * FROM (${inner}) AS weir_src`, params: [] };
  const cur = `weir_src.${tick(plan.cursor)}`;
  const tb = plan.tieBreaker ? `weir_src.${tick(plan.tieBreaker)}` : undefined;
  const params: string[] = [];
  let where = '';
  if (plan.bound !== undefined) {
    params.push(plan.bound);
    where = `${cur} > ?`;
    if (tb && plan.tieCursor !== undefined) {
      params.push(plan.tieCursor, plan.tieValue!);
      where = `(${where} OR (${cur} = ? AND ${tb} > ?))`;
    }
    where = ` WHERE ${where}`;
  }
  return { sql: `SELECT * FROM (${inner}) AS weir_src${where} ORDER BY ${cur}${tb ? `, ${tb}` : ''}`, params };
}

/** A MySQL zero date (`0000-00-00`, `2024-00-10`…): no date has it, so its record is dead-lettered. */
class ZeroDate {
  constructor(readonly text: string) {}
}
const isZeroDate = (s: string) => /^0000-|^\d{4}-00-|^\d{4}-\d{2}-00/.test(s);

interface Field {
  type: string;
  length: number;
  name: string;
  buffer(): Buffer | null;
}
/**
 * Values as the contract validates them: decimals and bigints exact (strings), dates and
 * datetimes as text (TIMESTAMP in UTC: the session's zone), `tinyint(1)` as true/false, JSON as
 * its text, binary strings and blobs as base64; a zero date is marked (its record dead-lettered).
 */
function typeCast(field: Field, next: () => unknown): unknown {
  switch (field.type) {
    case 'TINY':
      if (field.length === 1) {
        const v = next() as number | null;
        return v === null ? null : v !== 0 ? 'true' : 'false';
      }
      return next();
    case 'DATE':
    case 'DATETIME':
    case 'TIMESTAMP':
    case 'NEWDATE': {
      const v = next() as string | null;
      return v !== null && isZeroDate(v) ? new ZeroDate(v) : v;
    }
    case 'BLOB':
    case 'TINY_BLOB':
    case 'MEDIUM_BLOB':
    case 'LONG_BLOB':
    case 'STRING':
    case 'VAR_STRING':
    case 'BIT': {
      const v = next();
      return Buffer.isBuffer(v) ? v.toString('base64') : v;
    }
    default:
      return next();
  }
}

/**
 * mysql_query: one streaming query (rows as they come, the connection paused while the engine
 * is behind) in a read-only consistent snapshot; batches of `fetchSize` rows with the result's
 * column names as their header.
 */
export async function openMysqlQuery(
  c: QueryConnector,
  conn: ResolvedConnection,
  plan: QueryPlan,
  signal: AbortSignal,
): Promise<{ batches: AsyncIterable<ReaderBatch>; close: () => Promise<void> }> {
  const mysql = require('mysql2') as typeof import('mysql2');
  const connection = mysql.createConnection({
    ...(conn.url
      ? { uri: conn.url }
      : { host: conn.host, port: conn.port, user: conn.user, password: conn.password, database: conn.database }),
    ssl: conn.ssl === 'require' ? { rejectUnauthorized: false } : conn.ssl === 'verify-full' ? {} : undefined,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    jsonStrings: true,
    decimalNumbers: false,
    connectTimeout: 15_000,
    typeCast: typeCast as never,
  });
  connection.on('error', () => undefined);
  const run = (sql: string) =>
    new Promise<void>((resolve, reject) => connection.query(sql, (e) => (e ? reject(e) : resolve())));
  try {
    await new Promise<void>((resolve, reject) => connection.connect((e) => (e ? reject(e) : resolve())));
  } catch (e) {
    connection.destroy();
    throw new SourceUnreachableError(
      `Cannot connect to the source database ${conn.shown}: ${scrub((e as Error).message, conn)}`,
    );
  }
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    connection.destroy();
  };
  const failed = (e: unknown) =>
    new SourceQueryFailedError(
      `The source database ${conn.shown} refused the read: ${scrub((e as Error).message, conn)}`,
    );
  try {
    await run(`SET time_zone = '+00:00'`);
    await run(`START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY`);
  } catch (e) {
    await close();
    throw failed(e);
  }
  const { sql, params } = mysqlSelect(c, plan);
  const fetchSize = c.fetchSize ?? DEFAULT_FETCH_SIZE;
  const batches = (async function* (): AsyncGenerator<ReaderBatch> {
    const query = connection.query({ sql, values: params, rowsAsArray: true });
    const stream = query.stream({ highWaterMark: Math.min(fetchSize, 10_000) });
    let header: string[] | undefined;
    stream.on('fields', (fields: { name: string }[]) => (header ??= fields.map((f) => f.name)));
    const onAbort = () => stream.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    let batch: (RawRecord | Unparseable)[] = [];
    let sentHeader = false;
    const take = (): ReaderBatch => {
      const b: ReaderBatch = sentHeader ? { records: batch } : { header: header ?? [], records: batch };
      sentHeader = true;
      batch = [];
      return b;
    };
    try {
      for await (const row of stream as AsyncIterable<unknown[]>) {
        const zero = row.findIndex((v) => v instanceof ZeroDate);
        if (zero >= 0) {
          const named = Object.fromEntries(
            (header ?? []).map((h, i) => [h, row[i] instanceof ZeroDate ? (row[i] as ZeroDate).text : row[i]]),
          );
          batch.push({
            unparseable: true,
            text: JSON.stringify(named),
            message: `${header?.[zero] ?? `column ${zero + 1}`}: MySQL zero date ${JSON.stringify((row[zero] as ZeroDate).text)} is not a date`,
          });
        } else batch.push(row as string[]);
        if (batch.length >= fetchSize) yield take();
      }
    } catch (e) {
      if (signal.aborted) return;
      throw failed(e);
    } finally {
      signal.removeEventListener('abort', onAbort);
      await close();
    }
    if (!signal.aborted && (batch.length || !sentHeader)) yield take();
  })();
  return { batches, close };
}
