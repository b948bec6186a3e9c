import { compilePattern } from './pattern';
import { ColumnContract, DatasetContract, parseType, ParsedType } from './contract';
import { Violation } from './reason-codes';
import * as C from './coercers';
import { TEXT_SPECIAL } from './coercers';

/** How a source feeds one contract column. */
export interface ColumnMapping {
  /** Source field name (default: the column name). */
  from?: string;
  /** Used when the source value is missing or null. */
  default?: string | null;
  /** Strip surrounding whitespace (default: true for every type but text). */
  trim?: boolean;
  /** Date/time layout of the source, e.g. `DD/MM/YYYY` or `MM/DD/YYYY HH:mm:ss` (tokens YYYY MM DD HH mm ss SSS). */
  format?: string;
  /** Number layout: decimal separator (default `.`). */
  decimalSeparator?: string;
  /** Number layout: thousands separator to remove (e.g. `,` or ` `). */
  thousandsSeparator?: string;
}

export interface CompileOptions {
  mapping?: Record<string, ColumnMapping>;
  /** Source values read as NULL (default: the empty string). */
  nullValues?: string[];
}

/** A contract compiled once into plain functions for the row loop. */
export interface CompiledContract {
  /** Target columns, in COPY order. */
  columns: string[];
  /** Source field each column reads (after mapping). */
  sourceFields: string[];
  /** Which columns are PII (masked when shown). */
  pii: boolean[];
  /**
   * Validates and coerces one record whose values are aligned with `columns` (use {@link pick}
   * to align a source row). Returns the COPY text-format fields joined by tabs (no newline),
   * or the first {@link Violation}.
   */
  encode(values: ArrayLike<unknown>): string | Violation;
}

const TOKEN_RE = /YYYY|MM|DD|HH|mm|ss|S{1,9}/g;

/** Turns a layout like `DD/MM/YYYY HH:mm` into a function producing ISO text, or undefined. */
function layoutParser(format: string): (s: string) => string | undefined {
  const order: string[] = [];
  const re = new RegExp(
    '^' +
      format
        .split(TOKEN_RE)
        .map((lit) => lit.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .reduce((acc, lit, i, arr) => {
          const tok = (format.match(TOKEN_RE) ?? [])[i];
          if (tok) order.push(tok.startsWith('S') ? 'S' : tok);
          const pat =
            tok === undefined
              ? ''
              : tok === 'YYYY'
                ? '(\\d{4})'
                : tok.startsWith('S')
                  ? `(\\d{1,${tok.length}})`
                  : '(\\d{1,2})';
          return acc + lit + (i < arr.length - 1 ? pat : '');
        }, '') +
      '$',
  );
  return (s) => {
    const m = re.exec(s);
    if (!m) return undefined;
    const v: Record<string, string> = {};
    order.forEach((t, i) => (v[t] = m[i + 1]));
    const p2 = (x?: string) => (x ?? '0').padStart(2, '0');
    const date = `${v['YYYY']}-${p2(v['MM'])}-${p2(v['DD'])}`;
    if (v['HH'] === undefined) return date;
    return `${date} ${p2(v['HH'])}:${p2(v['mm'])}:${p2(v['ss'])}${v['S'] ? '.' + v['S'] : ''}`;
  };
}

function coercerFor(t: ParsedType): C.Coercer {
  switch (t.base) {
    case 'text':
      return C.coerceText;
    case 'integer':
      return C.coerceInteger;
    case 'bigint':
      return C.coerceBigint;
    case 'numeric':
      return C.numericCoercer(t.precision, t.scale);
    case 'boolean':
      return C.coerceBoolean;
    case 'date':
      return C.coerceDate;
    case 'timestamp':
      return C.coerceTimestamp;
    case 'timestamptz':
      return C.coerceTimestamptz;
    case 'uuid':
      return C.coerceUuid;
    case 'jsonb':
      return C.coerceJsonb;
    case 'varchar':
    case 'char':
      return C.coerceText;
    case 'smallint':
      return C.coerceSmallint;
    case 'real':
      return C.coerceReal;
    case 'double precision':
      return C.coerceDouble;
    case 'time':
      return C.coerceTime;
    case 'interval':
      return C.coerceInterval;
    case 'bytea':
      return C.coerceBytea;
    case 'json':
      return C.coerceJson;
  }
}

/** The elements of an array value: a JSON array, or a one-dimensional PostgreSQL array literal `{a,"b c",NULL}`. */
export function arrayElements(s: string): (string | null)[] | string {
  if (s.startsWith('[')) {
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch {
      return 'not a JSON array';
    }
    if (!Array.isArray(v)) return 'not a JSON array';
    const out: (string | null)[] = [];
    for (const e of v) {
      if (e === null) out.push(null);
      else if (typeof e === 'object') return 'nested arrays and objects are not supported (one dimension)';
      else out.push(String(e));
    }
    return out;
  }
  if (!s.startsWith('{') || !s.endsWith('}')) return 'not an array: expected {a,b,…} (PostgreSQL) or [a,b,…] (JSON)';
  const out: (string | null)[] = [];
  const body = s.slice(1, -1);
  if (body.trim() === '') return out;
  let i = 0;
  const n = body.length;
  for (;;) {
    while (i < n && body[i] === ' ') i++;
    if (body[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= n) return 'unterminated quoted element';
        const c = body[i++];
        if (c === '"') break;
        if (c === '\\') {
          if (i >= n) return 'unterminated quoted element';
          v += body[i++];
        } else v += c;
      }
      while (i < n && body[i] === ' ') i++;
      out.push(v);
    } else {
      let v = '';
      while (i < n && body[i] !== ',') {
        const c = body[i++];
        if (c === '{' || c === '}' || c === '"' || c === '\\')
          return 'nested arrays are not supported (one dimension); quote special characters';
        v += c;
      }
      v = v.trim();
      if (v === '') return 'empty element (quote it: "")';
      out.push(v.toUpperCase() === 'NULL' ? null : v);
    }
    if (i >= n) return out;
    if (body[i] !== ',') return `unexpected ${JSON.stringify(body[i])} after an element`;
    i++;
  }
}

