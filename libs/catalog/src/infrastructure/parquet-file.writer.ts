import { createHash, Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import type { ExportCodec, ExportColumn } from '../domain/lake-export';
import { unscaledDecimal } from '../domain/lake-export';
import type { ExportedFile, ParquetFileOptions, ParquetFileSink } from '../application/ports/lake-export.port';
import { zstdCompress, zstdProblem } from './zstd.codec';

type Compressor = (input: Uint8Array) => Uint8Array;
type CompressionCodec = 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP' | 'BROTLI' | 'ZSTD';
/** The parts of hyparquet's SchemaElement an export uses. */
export interface SchemaElement {
  name: string;
  type?: 'BOOLEAN' | 'INT32' | 'INT64' | 'BYTE_ARRAY' | 'FIXED_LEN_BYTE_ARRAY';
  type_length?: number;
  repetition_type?: 'OPTIONAL' | 'REQUIRED';
  num_children?: number;
  converted_type?: 'UTF8' | 'DATE' | 'TIMESTAMP_MICROS' | 'DECIMAL';
  precision?: number;
  scale?: number;
  logical_type?: Record<string, unknown> & { type: string };
}
/** hyparquet-writer's byte sink (its Writer). */
interface ByteSink {
  buffer: ArrayBuffer;
  index: number;
  ensure(size: number): void;
  finish(): void;
}
interface PqWriter {
  write(o: { columnData: { name: string; data: unknown[] }[]; rowGroupSize: number }): void | Promise<void>;
  finish(): void | Promise<void>;
}
// hyparquet-writer is ESM-only; Node 20.19+ loads it with require()
const hw = require('hyparquet-writer') as {
  ByteWriter: new (size?: number) => ByteSink;
  ParquetWriter: new (o: Record<string, unknown>) => PqWriter;
};
/** Compressors hyparquet-writer lacks (it has SNAPPY): node:zlib's; zstd's see zstd.codec (loaded before a file opens). */
const COMPRESSORS: Partial<Record<CompressionCodec, Compressor>> = {
  GZIP: (b) => zlib.gzipSync(b),
  BROTLI: (b) => zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } }),
  ZSTD: zstdCompress,
};

const CODEC: Record<ExportCodec, CompressionCodec> = {
  snappy: 'SNAPPY',
  zstd: 'ZSTD',
  gzip: 'GZIP',
  brotli: 'BROTLI',
  none: 'UNCOMPRESSED',
};

/** Why a codec cannot be written here (zstd with neither node:zlib's nor the WebAssembly one), or undefined; loads zstd. */
export async function codecProblem(codec: ExportCodec): Promise<string | undefined> {
  return codec === 'zstd' ? zstdProblem() : undefined;
}

/** Bytes of a FIXED_LEN_BYTE_ARRAY holding any unscaled value of `precision` digits. */
const decimalBytes = (precision: number) => Math.ceil((precision * Math.log2(10) + 1) / 8);

