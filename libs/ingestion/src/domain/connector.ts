/**
 * Where a source's records come from (its connector). `file` (the default: a source's `format`,
 * `location` and readers) or a database: `postgres_query`, `mysql_query` (a table or a SELECT,
 * full or incremental by a cursor) and `postgres_cdc` (logical replication). Secrets are never
 * stored: only references to environment variables (`{"env": "SRC_PG_PASSWORD"}`).
 */

export const CONNECTOR_KINDS = ['file', 'postgres_query', 'mysql_query', 'postgres_cdc'] as const;
export type ConnectorKind = (typeof CONNECTOR_KINDS)[number];

/** A secret: the name of the environment variable holding it (read when connecting, never stored or shown). */
export interface SecretRef {
  env: string;
}

/** How to reach another database. `url` (a reference: it may hold a password) or its parts. */
export interface ConnectionSpec {
  url?: SecretRef;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: SecretRef;
  /** TLS: `disable` (default for localhost), `require`, `verify-full`. */
  ssl?: 'disable' | 'require' | 'verify-full';
}

export interface FileConnector {
  kind: 'file';
}

/** A table (with its columns) or a SELECT on another database, read in full or incrementally. */
export interface QueryConnector {
  kind: 'postgres_query' | 'mysql_query';
  connection: ConnectionSpec;
  /** `schema.table` (or `table`); exclusive with `query`. */
  table?: string;
  /** The table's columns to read (default: the dataset contract's columns). */
  columns?: string[];
  /** A SELECT (no trailing semicolon); exclusive with `table`. */
  query?: string;
  /** `full` reads every row; `incremental` those above the watermark (strategy `incremental` and its `cursor`). */
  mode: 'full' | 'incremental';
  /** Incremental: a column that breaks ties between rows sharing a cursor value (so none is skipped). */
  tieBreaker?: string;
  /** Rows fetched per round trip (server-side cursor / streaming query). */
  fetchSize?: number;
}

/** Logical replication (pgoutput) of one table into the dataset, merged on its key. */
export interface CdcConnector {
  kind: 'postgres_cdc';
  connection: ConnectionSpec;
  /** `schema.table` on the source database. */
  table: string;
  /** Default `weir_<source name>`. */
  publication?: string;
  /** Default `weir_<source name>`. */
  slot?: string;
  /** Deletes: `hard` (default) removes the row; `soft` sets `_weir_deleted_at`. */
  deletes?: 'hard' | 'soft';
  /** TRUNCATE on the source: `apply` empties the target, `refuse` (default) fails the source. */
  truncate?: 'apply' | 'refuse';
  /** Micro-batches closed at this many changes or this many ms, whichever first. */
  batchChanges?: number;
  batchMs?: number;
  /** A paused or failing source keeps its slot until it retains this many bytes of WAL (default 1 GiB), then is failed and the slot dropped. */
  maxSlotBytes?: number;
  /** Slot lag (bytes) above which an alert is raised (default 256 MiB). */
  lagAlertBytes?: number;
}

export type ConnectorSpec = FileConnector | QueryConnector | CdcConnector;

const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;

/** Problems of a secret reference at `path` (a literal secret is refused: it would be stored). */
export function secretProblems(v: unknown, path: string): string[] {
  if (v === undefined) return [];
  if (typeof v === 'string')
    return [`${path}: a secret is given as {"env": "VARIABLE"} (the environment variable holding it), never in clear`];
  if (
    typeof v !== 'object' ||
    v === null ||
    Object.keys(v).length !== 1 ||
    typeof (v as SecretRef).env !== 'string' ||
    !ENV_NAME.test((v as SecretRef).env)
  )
    return [`${path}: expected {"env": "VARIABLE_NAME"} (upper case, digits, _)`];
  return [];
}

/** Problems of a connection at `path`. */
export function connectionProblems(c: unknown, path: string): string[] {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return [`${path}: expected an object`];
  const o = c as Record<string, unknown>;
  const problems: string[] = [];
  const known = ['url', 'host', 'port', 'database', 'user', 'password', 'ssl'];
  for (const k of Object.keys(o))
    if (!known.includes(k)) problems.push(`${path}.${k}: unknown (one of ${known.join(', ')})`);
  problems.push(...secretProblems(o['url'], `${path}.url`), ...secretProblems(o['password'], `${path}.password`));
  if (o['url'] === undefined && typeof o['host'] !== 'string') problems.push(`${path}: give url ({"env": …}) or host`);
  if (
    o['port'] !== undefined &&
    (!Number.isInteger(o['port']) || (o['port'] as number) < 1 || (o['port'] as number) > 65535)
  )
    problems.push(`${path}.port: an integer 1..65535`);
  for (const k of ['host', 'database', 'user'])
    if (o[k] !== undefined && (typeof o[k] !== 'string' || !(o[k] as string).length || (o[k] as string).length > 255))
      problems.push(`${path}.${k}: a string of 1 to 255 characters`);
  if (o['ssl'] !== undefined && !['disable', 'require', 'verify-full'].includes(o['ssl'] as string))
    problems.push(`${path}.ssl: one of disable, require, verify-full`);
  return problems;
}

/** The connection as shown by the API: secrets as their references (never their values). */
export function shownConnection(c: ConnectionSpec): ConnectionSpec {
  return { ...c };
}

/** Reads a secret reference from the environment; throws naming the variable (never its value) when unset. */
export function resolveSecret(ref: SecretRef | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!ref) return undefined;
  const v = env[ref.env];
  if (v === undefined || v === '')
    throw new Error(`the environment variable ${ref.env} (a secret of this source) is not set`);
  return v;
}

