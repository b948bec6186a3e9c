import * as os from 'node:os';
import type { ExportColumn } from '../domain/lake-export';
import { unscaledDecimal } from '../domain/lake-export';
import type { SchemaElement } from './parquet-file.writer';

/**
 * The buffers of one column of a row group being written. Fixed-width integer columns (INT32:
 * integer, date, decimal up to 9 digits; INT64: bigint, timestamps, decimal up to 18 digits) are
 * kept in typed arrays and written here as PLAIN data pages (v2, definition levels RLE-encoded,
 * min/max/null-count statistics): their values are the page bytes, with no per-value objects. Every
 * other column goes through hyparquet-writer's writeColumn (dictionary, strings, UUID, wide decimals).
 */

/** hyparquet-writer's byte sink, as its encoders use it. */
export interface Writer {
  offset: number;
  appendBytes(b: Uint8Array): void;
}
interface ByteWriterLike extends Writer {
  getBytes(): Uint8Array;
}
type Compressor = (input: Uint8Array) => Uint8Array;

// hyparquet-writer is ESM-only; its package exports ./src/*.js (Node 20.19+ loads them with require())
const hwColumn = require('hyparquet-writer/src/column.js') as {
  writeColumn(o: { writer: Writer; column: unknown; pageData: unknown }): ColumnResult;
};
const hwPage = require('hyparquet-writer/src/datapage.js') as {
  writePageHeader(w: Writer, header: Record<string, unknown>): void;
};
const hwEncoding = require('hyparquet-writer/src/encoding.js') as {
  writeRleBitPackedHybrid(w: Writer, values: ArrayLike<number>, bitWidth: number): number;
};
const hwBytes = require('hyparquet-writer/src/bytewriter.js') as { ByteWriter: new (size?: number) => ByteWriterLike };

/** A column chunk as hyparquet-writer's ParquetWriter keeps it (for the footer and page indexes). */
export interface ColumnResult {
  chunk: { meta_data?: { total_uncompressed_size?: bigint } } & Record<string, unknown>;
  columnIndex?: unknown;
  offsetIndex?: unknown;
}

export interface ColumnContext {
  element: SchemaElement;
  schemaPath: SchemaElement[];
  codec: string;
  compressors: Record<string, Compressor | undefined>;
}

export interface ColumnBuffer {
  /** Appends a value (text as the reader gives it; null for NULL). */
  push(v: string | null): void;
  /** Writes the buffered rows as a column chunk and empties the buffer. */
  write(writer: Writer, ctx: ColumnContext): ColumnResult;
}

/** Values per data page of the fast columns: about hyparquet-writer's 1 MB pages. */
const PAGE_BYTES = 1 << 20;
const LITTLE_ENDIAN = os.endianness() === 'LE';

/** The unscaled value of a numeric(p,s) text: PostgreSQL writes exactly s decimals (else the general parse). */
export function unscaledDecimalText(v: string, scale: number): string | bigint {
  const dot = v.indexOf('.');
  if (scale > 0 && dot >= 0 && v.length - dot - 1 === scale) return v.slice(0, dot) + v.slice(dot + 1);
  if (scale === 0 && dot < 0 && v !== 'NaN') return v;
  return unscaledDecimal(v, scale);
}

abstract class FixedWidthColumn implements ColumnBuffer {
  protected defs: Uint8Array;
  protected n = 0;
  protected nn = 0;

  constructor(
    capacity: number,
    private readonly width: number,
  ) {
    this.defs = new Uint8Array(capacity);
  }

  protected abstract bytes(from: number, count: number): Uint8Array;
  protected abstract put(v: string): void;
  protected abstract stats(): { min_value?: unknown; max_value?: unknown };
  protected abstract grow(capacity: number): void;