/** The Parquet schema element of a column (every column OPTIONAL). */
export function schemaElement(c: ExportColumn): SchemaElement {
  const base = { name: c.name, repetition_type: 'OPTIONAL' as const };
  switch (c.kind) {
    case 'int32':
      return { ...base, type: 'INT32' };
    case 'int64':
      return { ...base, type: 'INT64' };
    case 'boolean':
      return { ...base, type: 'BOOLEAN' };
    case 'date':
      return { ...base, type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } };
    case 'timestamptz':
      return {
        ...base,
        type: 'INT64',
        converted_type: 'TIMESTAMP_MICROS',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
      };
    case 'timestamp':
      return { ...base, type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' } };
    case 'uuid':
      return { ...base, type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, logical_type: { type: 'UUID' } };
    case 'decimal': {
      const precision = c.precision as number;
      const scale = c.scale ?? 0;
      const dec = {
        converted_type: 'DECIMAL' as const,
        precision,
        scale,
        logical_type: { type: 'DECIMAL' as const, precision, scale },
      };
      if (precision <= 9) return { ...base, type: 'INT32', ...dec };
      if (precision <= 18) return { ...base, type: 'INT64', ...dec };
      return { ...base, type: 'FIXED_LEN_BYTE_ARRAY', type_length: decimalBytes(precision), ...dec };
    }
    default:
      return { ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
  }
}

/** Text (as an ExportReader reads it) to the value hyparquet-writer takes for the column. */
function converter(c: ExportColumn): (v: string) => unknown {
  switch (c.kind) {
    case 'int32':
    case 'date':
      return (v) => Number(v);
    case 'int64':
    case 'timestamp':
    case 'timestamptz':
      return (v) => BigInt(v);
    case 'boolean':
      return (v) => v === 'true' || v === 't';
    case 'decimal': {
      const scale = c.scale ?? 0;
      return (v) => {
        // PostgreSQL writes numeric(p,s) with exactly s decimals: the digits without the point
        const dot = v.indexOf('.');
        if (scale > 0 && dot >= 0 && v.length - dot - 1 === scale) {
          const digits = v.slice(0, dot) + v.slice(dot + 1);
          // up to 15 digits are exact as a double, which BigInt takes faster than a string
          return digits.length <= 15 ? BigInt(Number(digits)) : BigInt(digits);
        }
        return unscaledDecimal(v, scale);
      };
    }
    default:
      return (v) => v;
  }
}

/** A ByteWriter that spills to a file descriptor past 1 MB, hashing what it writes. */
function hashingFileWriter(fd: number): { sink: ByteSink; hash: Hash; bytes: () => number } {
  const sink = new hw.ByteWriter(1 << 20);
  const hash = createHash('sha256');
  let bytes = 0;
  const spill = () => {
    const chunk = new Uint8Array(sink.buffer, 0, sink.index);
    hash.update(chunk);
    let off = 0;
    while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
    bytes += chunk.length;
    sink.index = 0;
  };
  const ensure = sink.ensure.bind(sink);
  sink.ensure = (size: number) => {
    if (sink.index > 1 << 20) spill();
    ensure(size);
  };
  sink.finish = spill;
  return { sink, hash, bytes: () => bytes };
}

/** A ParquetFileWriter, once its codec is ready (zstd's WebAssembly loaded); throws if the codec is unavailable. */
export async function openParquetFile(
  file: string,
  relPath: string,
  o: ParquetFileOptions,
): Promise<ParquetFileWriter> {
  const problem = await codecProblem(o.compression);
  if (problem) throw new Error(problem);
  return new ParquetFileWriter(file, relPath, o);
}

/** Writes one Parquet file at `file` (local), a row group per `rowGroupSize` rows (see openParquetFile). */
export class ParquetFileWriter implements ParquetFileSink {
  private readonly fd: number;
  private readonly out: ReturnType<typeof hashingFileWriter>;
  private readonly pw: PqWriter;
  private readonly convert: ((v: string) => unknown)[];
  private cols: unknown[][];
  private n = 0;
  private rows = 0;

  constructor(
    private readonly file: string,
    private readonly relPath: string,
    private readonly o: ParquetFileOptions,
  ) {
    this.fd = fs.openSync(file, 'w');
    this.out = hashingFileWriter(this.fd);
    this.pw = new hw.ParquetWriter({
      writer: this.out.sink,
      schema: [{ name: 'root', num_children: o.columns.length }, ...o.columns.map(schemaElement)],
      codec: CODEC[o.compression],
      compressors: COMPRESSORS,
      kvMetadata: Object.entries(o.kv).map(([key, value]) => ({ key, value })),
      createdBy: 'weir (hyparquet-writer)',
    });
    this.convert = o.columns.map(converter);
    this.cols = o.columns.map(() => []);
  }

  async append(rows: (string | null)[][], from: number, to: number, skip: number): Promise<void> {
    while (from < to) {
      // up to the end of the row group, a column at a time
      const end = Math.min(to, from + this.o.rowGroupSize - this.n);
      for (let i = 0; i < this.convert.length; i++) {
        const col = this.cols[i];
        const convert = this.convert[i];
        const f = skip + i;
        for (let r = from; r < end; r++) {
          const v = rows[r][f];
          col.push(v === null ? null : convert(v));
        }
      }
      this.n += end - from;
      from = end;
      if (this.n >= this.o.rowGroupSize) await this.flushGroup();
    }
  }

  private async flushGroup(): Promise<void> {
    if (this.n === 0) return;
    const columnData = this.o.columns.map((c, i) => ({ name: c.name, data: this.cols[i] }));
    await this.pw.write({ columnData, rowGroupSize: this.n });
    this.rows += this.n;
    this.n = 0;
    this.cols = this.o.columns.map(() => []);
  }

  async close(): Promise<ExportedFile> {
    try {
      await this.flushGroup();
      await this.pw.finish();
    } finally {
      fs.closeSync(this.fd);
    }
    return { path: this.relPath, rows: this.rows, bytes: this.out.bytes(), sha256: this.out.hash.digest('hex') };
  }

  /** The local file (a staging file for an S3 target). */
  get path(): string {
    return this.file;
  }
}
