import { InputUnreadableError, RawRecord, ReaderBatch } from './record.types';

function normalize(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(normalize);
  if (typeof v === 'object')
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, normalize(x)]));
  return v;
}

/**
 * Parquet with hyparquet, one row group at a time (memory bounded by the largest row group).
 * int64 become decimal strings, timestamps ISO strings, binary base64.
 */
export async function* readParquet(file: string): AsyncGenerator<ReaderBatch> {
  // hyparquet is ESM-only; Node 20.19+ loads it with require()
  const hp = require('hyparquet');
  yield* readParquetBuffer(() => hp.asyncBufferFromFile(file));
}

/** Random access to bytes (hyparquet's AsyncBuffer): a file, or an object read by ranges. */
export interface AsyncBuffer {
  byteLength: number;
  slice(start: number, end?: number): Promise<ArrayBuffer> | ArrayBuffer;
}

/** Parquet from any random-access bytes (an object in S3 read by range requests, never downloaded whole). */
export async function* readParquetBuffer(open: () => Promise<AsyncBuffer>): AsyncGenerator<ReaderBatch> {
  const hp = require('hyparquet');
  let metadata: { row_groups: { num_rows: bigint | number }[] };
  let asyncBuffer: unknown;
  try {
    asyncBuffer = await open();
    metadata = await hp.parquetMetadataAsync(asyncBuffer);
  } catch (e) {
    throw new InputUnreadableError(`not a readable Parquet file: ${(e as Error).message}`);
  }
  let start = 0;
  for (const rg of metadata.row_groups) {
    const n = Number(rg.num_rows);
    const rows = (await hp.parquetReadObjects({
      file: asyncBuffer,
      metadata,
      rowStart: start,
      rowEnd: start + n,
    })) as Record<string, unknown>[];
    start += n;
    yield { records: rows.map((r) => normalize(r) as RawRecord) };
  }
}
