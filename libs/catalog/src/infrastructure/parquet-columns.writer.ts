import * as os from 'node:os';
import type { ExportColumn } from '../domain/lake-export';
import { unscaledDecimal } from '../domain/lake-export';
import type { SchemaElement } from './parquet-file.writer';

/**
 * The buffers of one column of a row group being written. Fixed-width integer columns (INT32:
 * integer, date, decimal up to 9 digits; INT64: bigint, timestamps, decimal up to 18 digits) are
 * kept in typed arrays and written here as PLAIN data pages (v2, definition levels RLE-encoded,
 * min/max/null-count statistics): their values are the page bytes, with no per-value objects. Text
 * columns (strings, jsonb) get a dictionary while their distinct values stay few, else PLAIN byte
 * arrays. The rest (boolean, UUID, wide decimals) goes through hyparquet-writer's writeColumn.
 */

/** hyparquet-writer's byte sink, as its encoders use it. */
export interface Writer {
  offset: number;
  appendBytes(b: Uint8Array): void;
}
interface ByteWriterLike extends Writer {
  appendUint8(b: number): void;
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
  /** The same bytes as 32-bit halves (little-endian: low, high), written without a BigInt. */
  private halves: Int32Array;
  private min = Infinity;
  private max = -Infinity;
  /** Whether a value went in as a BigInt (more than 15 digits): statistics then scan the values. */
  private wide = false;
  constructor(
    capacity: number,
    private readonly digits: (v: string) => string | bigint,
  ) {
    super(capacity, 8);
    this.vals = new BigInt64Array(capacity);
    this.halves = new Int32Array(this.vals.buffer);
  }
  protected grow(capacity: number): void {
    const vals = new BigInt64Array(capacity);
    vals.set(this.vals);
    this.vals = vals;
    this.halves = new Int32Array(vals.buffer);
  }
  protected put(v: string): void {
    const d = this.digits(v);
    if (typeof d === 'string' && d.length <= 15) {
      // up to 15 digits are exact as a double: its 64-bit two's complement as two 32-bit halves
      const x = Number(d);
      const hi = Math.floor(x / 4294967296);
      this.halves[2 * this.nn] = x - hi * 4294967296; // stored modulo 2^32: the low word's bits
      this.halves[2 * this.nn + 1] = hi;
      if (x < this.min) this.min = x;
      if (x > this.max) this.max = x;
    } else {
      // (PostgreSQL's bigint, timestamps in µs and numeric(18) all fit in 64 bits)
      this.vals[this.nn] = typeof d === 'bigint' ? d : BigInt(d);
      this.wide = true;
    }
  }
  protected bytes(from: number, count: number): Uint8Array {
    return new Uint8Array(this.vals.buffer, from * 8, count * 8);
  }
  protected stats() {
    const narrow = { min: this.min, max: this.max, wide: this.wide };
    this.min = Infinity;
    this.max = -Infinity;
    this.wide = false;
    if (!this.nn) return {};
    if (!narrow.wide) return { min_value: BigInt(narrow.min), max_value: BigInt(narrow.max) };
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

/** UTF-8 byte order (code point order) of two strings, as Parquet orders BYTE_ARRAY statistics. */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length - b.length;
  const x = a.charCodeAt(i);
  const y = b.charCodeAt(i);
  // UTF-16 order is code point order unless a surrogate meets U+E000..U+FFFF
  if (x < 0xd800 || y < 0xd800 || (x >= 0xe000 && y >= 0xe000)) return x - y;
  const cp = (c: number) => (c >= 0xd800 && c <= 0xdfff ? 0x10000 : c); // a surrogate: past the BMP
  return cp(x) - cp(y) || x - y;
}

/** Text columns (strings, jsonb): a dictionary while distinct values stay few, else PLAIN byte arrays. */
class TextColumn implements ColumnBuffer {
  private defs: Uint8Array;
  private values: string[] = [];
  private n = 0;

  constructor(capacity: number) {
    this.defs = new Uint8Array(capacity);
  }

  push(v: string | null): void {
    if (this.n === this.defs.length) {
      const defs = new Uint8Array(this.defs.length * 2 || 1024);
      defs.set(this.defs);
      this.defs = defs;
    }
    if (v === null) this.defs[this.n++] = 0;
    else {
      this.defs[this.n++] = 1;
      this.values.push(v);
    }
  }

  /** The dictionary and each value's index, or undefined when it would not pay (too many distinct values). */
  private dictionary(): { dict: string[]; bytes: number; idx: Int32Array } | undefined {
    const values = this.values;
    if (!values.length) return undefined;
    const limit = Math.min(values.length >> 1, 1 << 16);
    const map = new Map<string, number>();
    const dict: string[] = [];
    const idx = new Int32Array(values.length);
    let bytes = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      let k = map.get(v);
      if (k === undefined) {
        k = dict.length;
        if (k >= limit) return undefined;
        map.set(v, k);
        dict.push(v);
        bytes += 4 + Buffer.byteLength(v);
        if (bytes > PAGE_BYTES) return undefined;
      }
      idx[i] = k;
    }
    return { dict, bytes, idx };
  }

