import { ColumnContract, DatasetContract, parseType } from './contract';

/**
 * Exports of a dataset to a Parquet lake (pure rules): the request, how each contract type maps to
 * Parquet, Hive-style partition paths and where a local target may lie.
 */

/** Page compression of the Parquet files (`zstd`: node:zlib's on Node.js 22.15+, else WebAssembly). */
export const EXPORT_CODECS = ['snappy', 'zstd', 'gzip', 'brotli', 'none'] as const;
export type ExportCodec = (typeof EXPORT_CODECS)[number];

/** An S3 (or S3-compatible) target's connection; secrets are environment references. */
export interface ExportS3Options {
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  accessKeyId?: { env: string };
  secretAccessKey?: { env: string };
  sessionToken?: { env: string };
}

export interface ExportRequest {
  /** A folder under the export root (relative, or absolute inside it), or `s3://bucket/prefix`. */
  target: string;
  /** Hive-style partition columns, in path order. */
  partitionBy?: string[];
  compression?: ExportCodec;
  /** Rows per row group (default 100 000). */
  rowGroupSize?: number;
  /** Rows per file before the next `part-NNNNN` (default 1 000 000). */
  maxRowsPerFile?: number;
  /** Only partitions not exported to this target before. */
  incremental?: boolean;
  s3?: ExportS3Options;
}

/** How a column is read from PostgreSQL (as text) and written to Parquet. */
export type ExportKind =
  | 'string'
  | 'json'
  | 'int32'
  | 'int64'
  | 'float'
  | 'double'
  | 'binary'
  | 'decimal'
  | 'boolean'
  | 'date'
  | 'timestamp'
  | 'timestamptz'
  | 'uuid';

export interface ExportColumn {
  name: string;
  kind: ExportKind;
  nullable: boolean;
  precision?: number;
  scale?: number;
  /** The contract type, for the manifest. */
  type: string;
  /** An array column: read as its JSON text (`to_json`), written as a JSON string. */
  array?: boolean;
  /**
   * A PII column in an export for a caller who does not see PII: `text` (a text, varchar or char
   * column) writes `***` for each value but NULL; `null` (any other type, whose Parquet type
   * `***` would not fit) writes NULL. The column keeps its name and Parquet type.
   */
  mask?: 'text' | 'null';
}

export const DEFAULT_ROW_GROUP_SIZE = 100_000;
export const DEFAULT_MAX_ROWS_PER_FILE = 1_000_000;
/** The value of a NULL partition in a path (Hive's and Spark's). */
export const NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';
export const MANIFEST_FILE = '_manifest.json';

/**
 * The Parquet side of a contract column: numeric(p,s) as DECIMAL; unbounded numeric as its exact
 * text; smallint as INT32, real as FLOAT, double precision as DOUBLE, bytea as binary BYTE_ARRAY;
 * arrays as their JSON text; varchar, char, time, interval and json as strings.
 */
export function exportColumn(c: ColumnContract): ExportColumn {
  const t = parseType(c.type);
  if (typeof t === 'string') throw new Error(t);
  // every column OPTIONAL: a contract's NOT NULL is not a promise a view keeps
  const base = { name: c.name, nullable: true, type: c.type };
  if (t.array) return { ...base, kind: 'json', array: true };
  switch (t.base) {
    case 'smallint':
    case 'integer':
      return { ...base, kind: 'int32' };
    case 'bigint':
      return { ...base, kind: 'int64' };
    case 'numeric':
      return t.precision !== undefined && t.precision <= 38
        ? { ...base, kind: 'decimal', precision: t.precision, scale: t.scale ?? 0 }
        : { ...base, kind: 'string' };
    case 'boolean':
      return { ...base, kind: 'boolean' };
    case 'date':
      return { ...base, kind: 'date' };
    case 'timestamp':
      return { ...base, kind: 'timestamp' };
    case 'timestamptz':
      return { ...base, kind: 'timestamptz' };
    case 'uuid':
      return { ...base, kind: 'uuid' };
    case 'real':
      return { ...base, kind: 'float' };
    case 'double precision':
      return { ...base, kind: 'double' };
    case 'bytea':
      return { ...base, kind: 'binary' };
    case 'json':
    case 'jsonb':
      return { ...base, kind: 'json' };
    default:
      return { ...base, kind: 'string' };
  }
}

/** A contract column as a masked export writes it (see {@link ExportColumn.mask}). */
export function maskedExportColumn(c: ColumnContract): ExportColumn {
  const col = exportColumn(c);
  const t = parseType(c.type);
  const textual = typeof t !== 'string' && !t.array && (t.base === 'text' || t.base === 'varchar' || t.base === 'char');
  return { ...col, mask: textual ? 'text' : 'null' };
}

