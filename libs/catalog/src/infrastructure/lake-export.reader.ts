import { to as copyTo } from 'pg-copy-streams';
import { asStatementTimeout, prepareReader, qualifiedTable, Warehouse, type WarehouseLease } from '@weir/platform';
import type { ExportRead, ExportReader } from '../application/ports/lake-export.port';
import { BEGIN_READ_ONLY, ROLLBACK } from './dataset-table.sql';
import { copyAsReaderSql, EXPORT_SESSION_SQL, exportRowsSql, partitionValuesSql } from './lake-export.sql';

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** One field of COPY text format: `\N` is NULL; backslash escapes undone. */
export function copyField(f: string): string | null {
  if (f === '\\N') return null;
  if (!f.includes('\\')) return f;
  return f.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_, e: string) =>
    e[0] === 'x'
      ? String.fromCharCode(parseInt(e.slice(1), 16))
      : /^[0-7]/.test(e)
        ? String.fromCharCode(parseInt(e, 8))
        : (ESCAPES[e] ?? e),
  );
}

/**
 * The rows of a chunk of COPY text (complete lines from `start`), `n` fields each, appended to
 * `out`; returns where the unfinished line starts. Fields are sliced between tabs (COPY escapes
 * tabs, newlines and backslashes inside values), unescaped only when they hold a backslash.
 */
export function parseCopyLines(text: string, start: number, n: number, out: (string | null)[][]): number {
  let pos = start;
  for (;;) {
    const eol = text.indexOf('\n', pos);
    if (eol < 0) return pos;
    const row: (string | null)[] = new Array(n);
    let s = pos;
    for (let i = 0; i < n; i++) {
      const end = i === n - 1 ? eol : text.indexOf('\t', s);
      if (end < 0 || end > eol) throw new Error(`COPY row with fewer than ${n} fields: ${text.slice(pos, eol)}`);
      const f = text.slice(s, end);
      row[i] = f.indexOf('\\') < 0 ? f : copyField(f);
      s = end + 1;
    }
    out.push(row);
    pos = eol + 1;
  }
}

/**
 * Whether `schema.table` can be COPYed directly by the service's own connection: an ordinary table
 * (not a view, whose query may call user functions) without row-level security (policies run user
 * expressions) or inheritance children (a child may be a foreign table), which the service may
 * read. Reading such a table runs no user code, so the reader role's function adds nothing but a
 * tuplestore PostgreSQL fills before the first row streams.
 */
export const DIRECT_COPY_SQL = `SELECT c.relkind = 'r' AND NOT c.relrowsecurity
    AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = c.oid)
    AND has_table_privilege(c.oid, 'SELECT') AS ok
  FROM pg_class c WHERE c.oid = to_regclass($1)`;

/**
 * EXPORT_READER on the warehouse: COPY … TO STDOUT in a read-only transaction, as the reader
 * (through `platform.weir_read_rows`) unless the relation is a plain table the service may read
 * (see DIRECT_COPY_SQL).
 */
export class WarehouseExportReader implements ExportReader {
  constructor(private readonly warehouse: Warehouse) {}

  async partitionValues(
    schema: string,
    table: string,
    partitionBy: string[],
    opts: { forRequest?: boolean } = {},
  ): Promise<(string | null)[][]> {
    const out: (string | null)[][] = [];
    for await (const batch of this.copy(
      schema,
      table,
      partitionValuesSql(schema, table, partitionBy),
      partitionBy.length,
      opts.forRequest === true,
    ))
      out.push(...batch);
    return out;
  }

  rows(read: ExportRead): AsyncIterable<(string | null)[][]> {
    const sql = exportRowsSql(read.schema, read.table, read.columns, read.partitionBy, read.only);
    return this.copy(
      read.schema,
      read.table,
      sql,
      read.partitionBy.length + read.columns.length,
      read.forRequest === true,
    );
  }

  private async *copy(
    schema: string,
    table: string,
    query: string,
    n: number,
    forRequest: boolean,
  ): AsyncIterable<(string | null)[][]> {
    const ms = forRequest ? this.warehouse.requestTimeoutMs : undefined;
    try {
      yield* this.copyOn(await this.warehouse.lease(ms), schema, table, query, n);
    } catch (e) {
      throw ms === undefined ? e : asStatementTimeout(e, ms);
    }
  }

  private async *copyOn(
    lease: WarehouseLease,
    schema: string,
    table: string,
    query: string,
    n: number,
  ): AsyncIterable<(string | null)[][]> {
    const client = lease.client;
    let broken = false;
    try {
      const direct =
        (await client.query<{ ok: boolean }>(DIRECT_COPY_SQL, [qualifiedTable(schema, table)])).rows[0]?.ok === true;
      const reader = !direct && (await prepareReader(client, [{ schema, table }]));
      const fn =
        reader &&
        (
          await client.query<{ ok: boolean }>(
            `SELECT to_regprocedure('platform.weir_read_rows(text)') IS NOT NULL
              AND has_function_privilege(to_regprocedure('platform.weir_read_rows(text)'), 'EXECUTE') AS ok`,
          )
        ).rows[0].ok;
      await client.query(BEGIN_READ_ONLY);
      try {
        for (const s of EXPORT_SESSION_SQL) await client.query(s);
        const stream = client.query(copyTo(copyAsReaderSql(query, n, fn === true)));
        stream.setEncoding('utf8');
        let rest = '';
        try {
          for await (const chunk of stream as AsyncIterable<string>) {
            const text = rest + chunk;
            const batch: (string | null)[][] = [];
            rest = text.slice(parseCopyLines(text, 0, n, batch));
            if (batch.length) yield batch;
          }
        } catch (e) {
          broken = true;
          throw e;
        } finally {
          // stopped mid-COPY (the consumer failed): the connection cannot be reused
          if (!stream.readableEnded) broken = true;
        }
      } finally {
        if (!broken) await client.query(ROLLBACK).catch(() => undefined);
      }
    } finally {
      await lease.release(broken ? new Error('export read stopped mid-COPY') : undefined);
    }
  }
}