const QUERY_KEYS = ['kind', 'connection', 'table', 'columns', 'query', 'mode', 'tieBreaker', 'fetchSize'];
const CDC_KEYS = [
  'kind',
  'connection',
  'table',
  'publication',
  'slot',
  'deletes',
  'truncate',
  'batchChanges',
  'batchMs',
  'maxSlotBytes',
  'lagAlertBytes',
];
const QUALIFIED = /^([A-Za-z_][A-Za-z0-9_$]{0,62}\.)?[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Every problem of a connector at `connector`, or none. `columns`: the dataset contract's columns
 * (a table's `columns` and `tieBreaker` must be among them).
 */
export function connectorProblems(raw: unknown, columns: string[]): string[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return ['connector: expected an object'];
  const o = raw as Record<string, unknown>;
  if (!(CONNECTOR_KINDS as readonly unknown[]).includes(o['kind']))
    return [`connector.kind: one of ${CONNECTOR_KINDS.join(', ')}`];
  const problems: string[] = [];
  const unknown = (keys: string[]) => {
    for (const k of Object.keys(o))
      if (!keys.includes(k)) problems.push(`connector.${k}: unknown (one of ${keys.join(', ')})`);
  };
  const positive = (k: string, max: number) => {
    if (o[k] !== undefined && (!Number.isInteger(o[k]) || (o[k] as number) < 1 || (o[k] as number) > max))
      problems.push(`connector.${k}: an integer 1..${max}`);
  };
  if (o['kind'] === 'file') {
    unknown(['kind']);
    return problems;
  }
  problems.push(...connectionProblems(o['connection'], 'connector.connection'));
  if (o['kind'] === 'postgres_cdc') {
    unknown(CDC_KEYS);
    if (typeof o['table'] !== 'string' || !QUALIFIED.test(o['table'])) problems.push('connector.table: schema.table');
    for (const k of ['publication', 'slot'])
      if (o[k] !== undefined && (typeof o[k] !== 'string' || !IDENT.test(o[k] as string)))
        problems.push(`connector.${k}: ${IDENT.source}`);
    if (o['deletes'] !== undefined && !['hard', 'soft'].includes(o['deletes'] as string))
      problems.push('connector.deletes: hard or soft');
    if (o['truncate'] !== undefined && !['apply', 'refuse'].includes(o['truncate'] as string))
      problems.push('connector.truncate: apply or refuse');
    positive('batchChanges', 1_000_000);
    positive('batchMs', 600_000);
    positive('maxSlotBytes', Number.MAX_SAFE_INTEGER);
    positive('lagAlertBytes', Number.MAX_SAFE_INTEGER);
    return problems;
  }
  unknown(QUERY_KEYS);
  const hasTable = o['table'] !== undefined;
  const hasQuery = o['query'] !== undefined;
  if (hasTable === hasQuery) problems.push('connector: give exactly one of table or query');
  if (hasTable && (typeof o['table'] !== 'string' || !QUALIFIED.test(o['table'])))
    problems.push('connector.table: table or schema.table');
  if (
    hasQuery &&
    (typeof o['query'] !== 'string' || !/^\s*(select|with)\b/i.test(o['query']) || /;\s*\S/.test(o['query']))
  )
    problems.push('connector.query: one SELECT (or WITH … SELECT) statement');
  if (o['columns'] !== undefined) {
    if (!Array.isArray(o['columns']) || !o['columns'].length || o['columns'].some((c) => typeof c !== 'string'))
      problems.push('connector.columns: a list of column names');
    else if (!hasTable) problems.push('connector.columns: only with table (a query selects its own)');
  }
  if (!['full', 'incremental'].includes(o['mode'] as string)) problems.push('connector.mode: full or incremental');
  if (o['tieBreaker'] !== undefined) {
    if (o['mode'] !== 'incremental') problems.push('connector.tieBreaker: only with mode incremental');
    else if (typeof o['tieBreaker'] !== 'string' || !columns.includes(o['tieBreaker']))
      problems.push(`connector.tieBreaker: a contract column`);
  }
  positive('fetchSize', 1_000_000);
  return problems;
}

/** A database connector read through runs (not `file`, not the continuous `postgres_cdc`). */
export const isQueryConnector = (c: ConnectorSpec | null | undefined): c is QueryConnector =>
  !!c && (c.kind === 'postgres_query' || c.kind === 'mysql_query');

/**
 * The watermark of an incremental query source. Without a tie-breaker it is the cursor's value (as
 * files' is); with one it is `{"cursor": …, "tieBreaker": …}` (JSON), the last row loaded, so rows
 * sharing that cursor value and arriving later (a larger tie-breaker) are still read.
 */
export interface QueryCheckpoint {
  cursor: string;
  tieBreaker?: string;
}

export function parseQueryWatermark(w: string | null): QueryCheckpoint | null {
  if (w === null) return null;
  if (w.startsWith('{')) {
    try {
      const o = JSON.parse(w) as Record<string, unknown>;
      if (typeof o['cursor'] === 'string')
        return typeof o['tieBreaker'] === 'string'
          ? { cursor: o['cursor'], tieBreaker: o['tieBreaker'] }
          : { cursor: o['cursor'] };
    } catch {
      /* a cursor value that starts with { */
    }
  }
  return { cursor: w };
}

/** The stored form of a checkpoint (the cursor alone without a tie-breaker value). */
export function formatQueryWatermark(c: QueryCheckpoint | null): string | null {
  if (c === null) return null;
  return c.tieBreaker === undefined ? c.cursor : JSON.stringify({ cursor: c.cursor, tieBreaker: c.tieBreaker });
}