  push(v: string | null): void {
    if (this.n === this.defs.length) {
      const defs = new Uint8Array(this.defs.length * 2 || 1024);
      defs.set(this.defs);
      this.defs = defs;
      this.grow(defs.length);
    }
    if (v === null) this.defs[this.n++] = 0;
    else {
      this.defs[this.n++] = 1;
      this.put(v);
      this.nn++;
    }
  }

  write(writer: Writer, ctx: ColumnContext): ColumnResult {
    const { element, codec, compressors } = ctx;
    const perPage = Math.max(1, Math.floor(PAGE_BYTES / this.width));
    const compress = compressors[codec];
    const offsetStart = writer.offset;
    let uncompressed = 0;
    let pages = 0;
    let vi = 0;
    for (let r0 = 0; r0 < this.n; r0 += perPage) {
      const r1 = Math.min(this.n, r0 + perPage);
      const levels = new hwBytes.ByteWriter(64);
      const defs = this.defs.subarray(r0, r1);
      let present = 0;
      for (let r = 0; r < defs.length; r++) present += defs[r];
      const defLength = hwEncoding.writeRleBitPackedHybrid(levels, defs, 1);
      const plain = this.bytes(vi, present);
      vi += present;
      const data = compress ? compress(plain) : plain;
      const headerStart = writer.offset;
      hwPage.writePageHeader(writer, {
        type: 'DATA_PAGE_V2',
        uncompressed_page_size: levels.offset + plain.length,
        compressed_page_size: levels.offset + data.length,
        data_page_header_v2: {
          num_values: r1 - r0,
          num_nulls: r1 - r0 - present,
          num_rows: r1 - r0,
          encoding: 'PLAIN',
          definition_levels_byte_length: defLength,
          repetition_levels_byte_length: 0,
          is_compressed: true,
        },
      });
      uncompressed += writer.offset - headerStart + levels.offset + plain.length;
      writer.appendBytes(levels.getBytes());
      writer.appendBytes(data);
      pages++;
    }
    const { min_value, max_value } = this.stats();
    const chunk = {
      meta_data: {
        type: element.type,
        encodings: ['PLAIN'],
        path_in_schema: ctx.schemaPath.slice(1).map((s) => s.name),
        codec,
        num_values: BigInt(this.n),
        total_compressed_size: BigInt(writer.offset - offsetStart),
        total_uncompressed_size: BigInt(uncompressed),
        data_page_offset: BigInt(offsetStart),
        statistics: { min_value, max_value, null_count: BigInt(this.n - this.nn) },
        encoding_stats: [{ page_type: 'DATA_PAGE_V2', encoding: 'PLAIN', count: pages }],
      },
      file_offset: BigInt(offsetStart),
    };
    this.n = 0;
    this.nn = 0;
    return { chunk };
  }
}

/** INT32: integer, date (days), decimal(p ≤ 9, s) (unscaled). */
class Int32Column extends FixedWidthColumn {
  private vals: Int32Array;
  constructor(
    capacity: number,
    private readonly parse: (v: string) => number,
    private readonly decimal: boolean,
  ) {
    super(capacity, 4);
    this.vals = new Int32Array(capacity);
  }
  protected grow(capacity: number): void {
    const vals = new Int32Array(capacity);
    vals.set(this.vals);
    this.vals = vals;
  }
  protected put(v: string): void {
    const x = this.parse(v);
    if (!Number.isInteger(x) || x < -2147483648 || x > 2147483647) throw new RangeError(`not a 32-bit integer: ${v}`);
    this.vals[this.nn] = x;
  }
  protected bytes(from: number, count: number): Uint8Array {
    return new Uint8Array(this.vals.buffer, from * 4, count * 4);
  }
  protected stats() {
    if (!this.nn) return {};
    let min = this.vals[0];
    let max = min;
    for (let i = 1; i < this.nn; i++) {
      const x = this.vals[i];
      if (x < min) min = x;
      else if (x > max) max = x;
    }
    return this.decimal ? { min_value: BigInt(min), max_value: BigInt(max) } : { min_value: min, max_value: max };
  }
}

