import { Readable } from 'node:stream';
import type { CsvOptions } from '../../domain/source';
import { CsvParser } from './csv.parser';
import { ReaderBatch } from './record.types';

/**
 * Streams CSV records in batches from decoded text (UTF-8 or Latin-1, BOM already removed).
 * The header (first record, unless `header: false`) comes with the first batch; `columns`
 * overrides it. Backpressure is the consumer's pace: the generator reads only when asked.
 */
export async function* readCsv(text: Readable, opts: CsvOptions = {}): AsyncGenerator<ReaderBatch> {
  const parser = new CsvParser({ delimiter: opts.delimiter, quote: opts.quote, escape: opts.escape });
  const wantHeader = opts.header !== false;
  let header: string[] | undefined;
  const emit = (records: ReaderBatch['records']): ReaderBatch | undefined => {
    if (!header) {
      if (wantHeader) {
        if (records.length === 0) return undefined;
        const first = records.shift()!;
        header = Array.isArray(first) ? first : [];
      } else header = [];
      return { header: opts.columns ?? header, records };
    }
    return records.length ? { records } : undefined;
  };
  for await (const chunk of text) {
    const b = emit(parser.push(chunk as string));
    if (b) yield b;
  }
  const b = emit(parser.push('', true));
  if (b) yield b;
  if (!header) yield { header: opts.columns ?? [], records: [] };
}
