import Papa from 'papaparse';
import { Readable } from 'node:stream';
import type { CsvOptions } from '../../domain/source';
import { ReaderBatch, Unparseable } from './record';

/**
 * Streams CSV (RFC 4180: quoted fields, embedded delimiters, quotes and newlines, CRLF or LF)
 * with papaparse, in batches, pausing the parser while the consumer is busy (backpressure).
 * `text` must already be decoded (UTF-8 or Latin-1) with any BOM removed. Blank lines are not records.
 */
export async function* readCsv(text: Readable, opts: CsvOptions = {}): AsyncGenerator<ReaderBatch> {
  const queue: ReaderBatch[] = [];
  let done = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let parser: Papa.Parser | undefined;
  let header: string[] | undefined;
  const wantHeader = opts.header !== false;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  (Papa.parse as (input: unknown, config: unknown) => void)(text, {
    delimiter: opts.delimiter ?? ',',
    quoteChar: opts.quote ?? '"',
    escapeChar: opts.escape ?? opts.quote ?? '"',
    header: false,
    skipEmptyLines: true,
    dynamicTyping: false,
    chunk(results: Papa.ParseResult<string[]>, p: Papa.Parser) {
      parser = p;
      let rows: (string[] | Unparseable)[] = results.data;
      if (results.errors.length > 0) {
        const bad = new Map<number, string>();
        for (const e of results.errors) if (typeof e.row === 'number') bad.set(e.row, `${e.code}: ${e.message}`);
        rows = results.data.map((r, i) => (bad.has(i) ? { unparseable: true, text: JSON.stringify(r), message: bad.get(i)! } : r));
      }
      const batch: ReaderBatch = { records: rows as (string[] | Unparseable)[] };
      if (!header) {
        if (wantHeader) {
          const first = rows.shift();
          header = !first || !Array.isArray(first) ? [] : first;
        } else header = opts.columns ?? [];
        batch.header = opts.columns ?? header;
        batch.records = rows as (string[] | Unparseable)[];
      }
      queue.push(batch);
      p.pause();
      notify();
    },
    complete() {
      done = true;
      notify();
    },
    error(err: Error) {
      failure = err;
      done = true;
      notify();
    },
  });

  while (true) {
    if (queue.length > 0) {
      yield queue.shift()!;
      continue;
    }
    if (failure) throw failure;
    if (done) break;
    const waiting = new Promise<void>((r) => (wake = r));
    parser?.resume();
    await waiting;
  }
  if (!header) yield { header: opts.columns ?? [], records: [] };
}
