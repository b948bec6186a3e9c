import type { SourceFormat, SourceOptions } from '../../domain/source';
import { decodeText, materialize, openBytes } from '../input-file.util';
import { readCsv } from './csv.reader';
import { readJsonArray, readNdjson } from './json.reader';
import { readParquet } from './parquet.reader';
import type { ReaderBatch } from './record.types';
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { gunzipIfGzipped } from '../input-file.util';

/** Opens a file (gzipped or not) as batches of records for its format. */
export async function openRecords(
  file: string,
  format: SourceFormat,
  options: SourceOptions,
): Promise<{ batches: AsyncIterable<ReaderBatch>; bytesRead: () => number; cleanup: () => void }> {
  if (format === 'parquet') {
    const m = await materialize(file);
    const size = fs.statSync(file).size;
    let done = false;
    const batches = (async function* () {
      yield* readParquet(m.file);
      done = true;
    })();
    return { batches, bytesRead: () => (done ? size : 0), cleanup: m.cleanup };
  }
  const { stream, bytesRead } = openBytes(file);
  const text = decodeText(stream, format === 'csv' ? (options.csv?.encoding ?? 'utf8') : 'utf8');
  const cleanup = () => {
    stream.destroy();
    text.destroy();
  };
  switch (format) {
    case 'csv':
      return { batches: readCsv(text, options.csv), bytesRead, cleanup };
    case 'ndjson':
      return { batches: readNdjson(text), bytesRead, cleanup };
    case 'json':
      return { batches: readJsonArray(text, options.jsonPath), bytesRead, cleanup };
  }
}

/**
 * A text format (csv, ndjson, json) from a byte stream (an object store's body: gunzipped when its
 * bytes are gzip), parsed as it arrives: never downloaded whole first.
 */
export function openRecordStream(
  bytes: Readable,
  format: Exclude<SourceFormat, 'parquet'>,
  options: SourceOptions,
): { batches: AsyncIterable<ReaderBatch>; cleanup: () => void } {
  const plain = gunzipIfGzipped(bytes);
  const text = decodeText(plain, format === 'csv' ? (options.csv?.encoding ?? 'utf8') : 'utf8');
  const cleanup = () => {
    bytes.destroy();
    plain.destroy();
    text.destroy();
  };
  const batches =
    format === 'csv'
      ? readCsv(text, options.csv)
      : format === 'ndjson'
        ? readNdjson(text)
        : readJsonArray(text, options.jsonPath);
  return { batches, cleanup };
}