/** Every problem with an export request against the dataset's contract, with its path. */
export function exportRequestProblems(req: unknown, contract: DatasetContract): string[] {
  const out: string[] = [];
  if (typeof req !== 'object' || req === null || Array.isArray(req)) return ['body: expected an object'];
  const r = req as Record<string, unknown>;
  const known = new Set([
    'target',
    'partitionBy',
    'compression',
    'rowGroupSize',
    'maxRowsPerFile',
    'incremental',
    's3',
  ]);
  for (const k of Object.keys(r)) if (!known.has(k)) out.push(`${k}: unknown field`);
  if (typeof r['target'] !== 'string' || r['target'].trim() === '')
    out.push('target: expected a folder under the export root or s3://bucket/prefix');
  const names = new Set(contract.columns.map((c) => c.name));
  const by = r['partitionBy'];
  if (by !== undefined) {
    if (!Array.isArray(by)) out.push('partitionBy: expected an array of column names');
    else {
      by.forEach((c, i) => {
        if (typeof c !== 'string' || !names.has(c)) out.push(`partitionBy[${i}]: not a column of the dataset`);
        else if (by.indexOf(c) !== i) out.push(`partitionBy[${i}]: ${c} given twice`);
      });
      if (by.length > 0 && by.length >= contract.columns.length)
        out.push('partitionBy: at least one column must stay in the files');
    }
  }
  if (r['compression'] !== undefined && !(EXPORT_CODECS as readonly unknown[]).includes(r['compression']))
    out.push(`compression: one of ${EXPORT_CODECS.join(', ')}`);
  const int = (k: string, min: number, max: number) => {
    const v = r[k];
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < min || (v as number) > max))
      out.push(`${k}: an integer from ${min} to ${max}`);
  };
  int('rowGroupSize', 1, 10_000_000);
  int('maxRowsPerFile', 1, 100_000_000);
  if (r['incremental'] !== undefined && typeof r['incremental'] !== 'boolean') out.push('incremental: true or false');
  if (r['incremental'] === true && (!Array.isArray(by) || by.length === 0))
    out.push('incremental: needs partitionBy (only new partitions are written)');
  const s3 = r['s3'];
  if (s3 !== undefined) {
    if (typeof s3 !== 'object' || s3 === null || Array.isArray(s3)) out.push('s3: expected an object');
    else {
      const o = s3 as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        if (['region', 'endpoint'].includes(k)) {
          if (typeof o[k] !== 'string') out.push(`s3.${k}: expected a string`);
        } else if (k === 'forcePathStyle') {
          if (typeof o[k] !== 'boolean') out.push(`s3.${k}: true or false`);
        } else if (['accessKeyId', 'secretAccessKey', 'sessionToken'].includes(k)) {
          const v = o[k] as Record<string, unknown> | null;
          if (
            typeof v !== 'object' ||
            v === null ||
            Object.keys(v).length !== 1 ||
            typeof v['env'] !== 'string' ||
            !/^[A-Z_][A-Z0-9_]*$/.test(v['env'])
          )
            out.push(`s3.${k}: a secret is given as {"env": "VARIABLE_NAME"}, never in clear`);
        } else out.push(`s3.${k}: unknown field`);
      }
    }
    if (typeof r['target'] === 'string' && !r['target'].startsWith('s3://')) out.push('s3: only for an s3:// target');
  }
  return out;
}

/** Hive's escaping of a partition value in a path (FileUtils.escapePathName): `%XX` for unsafe characters. */
export function hiveEscape(value: string | null): string {
  if (value === null) return NULL_PARTITION;
  if (value === '') return NULL_PARTITION;
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0) as number;
    if (code < 0x20 || code === 0x7f || '"#%\'*/:=?\\{[]^'.includes(ch))
      out += '%' + code.toString(16).toUpperCase().padStart(2, '0');
    else out += ch;
  }
  return out;
}

/** `order_date=2026-11-21/region=EU` for the partition's values, in `partitionBy` order. */
export function partitionPath(columns: string[], values: (string | null)[]): string {
  return columns.map((c, i) => `${hiveEscape(c)}=${hiveEscape(values[i])}`).join('/');
}

/** `part-00000.parquet`, under the partition's folder (or the target's root when unpartitioned). */
export function partFile(partition: string, index: number): string {
  const f = `part-${String(index).padStart(5, '0')}.parquet`;
  return partition ? `${partition}/${f}` : f;
}

export type ExportTarget = { kind: 'local'; dir: string } | { kind: 's3'; bucket: string; prefix: string };

/**
 * Where a target lies: `s3://bucket/prefix`, or a folder that must resolve inside `root` (a
 * relative path is taken from `root`); `..` climbing out of it is refused (returns a message).
 */
export function resolveTarget(
  target: string,
  root: string,
  resolve: (...p: string[]) => string,
): ExportTarget | string {
  if (target.startsWith('s3://')) {
    const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(target);
    if (!m) return `${target} is not s3://bucket/prefix`;
    const prefix = (m[2] ?? '').replace(/\/+$/, '');
    if (prefix.split('/').some((s) => s === '..' || s === '.')) return `${target}: no . or .. in an S3 prefix`;
    return { kind: 's3', bucket: m[1], prefix };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) return `${target}: only folders under the export root and s3:// targets`;
  if (target.includes('\0')) return 'a target path may not contain NUL';
  const dir = resolve(root, target);
  if (dir === root || !dir.startsWith(root.endsWith('/') ? root : `${root}/`))
    return `${target} is outside the export root (${root}): exports go to a folder inside it`;
  return { kind: 'local', dir };
}

/** The unscaled integer of a decimal's text (`-12.5` at scale 2 → -1250n), exactly. */
export function unscaledDecimal(text: string, scale: number): bigint {
  const neg = text.startsWith('-');
  const t = neg || text.startsWith('+') ? text.slice(1) : text;
  const [int, frac = ''] = t.split('.');
  const digits = int + (frac + '0'.repeat(scale)).slice(0, scale);
  const v = BigInt(digits || '0');
  return neg ? -v : v;
}