  write(writer: Writer, ctx: ColumnContext): ColumnResult {
    const { element, codec, compressors } = ctx;
    const compress = compressors[codec];
    const values = this.values;
    const n = this.n;
    const defs = this.defs;
    const offsetStart = writer.offset;
    let uncompressed = 0;
    let pages = 0;
    // min and max in UTF-8 byte order (over the dictionary when there is one)
    const d = this.dictionary();
    let min: string | undefined;
    let max: string | undefined;
    for (const v of d ? d.dict : values) {
      if (min === undefined || compareUtf8(v, min) < 0) min = v;
      if (max === undefined || compareUtf8(v, max) > 0) max = v;
    }
    const page = (type: string, header: Record<string, unknown>, levels: Uint8Array | undefined, plain: Uint8Array) => {
      const data = compress ? compress(plain) : plain;
      const headerStart = writer.offset;
      const lv = levels?.length ?? 0;
      hwPage.writePageHeader(writer, {
        type,
        uncompressed_page_size: lv + plain.length,
        compressed_page_size: lv + data.length,
        ...header,
      });
      uncompressed += writer.offset - headerStart + lv + plain.length;
      if (levels) writer.appendBytes(levels);
      writer.appendBytes(data);
    };
    let dictionaryOffset: bigint | undefined;
    if (d) {
      dictionaryOffset = BigInt(writer.offset);
      page(
        'DICTIONARY_PAGE',
        { dictionary_page_header: { num_values: d.dict.length, encoding: 'PLAIN' } },
        undefined,
        plainBytes(d.dict, 0, d.dict.length, d.bytes),
      );
    }
    const dataOffset = BigInt(writer.offset);
    const bitWidth = d ? Math.max(1, Math.ceil(Math.log2(d.dict.length))) : 0;
    let vi = 0;
    for (let r0 = 0; r0 < n;) {
      // rows of a page: about PAGE_BYTES of values
      let r1 = r0;
      let present = 0;
      let bytes = 0;
      while (r1 < n && bytes < PAGE_BYTES) {
        if (defs[r1]) {
          bytes += d ? 4 : 4 + values[vi + present].length;
          present++;
        }
        r1++;
      }
      const levels = new hwBytes.ByteWriter(64);
      const defLength = hwEncoding.writeRleBitPackedHybrid(levels, defs.subarray(r0, r1), 1);
      let plain: Uint8Array;
      if (d) {
        const w = new hwBytes.ByteWriter(1024);
        w.appendUint8(bitWidth);
        hwEncoding.writeRleBitPackedHybrid(w, d.idx.subarray(vi, vi + present), bitWidth);
        plain = w.getBytes();
      } else plain = plainBytes(values, vi, vi + present);
      vi += present;
      page(
        'DATA_PAGE_V2',
        {
          data_page_header_v2: {
            num_values: r1 - r0,
            num_nulls: r1 - r0 - present,
            num_rows: r1 - r0,
            encoding: d ? 'RLE_DICTIONARY' : 'PLAIN',
            definition_levels_byte_length: defLength,
            repetition_levels_byte_length: 0,
            is_compressed: true,
          },
        },
        levels.getBytes(),
        plain,
      );
      pages++;
      r0 = r1;
    }
    const encoding = d ? 'RLE_DICTIONARY' : 'PLAIN';
    const chunk = {
      meta_data: {
        type: element.type,
        encodings: d ? ['PLAIN', 'RLE_DICTIONARY'] : ['PLAIN'],
        path_in_schema: ctx.schemaPath.slice(1).map((s) => s.name),
        codec,
        num_values: BigInt(n),
        total_compressed_size: BigInt(writer.offset - offsetStart),
        total_uncompressed_size: BigInt(uncompressed),
        data_page_offset: dataOffset,
        dictionary_page_offset: dictionaryOffset,
        statistics: { min_value: min, max_value: max, null_count: BigInt(n - values.length) },
        encoding_stats: [
          ...(d ? [{ page_type: 'DICTIONARY_PAGE', encoding: 'PLAIN', count: 1 }] : []),
          { page_type: 'DATA_PAGE_V2', encoding, count: pages },
        ],
      },
      file_offset: BigInt(offsetStart),
    };
    this.values = [];
    this.n = 0;
    return { chunk };
  }
}

/** PLAIN byte arrays: each value's UTF-8 length (4 bytes, little-endian) then its bytes. */
function plainBytes(values: string[], from: number, to: number, size?: number): Uint8Array {
  let total = size ?? 0;
  if (size === undefined) for (let i = from; i < to; i++) total += 4 + Buffer.byteLength(values[i]);
  const out = Buffer.allocUnsafe(total);
  let o = 0;
  for (let i = from; i < to; i++) {
    const len = out.write(values[i], o + 4);
    out.writeUInt32LE(len, o);
    o += 4 + len;
  }
  return out;
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
    case 'float':
    case 'double':
      return new ValuesColumn(Number); // PostgreSQL's text: digits, NaN, Infinity, -Infinity
    case 'binary':
      return new ValuesColumn((v) => new Uint8Array(Buffer.from(v, 'hex'))); // read as encode(…, 'hex')
    case 'decimal': {
      const scale = c.scale ?? 0;
      return new ValuesColumn((v) => {
        const d = unscaledDecimalText(v, scale);
        return typeof d === 'bigint' ? d : BigInt(d);
      });
    }
    case 'string':
    case 'json':
      return new TextColumn(cap);
    default:
      return new ValuesColumn((v) => v);
  }
}
