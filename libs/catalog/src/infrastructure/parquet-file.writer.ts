import { createHash, Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import type { ExportCodec, ExportColumn } from '../domain/lake-export';
import type { ExportedFile, ParquetFileOptions, ParquetFileSink } from '../application/ports/lake-export.port';
import { zstdCompress, zstdProblem } from './zstd-codec.util';
import { columnBuffer, ColumnBuffer, ColumnResult, Writer } from './parquet-columns.writer';

type Compressor = (input: Uint8Array) => Uint8Array;
type CompressionCodec = 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP' | 'BROTLI' | 'ZSTD';
/** The parts of hyparquet's SchemaElement an export uses. */
export interface SchemaElement {
  name: string;
  type?: 'BOOLEAN' | 'INT32' | 'INT64' | 'FLOAT' | 'DOUBLE' | 'BYTE_ARRAY' | 'FIXED_LEN_BYTE_ARRAY';
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
/** hyparquet-writer's ParquetWriter: the header, the footer, and the row groups written (see flushGroup). */
interface PqWriter {
  writer: Writer;
  compressors: Record<string, Compressor | undefined>;
  row_groups: Record<string, unknown>[];
  num_rows: bigint;
  pendingIndexes: ColumnResult[];
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
    case 'float':
      return { ...base, type: 'FLOAT' };
    case 'double':
      return { ...base, type: 'DOUBLE' };
    case 'binary':
      return { ...base, type: 'BYTE_ARRAY' };
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
  private readonly buffers: ColumnBuffer[];
  private readonly schema: SchemaElement[];
  private n = 0;
  private rows = 0;

  constructor(
    private readonly file: string,
    private readonly relPath: string,
    private readonly o: ParquetFileOptions,
  ) {
    this.fd = fs.openSync(file, 'w');
    this.out = hashingFileWriter(this.fd);
    this.schema = [{ name: 'root', num_children: o.columns.length }, ...o.columns.map(schemaElement)];
    this.pw = new hw.ParquetWriter({
      writer: this.out.sink,
      schema: this.schema,
      codec: CODEC[o.compression],
      compressors: COMPRESSORS,
      kvMetadata: Object.entries(o.kv).map(([key, value]) => ({ key, value })),
      createdBy: 'weir (hyparquet-writer)',
    });
    this.buffers = o.columns.map((c) => columnBuffer(c, o.rowGroupSize));
  }

  async append(rows: (string | null)[][], from: number, to: number, skip: number): Promise<void> {
    while (from < to) {
      // up to the end of the row group, a column at a time
      const end = Math.min(to, from + this.o.rowGroupSize - this.n);
      for (let i = 0; i < this.buffers.length; i++) {
        const b = this.buffers[i];
        const f = skip + i;
        for (let r = from; r < end; r++) b.push(rows[r][f]);
      }
      this.n += end - from;
      from = end;
      if (this.n >= this.o.rowGroupSize) this.flushGroup();
    }
  }

  /** Writes the buffered rows as a row group (as hyparquet-writer's ParquetWriter.write would, with its footer). */
  private flushGroup(): void {
    if (this.n === 0) return;
    const writer = this.pw.writer;
    const start = writer.offset;
    const codec = CODEC[this.o.compression];
    const columns = this.buffers.map((b, i) => {
      const element = this.schema[i + 1];
      const r = b.write(writer, {
        element,
        schemaPath: [this.schema[0], element],
        codec,
        compressors: this.pw.compressors,
      });
      this.pw.pendingIndexes.push(r);
      return r.chunk;
    });
    let total = 0n;
    for (const c of columns) total += c.meta_data?.total_uncompressed_size ?? 0n;
    this.pw.num_rows += BigInt(this.n);
    this.pw.row_groups.push({
      columns,
      total_byte_size: total,
      num_rows: BigInt(this.n),
      total_compressed_size: BigInt(writer.offset - start),
    });
    this.rows += this.n;
    this.n = 0;
  }

  async close(): Promise<ExportedFile> {
    try {
      this.flushGroup();
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
