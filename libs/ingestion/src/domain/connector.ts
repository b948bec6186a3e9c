import { environmentVariable } from '@weir/platform';

/**
 * Where a source's records come from (its connector). `file` (the default: a source's `format`,
 * `location` and readers) or a database: `postgres_query`, `mysql_query` (a table or a SELECT,
 * full or incremental by a cursor) and `postgres_cdc` (logical replication). Secrets are never
 * stored: only references to environment variables (`{"env": "SRC_PG_PASSWORD"}`).
 */

import type { HttpJsonConnector, S3Connector } from './remote-connector';
import { httpJsonProblems, s3Problems } from './remote-connector';

export type { HttpAuth, HttpJsonConnector, HttpPagination, S3Connector } from './remote-connector';

export const CONNECTOR_KINDS = [
  'file',
  'postgres_query',
  'mysql_query',
  'postgres_cdc',
  's3',
  'http_json',
  'singer',
  'nats_jetstream',
] as const;
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

export type ConnectorSpec =
  FileConnector | QueryConnector | CdcConnector | S3Connector | HttpJsonConnector | TapConnector | StreamConnector;

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
export function resolveSecret(
  ref: SecretRef | undefined,
  env: (name: string) => string | undefined = environmentVariable,
): string | undefined {
  if (!ref) return undefined;
  const v = env(ref.env);
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
  if (o['kind'] === 's3') return s3Problems(o);
  if (o['kind'] === 'http_json') return httpJsonProblems(o);
  if (o['kind'] === 'singer') return tapProblems(o);
  if (o['kind'] === 'nats_jetstream') return streamProblems(o);
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

/** A Singer tap or an Airbyte source run as an executable per run (stdout: the protocol's messages). */
export interface TapConnector {
  kind: 'singer';
  /** `singer` (default) or `airbyte` (its `read` command and messages). */
  protocol?: 'singer' | 'airbyte';
  /** The executable, a path inside WEIR_TAP_ROOT (an operator's allow-list of taps). */
  command: string;
  /** Extra arguments before the protocol's own (`--config …`). */
  args?: string[];
  /** The tap's config file (a path inside WEIR_TAP_ROOT); secrets are merged into a temporary copy. */
  config: string;
  /** Singer `--catalog` / Airbyte `--catalog` (the configured catalog), inside WEIR_TAP_ROOT. */
  catalog?: string;
  /** The stream whose records this source loads (records of other streams are counted and skipped). */
  stream: string;
  /** Config keys filled from environment variables (`{"password": {"env": "TAP_PG_PASSWORD"}}`). */
  secrets?: Record<string, SecretRef>;
  /** The tap's own environment variables, from references. */
  env?: Record<string, SecretRef>;
  /** Records per batch handed to the engine (default 5000). */
  batchRecords?: number;
}

/** A NATS JetStream stream consumed continuously (a durable pull consumer) into a dataset, merged on its key. */
export interface StreamConnector {
  kind: 'nats_jetstream';
  /** `nats://host:port` (default nats://127.0.0.1:4222); or `url` as a reference when it holds credentials. */
  servers?: string[];
  url?: SecretRef;
  /** Token or user/password, as references. */
  token?: SecretRef;
  user?: string;
  password?: SecretRef;
  /** The JetStream stream (it exists: the producer owns it). */
  stream: string;
  /** Only messages on these subjects (a filter of the consumer). */
  subject?: string;
  /** The durable consumer's name (default `weir_<source name>`). */
  durable?: string;
  /** Where a new consumer starts: `all` (default) or `new`. */
  deliver?: 'all' | 'new';
  /** A micro-batch closes at this many messages or this many ms, whichever first. */
  batchMessages?: number;
  batchMs?: number;
  /** How long a delivered message waits for its ack before it is redelivered (default 60 s). */
  ackWaitMs?: number;
}

/** A stream source's durable consumer: given, or `weir_<source name>`. */
export const streamDurable = (sourceName: string, c: StreamConnector): string =>
  c.durable ?? `weir_${sourceName}`.replace(/[^A-Za-z0-9_-]/g, '_');

const TAP_KEYS = [
  'kind',
  'protocol',
  'command',
  'args',
  'config',
  'catalog',
  'stream',
  'secrets',
  'env',
  'batchRecords',
];
const STREAM_KEYS = [
  'kind',
  'servers',
  'url',
  'token',
  'user',
  'password',
  'stream',
  'subject',
  'durable',
  'deliver',
  'batchMessages',
  'batchMs',
  'ackWaitMs',
];
const NATS_NAME = /^[A-Za-z0-9_-]{1,255}$/;
const NATS_SUBJECT = /^([A-Za-z0-9_$-]+|\*|>)(\.([A-Za-z0-9_$-]+|\*|>))*$/;
const isPath = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 1024 && !v.includes('\0');

function unknownKeys(o: Record<string, unknown>, keys: string[]): string[] {
  return Object.keys(o)
    .filter((k) => !keys.includes(k))
    .map((k) => `connector.${k}: unknown (one of ${keys.join(', ')})`);
}

function intProblem(o: Record<string, unknown>, k: string, max: number): string[] {
  return o[k] !== undefined && (!Number.isInteger(o[k]) || (o[k] as number) < 1 || (o[k] as number) > max)
    ? [`connector.${k}: an integer 1..${max}`]
    : [];
}

/** A map of names to secret references at `path`. */
function secretMapProblems(v: unknown, path: string, names: RegExp): string[] {
  if (v === undefined) return [];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return [`${path}: an object of {"env": …} references`];
  return Object.entries(v).flatMap(([k, ref]) => [
    ...(names.test(k) ? [] : [`${path}.${k}: not a valid name`]),
    ...secretProblems(ref, `${path}.${k}`),
  ]);
}

function tapProblems(o: Record<string, unknown>): string[] {
  const problems = unknownKeys(o, TAP_KEYS);
  if (o['protocol'] !== undefined && !['singer', 'airbyte'].includes(o['protocol'] as string))
    problems.push('connector.protocol: singer or airbyte');
  if (!isPath(o['command'])) problems.push('connector.command: the tap executable (a path inside WEIR_TAP_ROOT)');
  if (!isPath(o['config'])) problems.push('connector.config: the tap config file (a path inside WEIR_TAP_ROOT)');
  if (o['catalog'] !== undefined && !isPath(o['catalog'])) problems.push('connector.catalog: a file path');
  if (o['protocol'] === 'airbyte' && o['catalog'] === undefined)
    problems.push('connector.catalog: an Airbyte source reads with its configured catalog (a file path)');
  for (const k of ['command', 'config', 'catalog'])
    if (isPath(o[k]) && (o[k] as string).split(/[\\/]/).includes('..'))
      problems.push(`connector.${k}: may not contain ".."`);
  if (
    o['args'] !== undefined &&
    (!Array.isArray(o['args']) || o['args'].some((a) => typeof a !== 'string' || a.length > 1024))
  )
    problems.push('connector.args: a list of strings');
  if (typeof o['stream'] !== 'string' || !o['stream'].length || o['stream'].length > 255)
    problems.push('connector.stream: the tap stream this source loads');
  problems.push(...secretMapProblems(o['secrets'], 'connector.secrets', /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/));
  problems.push(...secretMapProblems(o['env'], 'connector.env', ENV_NAME));
  problems.push(...intProblem(o, 'batchRecords', 1_000_000));
  return problems;
}

function streamProblems(o: Record<string, unknown>): string[] {
  const problems = unknownKeys(o, STREAM_KEYS);
  if (o['servers'] !== undefined && o['url'] !== undefined) problems.push('connector: give servers or url, not both');
  if (
    o['servers'] !== undefined &&
    (!Array.isArray(o['servers']) ||
      !o['servers'].length ||
      o['servers'].some((s) => typeof s !== 'string' || !/^(nats|tls):\/\/[^\s/@]+$/.test(s)))
  )
    problems.push(
      'connector.servers: a list of nats://host:port (credentials go in url, token or password references)',
    );
  problems.push(
    ...secretProblems(o['url'], 'connector.url'),
    ...secretProblems(o['token'], 'connector.token'),
    ...secretProblems(o['password'], 'connector.password'),
  );
  if (o['user'] !== undefined && (typeof o['user'] !== 'string' || !o['user'].length))
    problems.push('connector.user: a user name');
  if ((o['password'] === undefined) !== (o['user'] === undefined))
    problems.push('connector: user and password go together');
  if (typeof o['stream'] !== 'string' || !NATS_NAME.test(o['stream']))
    problems.push('connector.stream: the JetStream stream name (letters, digits, _ and -)');
  if (o['durable'] !== undefined && (typeof o['durable'] !== 'string' || !NATS_NAME.test(o['durable'])))
    problems.push('connector.durable: letters, digits, _ and -');
  if (o['subject'] !== undefined && (typeof o['subject'] !== 'string' || !NATS_SUBJECT.test(o['subject'])))
    problems.push('connector.subject: a NATS subject (tokens separated by dots; * and > as wildcards)');
  if (o['deliver'] !== undefined && !['all', 'new'].includes(o['deliver'] as string))
    problems.push('connector.deliver: all or new');
  problems.push(
    ...intProblem(o, 'batchMessages', 100_000),
    ...intProblem(o, 'batchMs', 600_000),
    ...intProblem(o, 'ackWaitMs', 3_600_000),
  );
  return problems;
}

/** A database connector read through runs (not `file`, not the continuous `postgres_cdc`). */
export const isQueryConnector = (c: ConnectorSpec | null | undefined): c is QueryConnector =>
  !!c && (c.kind === 'postgres_query' || c.kind === 'mysql_query');

/**
 * A source each trigger reads afresh through one run, past its stored checkpoint: a database
 * query, an HTTP API, a tap.
 */
export const isPulledConnector = (
  c: ConnectorSpec | null | undefined,
): c is QueryConnector | HttpJsonConnector | TapConnector =>
  isQueryConnector(c) || c?.kind === 'http_json' || c?.kind === 'singer';

/** The same question, as the tap and stream code asks it. */
export const readsAfresh = (c: ConnectorSpec | null | undefined): boolean => isPulledConnector(c);

/** A source whose records are files in a format: no connector, `file`, or objects in `s3`. */
export const readsFiles = (c: ConnectorSpec | null | undefined): boolean => !c || c.kind === 'file' || c.kind === 's3';

/** A source consumed continuously by its own service, not through runs (`postgres_cdc`, `nats_jetstream`). */
export const isContinuous = (c: ConnectorSpec | null | undefined): boolean =>
  c?.kind === 'postgres_cdc' || c?.kind === 'nats_jetstream';

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