/** An element as a quoted PostgreSQL array element. */
const quoteElement = (v: string) => '"' + v.replace(/[\\"]/g, '\\$&') + '"';

/** Escapes a value for COPY text format. */
function copyEscape(v: string): string {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 92 || c === 9 || c === 10 || c === 13) {
      return v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
    }
  }
  return v;
}

function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

export const MASK = '***';

type ColumnFn = (raw: unknown) => string | Violation;

function columnFn(col: ColumnContract, map: ColumnMapping, nullValues: Set<string>): ColumnFn {
  const t = parseType(col.type) as ParsedType;
  const elementCoercer = coercerFor(t);
  const isStringType = t.base === 'text' || t.base === 'varchar' || t.base === 'char';
  const isText = isStringType && !t.array;
  const needsEscape = isText || t.array || t.base === 'jsonb' || t.base === 'json' || t.base === 'bytea';
  const trim = map.trim ?? !isText;
  const elementMax = isStringType ? (t.length ?? col.maxLength) : undefined;
  const base: C.Coercer = t.array
    ? (v) => {
        const els = arrayElements(v);
        if (typeof els === 'string') return { fail: true, message: els };
        let out = '{';
        for (let k = 0; k < els.length; k++) {
          const e = els[k];
          let c: string;
          if (e === null) c = 'NULL';
          else {
            const r = elementCoercer(isStringType ? e : e.trim());
            if (typeof r !== 'string') return { fail: true, message: `element ${k + 1}: ${r.message}` };
            if (elementMax !== undefined && r.length > elementMax && codePointLength(r) > elementMax)
              return {
                fail: true,
                tooLong: true,
                message: `element ${k + 1}: ${codePointLength(r)} characters, at most ${elementMax} allowed`,
              };
            c = quoteElement(r);
          }
          out += k === 0 ? c : ',' + c;
        }
        return out + '}';
      }
    : elementCoercer;
  const layout =
    map.format && (t.base === 'date' || t.base === 'timestamp' || t.base === 'timestamptz')
      ? layoutParser(map.format)
      : undefined;
  const isNumber =
    !t.array && ['numeric', 'integer', 'bigint', 'smallint', 'real', 'double precision'].includes(t.base);
  const dec = map.decimalSeparator && map.decimalSeparator !== '.' ? map.decimalSeparator : undefined;
  const thou = isNumber ? map.thousandsSeparator : undefined;
  const allowed = col.allowed ? new Set(col.allowed) : undefined;
  const pattern = col.pattern !== undefined ? compilePattern(col.pattern) : undefined; // linear time (RE2)
  const maxLength = t.array ? undefined : isStringType ? (t.length ?? col.maxLength) : undefined;
  const name = col.name;
  const shown = (v: string) => (col.pii ? MASK : v.length > 200 ? v.slice(0, 200) + '…' : v);
  const dflt = map.default === undefined ? undefined : map.default;
  const emptyIsNullOnly = nullValues.size === 1 && nullValues.has('');
  const nullValue = (): string | Violation => {
    if (dflt !== undefined && dflt !== null) return fn(dflt);
    if (col.nullable) return '\\N';
    return {
      reason: 'NULL_IN_REQUIRED',
      column: name,
      value: null,
      message: `${name} is required but the value is missing or null`,
    };
  };

  const fn = (raw: unknown): string | Violation => {
    let s: string;
    if (typeof raw === 'string') s = raw;
    else if (raw === null || raw === undefined) return nullValue();
    else if (typeof raw === 'object') s = JSON.stringify(raw);
    else s = String(raw);
    if (trim) s = s.trim();
    if (emptyIsNullOnly ? s.length === 0 : nullValues.has(s)) return nullValue();
    let v = s;
    if (layout) {
      const iso = layout(v);
      if (iso === undefined)
        return {
          reason: 'TYPE_MISMATCH',
          column: name,
          value: shown(v),
          message: `${name}: does not match the format ${map.format}`,
        };
      v = iso;
    } else if (thou || dec) {
      if (thou) v = v.split(thou).join('');
      if (dec) v = v.replace(dec, '.');
    }
    let c: string;
    let special = false;
    if (isText) {
      special = TEXT_SPECIAL.test(v);
      if (special && v.includes('\u0000')) {
        return {
          reason: 'TYPE_MISMATCH',
          column: name,
          value: shown(s),
          message: `${name} (${col.type}): text cannot contain NUL (\\u0000) characters`,
        };
      }
      c = v;
    } else {
      const r = base(v);
      if (typeof r !== 'string')
        return {
          reason: r.tooLong ? 'TOO_LONG' : 'TYPE_MISMATCH',
          column: name,
          value: shown(s),
          message: `${name} (${col.type}): ${r.message}`,
        };
      c = r;
    }
    if (maxLength !== undefined && c.length > maxLength && codePointLength(c) > maxLength) {
      return {
        reason: 'TOO_LONG',
        column: name,
        value: shown(s),
        message: `${name} (${col.type}): ${codePointLength(c)} characters, at most ${maxLength} allowed`,
      };
    }
    if (allowed && !allowed.has(c))
      return {
        reason: 'NOT_ALLOWED',
        column: name,
        value: shown(s),
        message: `${name}: not one of the allowed values`,
      };
    if (pattern && !pattern.test(c))
      return {
        reason: 'PATTERN',
        column: name,
        value: shown(s),
        message: `${name}: does not match the pattern ${col.pattern}`,
      };
    if (isText) return special ? copyEscape(c) : c;
    return needsEscape && TEXT_SPECIAL.test(c) ? copyEscape(c) : c;
  };
  return fn;
}

/**
 * Compiles a contract (and a source's mapping) into one encode function: no per-row objects, no
 * classes, a closure per column. Values that pass are canonical for PostgreSQL, so COPY accepts them.
 */
export function compileContract(contract: DatasetContract, options: CompileOptions = {}): CompiledContract {
  const nullValues = new Set(options.nullValues ?? ['']);
  const fns = contract.columns.map((c) => columnFn(c, options.mapping?.[c.name] ?? {}, nullValues));
  const n = fns.length;
  const encode = (values: ArrayLike<unknown>): string | Violation => {
    let line = '';
    for (let i = 0; i < n; i++) {
      const r = fns[i](values[i]);
      if (typeof r !== 'string') return r;
      line = i === 0 ? r : line + '\t' + r;
    }
    return line;
  };
  return {
    columns: contract.columns.map((c) => c.name),
    sourceFields: contract.columns.map((c) => options.mapping?.[c.name]?.from ?? c.name),
    pii: contract.columns.map((c) => !!c.pii),
    encode,
  };
}
