import { to as copyTo } from 'pg-copy-streams';
import { prepareReader, Warehouse } from '@weir/platform';
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

/** EXPORT_READER on the warehouse: COPY … TO STDOUT as the reader, in a read-only transaction. */
export class WarehouseExportReader implements ExportReader {
  constructor(private readonly warehouse: Warehouse) {}

  async partitionValues(schema: string, table: string, partitionBy: string[]): Promise<(string | null)[][]> {
    const out: (string | null)[][] = [];
    for await (const batch of this.copy(
      schema,
      table,
      partitionValuesSql(schema, table, partitionBy),
      partitionBy.length,
    ))
      out.push(...batch);
    return out;
  }

  rows(read: ExportRead): AsyncIterable<(string | null)[][]> {
    const sql = exportRowsSql(read.schema, read.table, read.columns, read.partitionBy, read.only);
    return this.copy(read.schema, read.table, sql, read.partitionBy.length + read.columns.length);
  }

  private async *copy(schema: string, table: string, query: string, n: number): AsyncIterable<(string | null)[][]> {
    const client = await this.warehouse.pool.connect();
    let broken = false;
    try {
      const reader = await prepareReader(client, [{ schema, table }]);
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
            const end = text.lastIndexOf('\n');
            if (end < 0) {
              rest = text;
              continue;
            }
            rest = text.slice(end + 1);
            const lines = text.slice(0, end).split('\n');
            const batch: (string | null)[][] = new Array(lines.length);
            for (let i = 0; i < lines.length; i++) batch[i] = lines[i].split('\t').map(copyField);
            yield batch;
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
      client.release(broken ? new Error('export read stopped mid-COPY') : undefined);
    }
  }
}