/** INT64: bigint, timestamps (µs), decimal(p ≤ 18, s) (unscaled). */
class Int64Column extends FixedWidthColumn {
  private vals: BigInt64Array;
  constructor(
    capacity: number,
    private readonly digits: (v: string) => string | bigint,
  ) {
    super(capacity, 8);
    this.vals = new BigInt64Array(capacity);
  }
  protected grow(capacity: number): void {
    const vals = new BigInt64Array(capacity);
    vals.set(this.vals);
    this.vals = vals;
  }
  protected put(v: string): void {
    const d = this.digits(v);
    // up to 15 digits are exact as a double, which BigInt takes faster than a string
    // (PostgreSQL's bigint, timestamps in µs and numeric(18) all fit in 64 bits)
    this.vals[this.nn] = typeof d === 'bigint' ? d : d.length <= 15 ? BigInt(Number(d)) : BigInt(d);
  }
  protected bytes(from: number, count: number): Uint8Array {
    return new Uint8Array(this.vals.buffer, from * 8, count * 8);
  }
  protected stats() {
    if (!this.nn) return {};
    let min = this.vals[0];
    let max = min;
    for (let i = 1; i < this.nn; i++) {
      const x = this.vals[i];
      if (x < min) min = x;
      else if (x > max) max = x;
    }
    return { min_value: min, max_value: max };
  }
}

/** Any other column: JS values, written by hyparquet-writer's writeColumn. */
class ValuesColumn implements ColumnBuffer {
  private values: unknown[] = [];
  constructor(private readonly convert: (v: string) => unknown) {}
  push(v: string | null): void {
    this.values.push(v === null ? null : this.convert(v));
  }
  write(writer: Writer, ctx: ColumnContext): ColumnResult {
    const values = this.values;
    this.values = [];
    const definitionLevels = new Array<number>(values.length);
    for (let i = 0; i < values.length; i++) definitionLevels[i] = values[i] === null ? 0 : 1;
    return hwColumn.writeColumn({
      writer,
      column: {
        columnName: ctx.element.name,
        element: ctx.element,
        schemaPath: ctx.schemaPath,
        codec: ctx.codec,
        compressors: ctx.compressors,
        stats: true,
        pageSize: PAGE_BYTES,
        columnIndex: false,
        offsetIndex: true,
      },
      pageData: { values, definitionLevels, repetitionLevels: [], maxDefinitionLevel: 1 },
    });
  }
}

/** The buffer of a column (rows of a row group; `capacity` a first size). */
export function columnBuffer(c: ExportColumn, capacity: number): ColumnBuffer {
  const cap = Math.min(capacity, 1 << 16);
  if (LITTLE_ENDIAN)
    switch (c.kind) {
      case 'int32':
      case 'date':
        return new Int32Column(cap, Number, false);
      case 'int64':
      case 'timestamp':
      case 'timestamptz':
        return new Int64Column(cap, (v) => v);
      case 'decimal': {
        const scale = c.scale ?? 0;
        if ((c.precision as number) <= 9)
          return new Int32Column(cap, (v) => Number(unscaledDecimalText(v, scale)), true);
        if ((c.precision as number) <= 18) return new Int64Column(cap, (v) => unscaledDecimalText(v, scale));
      }
    }
  switch (c.kind) {
    case 'int32':
    case 'date':
      return new ValuesColumn(Number);
    case 'int64':
    case 'timestamp':
    case 'timestamptz':
      return new ValuesColumn((v) => BigInt(v));
    case 'boolean':
      return new ValuesColumn((v) => v === 'true' || v === 't');
    case 'decimal': {
      const scale = c.scale ?? 0;
      return new ValuesColumn((v) => {
        const d = unscaledDecimalText(v, scale);
        return typeof d === 'bigint' ? d : BigInt(d);
      });
    }
    default:
      return new ValuesColumn((v) => v);
  }
}
