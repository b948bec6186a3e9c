import type { SecretRef } from './connector';
import { secretProblems } from './connector';

/**
 * The connectors that reach a remote service over HTTP: object storage (`s3`: AWS S3 and
 * S3-compatible stores) and JSON APIs (`http_json`). Secrets are environment references only.
 */

/**
 * S3 or an S3-compatible store (MinIO, Ceph, GCS interoperability). The objects are named by the
 * source's `location`: `inbox: "s3://bucket/prefix/"` with a `pattern` glob (`*.csv.gz`), or one
 * object `path: "s3://bucket/key"`; they are read with the source's `format`, streamed.
 */
export interface S3Connector {
  kind: 's3';
  /** Default `us-east-1` (or AWS_REGION). */
  region?: string;
  /** An S3-compatible endpoint (`http://127.0.0.1:9000`); default AWS. */
  endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`), as MinIO and Ceph usually need. */
  forcePathStyle?: boolean;
  /** Static credentials; without them the AWS default chain (environment, profile, instance role). */
  accessKeyId?: SecretRef;
  secretAccessKey?: SecretRef;
  sessionToken?: SecretRef;
  /** An object whose ETag changed since it was loaded: `load` it again (default) or `ignore` it. */
  changed?: 'load' | 'ignore';
}

/** `{type: 'bearer', token}`, `basic`, a custom header, or OAuth2 client credentials. */
export type HttpAuth =
  | { type: 'bearer'; token: SecretRef }
  | { type: 'basic'; username: string | SecretRef; password: SecretRef }
  | { type: 'header'; name: string; value: SecretRef }
  | { type: 'oauth2'; tokenUrl: string; clientId: string | SecretRef; clientSecret: SecretRef; scope?: string };

/** How the next page is asked for. */
export type HttpPagination =
  /** The response holds the next cursor at `cursorPath`; it is sent as `param` (none/empty: the last page). */
  | { type: 'cursor'; cursorPath: string; param: string }
  /** The next page's URL: the `Link: <…>; rel="next"` header (`link`), or a response field at `nextPath`. */
  | { type: 'link' }
  | { type: 'next_url'; nextPath: string }
  /** `param` = start, start+1, … until a page has fewer than `size` records (or none). */
  | { type: 'page'; param: string; start?: number; sizeParam?: string; size?: number }
  /** `offsetParam` = 0, limit, 2·limit, … with `limitParam` = limit, until a short page. */
  | { type: 'offset'; offsetParam: string; limitParam: string; limit: number };

/**
 * Each record (at `recordPath`) yields one row per element of its array at `path` (an empty,
 * null or missing array: none): the element's fields (a scalar or array element as `value`), its
 * position as `index` (default `_index`) and the whole record as `parent` (default `_parent`), so
 * the child contract maps `order_id` with `from: "_parent.id"`. `_index` and `_parent` are
 * only added when the contract reads them. A record whose `path` holds something other than an
 * array is one rejected row.
 */
export interface HttpUnnest {
  path: string;
  /** The field holding the record (default `_parent`). */
  parent?: string;
  /** The field holding the element's position from 0 (default `_index`). */
  index?: string;
}

/** A JSON API read page by page. */
export interface HttpJsonConnector {
  kind: 'http_json';
  url: string;
  method?: 'GET' | 'POST';
  /**
   * Query parameters sent with every request (POST: added to the body): a value in clear or an
   * environment reference (an API key taken in the query string: `{"api_key": {"env": "SRC_KEY"}}`).
   */
  params?: Record<string, string | SecretRef>;
  /** POST: the JSON body (pagination and incremental parameters are added to it). */
  body?: Record<string, unknown>;
  /** Extra headers: a value in clear or an environment reference. */
  headers?: Record<string, string | SecretRef>;
  auth?: HttpAuth;
  /** Where the records are in a response (`data.items`); default the response itself (an array). */
  recordPath?: string;
  pagination?: HttpPagination;
  /** One row per element of an array of each record (a child dataset's source): see {@link HttpUnnest}. */
  unnest?: HttpUnnest;
  /** Incremental (strategy incremental): the watermark is sent as this parameter (`updated_since`). */
  incremental?: { param: string; initial?: string };
  /** Requests per second at most (default unlimited). */
  rateLimit?: number;
  /** Retries of a 429, a 5xx or a network error (default 5), backoff base in ms (default 500). */
  retries?: number;
  backoffMs?: number;
  /** Per request (default 30000). */
  timeoutMs?: number;
  /** Pages read per run at most (default 10000): the run fails past it rather than loop forever. */
  maxPages?: number;
}

const S3_KEYS = [
  'kind',
  'region',
  'endpoint',
  'forcePathStyle',
  'accessKeyId',
  'secretAccessKey',
  'sessionToken',
  'changed',
];
const HTTP_KEYS = [
  'kind',
  'url',
  'method',
  'params',
  'body',
  'headers',
  'auth',
  'recordPath',
  'pagination',
  'unnest',
  'incremental',
  'rateLimit',
  'retries',
  'backoffMs',
  'timeoutMs',
  'maxPages',
  'fetchSize',
];
const PATH = /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/;
const PARAM = /^[A-Za-z0-9_.\-[\]]{1,100}$/;
const FIELD = /^[A-Za-z0-9_$-]{1,100}$/;
/** Query parameter names that carry a secret: never in clear (in `params` or the URL). */
export const SECRET_PARAM =
  /^(api[_-]?key|apikey|key|token|access[_-]?token|auth[_-]?token|secret|client[_-]?secret|password|passwd|signature|sig)$/i;
const HEADER = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function httpUrlProblem(v: unknown, path: string): string[] {
  if (typeof v !== 'string') return [`${path}: an http(s) URL`];
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return [`${path}: an http(s) URL`];
    if (u.username || u.password) return [`${path}: no credentials in the URL (give them as auth, env references)`];
    const secrets = [...new Set([...u.searchParams.keys()].filter((k) => SECRET_PARAM.test(k)))];
    if (secrets.length)
      return [
        `${path}: the query parameter ${secrets.join(', ')} is a secret: give it in params as {"env": "VARIABLE"}, never in the URL`,
      ];
  } catch {
    return [`${path}: an http(s) URL`];
  }
  return [];
}

/** Every problem of an `s3` connector (its `kind` already checked). */
export function s3Problems(o: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const k of Object.keys(o))
    if (!S3_KEYS.includes(k)) problems.push(`connector.${k}: unknown (one of ${S3_KEYS.join(', ')})`);
  if (o['region'] !== undefined && (typeof o['region'] !== 'string' || !/^[a-z0-9-]{1,50}$/.test(o['region'])))
    problems.push('connector.region: a region name (us-east-1)');
  if (o['endpoint'] !== undefined) problems.push(...httpUrlProblem(o['endpoint'], 'connector.endpoint'));
  if (o['forcePathStyle'] !== undefined && typeof o['forcePathStyle'] !== 'boolean')
    problems.push('connector.forcePathStyle: true or false');
  for (const k of ['accessKeyId', 'secretAccessKey', 'sessionToken'])
    problems.push(...secretProblems(o[k], `connector.${k}`));
  if ((o['accessKeyId'] === undefined) !== (o['secretAccessKey'] === undefined))
    problems.push('connector: give both accessKeyId and secretAccessKey (or neither: the AWS default chain)');
  if (o['changed'] !== undefined && !['load', 'ignore'].includes(o['changed'] as string))
    problems.push('connector.changed: load or ignore');
  return problems;
}

function authProblems(a: unknown): string[] {
  const p = 'connector.auth';
  if (!isObject(a)) return [`${p}: expected an object`];
  const keys: Record<string, string[]> = {
    bearer: ['type', 'token'],
    basic: ['type', 'username', 'password'],
    header: ['type', 'name', 'value'],
    oauth2: ['type', 'tokenUrl', 'clientId', 'clientSecret', 'scope'],
  };
  const allowed = keys[a['type'] as string];
  if (!allowed) return [`${p}.type: one of ${Object.keys(keys).join(', ')}`];
  const problems: string[] = [];
  for (const k of Object.keys(a))
    if (!allowed.includes(k)) problems.push(`${p}.${k}: unknown (one of ${allowed.join(', ')})`);
  const required = (k: string) => {
    if (a[k] === undefined) problems.push(`${p}.${k}: required`);
  };
  const secret = (k: string) => {
    required(k);
    problems.push(...secretProblems(a[k], `${p}.${k}`));
  };
  const plainOrSecret = (k: string) => {
    required(k);
    if (typeof a[k] !== 'string') problems.push(...secretProblems(a[k], `${p}.${k}`));
  };
  switch (a['type']) {
    case 'bearer':
      secret('token');
      break;
    case 'basic':
      plainOrSecret('username');
      secret('password');
      break;
    case 'header':
      if (typeof a['name'] !== 'string' || !HEADER.test(a['name'])) problems.push(`${p}.name: a header name`);
      secret('value');
      break;
    case 'oauth2':
      problems.push(...httpUrlProblem(a['tokenUrl'], `${p}.tokenUrl`));
      plainOrSecret('clientId');
      secret('clientSecret');
      if (a['scope'] !== undefined && typeof a['scope'] !== 'string') problems.push(`${p}.scope: a string`);
      break;
  }
  return problems;
}

function paginationProblems(g: unknown): string[] {
  const p = 'connector.pagination';
  if (!isObject(g)) return [`${p}: expected an object`];
  const keys: Record<string, string[]> = {
    cursor: ['type', 'cursorPath', 'param'],
    link: ['type'],
    next_url: ['type', 'nextPath'],
    page: ['type', 'param', 'start', 'sizeParam', 'size'],
    offset: ['type', 'offsetParam', 'limitParam', 'limit'],
  };
  const allowed = keys[g['type'] as string];
  if (!allowed) return [`${p}.type: one of ${Object.keys(keys).join(', ')}`];
  const problems: string[] = [];
  for (const k of Object.keys(g))
    if (!allowed.includes(k)) problems.push(`${p}.${k}: unknown (one of ${allowed.join(', ')})`);
  const path = (k: string) => {
    if (typeof g[k] !== 'string' || !PATH.test(g[k] as string)) problems.push(`${p}.${k}: a field path (meta.next)`);
  };
  const param = (k: string, optional = false) => {
    if (optional && g[k] === undefined) return;
    if (typeof g[k] !== 'string' || !PARAM.test(g[k] as string)) problems.push(`${p}.${k}: a parameter name`);
  };
  const int = (k: string, min: number, optional = true) => {
    if (optional && g[k] === undefined) return;
    if (!Number.isInteger(g[k]) || (g[k] as number) < min || (g[k] as number) > 1_000_000)
      problems.push(`${p}.${k}: an integer ${min}..1000000`);
  };
  switch (g['type']) {
    case 'cursor':
      path('cursorPath');
      param('param');
      break;
    case 'next_url':
      path('nextPath');
      break;
    case 'page':
      param('param');
      int('start', 0);
      param('sizeParam', true);
      int('size', 1);
      if (g['sizeParam'] !== undefined && g['size'] === undefined) problems.push(`${p}.size: required with sizeParam`);
      break;
    case 'offset':
      param('offsetParam');
      param('limitParam');
      int('limit', 1, false);
      break;
  }
  return problems;
}

function unnestProblems(u: unknown): string[] {
  const p = 'connector.unnest';
  if (!isObject(u)) return [`${p}: expected {"path": …} (the array of each record to read as rows)`];
  const problems: string[] = [];
  for (const k of Object.keys(u))
    if (!['path', 'parent', 'index'].includes(k)) problems.push(`${p}.${k}: unknown (one of path, parent, index)`);
  if (typeof u['path'] !== 'string' || !PATH.test(u['path'])) problems.push(`${p}.path: a field path (line_items)`);
  for (const k of ['parent', 'index'])
    if (u[k] !== undefined && (typeof u[k] !== 'string' || !FIELD.test(u[k] as string)))
      problems.push(`${p}.${k}: a field name (no dots)`);
  if ((u['parent'] ?? '_parent') === (u['index'] ?? '_index')) problems.push(`${p}: parent and index must differ`);
  return problems;
}

/** Every problem of an `http_json` connector (its `kind` already checked). */
export function httpJsonProblems(o: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const k of Object.keys(o))
    if (!HTTP_KEYS.includes(k)) problems.push(`connector.${k}: unknown (one of ${HTTP_KEYS.join(', ')})`);
  problems.push(...httpUrlProblem(o['url'], 'connector.url'));
  if (o['method'] !== undefined && !['GET', 'POST'].includes(o['method'] as string))
    problems.push('connector.method: GET or POST');
  if (o['body'] !== undefined) {
    if (!isObject(o['body'])) problems.push('connector.body: a JSON object');
    else if (o['method'] !== 'POST') problems.push('connector.body: only with method POST');
  }
  if (o['params'] !== undefined) {
    if (!isObject(o['params'])) problems.push('connector.params: an object of strings or {"env": …} references');
    else
      for (const [k, v] of Object.entries(o['params'])) {
        if (!PARAM.test(k)) problems.push(`connector.params.${k}: not a parameter name`);
        else if (typeof v === 'string') {
          if (SECRET_PARAM.test(k))
            problems.push(`connector.params.${k}: a secret is given as {"env": "VARIABLE"}, never in clear`);
        } else if (isObject(v)) problems.push(...secretProblems(v, `connector.params.${k}`));
        else problems.push(`connector.params.${k}: a string or {"env": "VARIABLE"}`);
      }
  }
  if (o['headers'] !== undefined) {
    if (!isObject(o['headers'])) problems.push('connector.headers: an object');
    else
      for (const [k, v] of Object.entries(o['headers'])) {
        if (!HEADER.test(k)) problems.push(`connector.headers.${k}: not a header name`);
        else if (/^(authorization|proxy-authorization|cookie|x-api-key)$/i.test(k) && typeof v === 'string')
          problems.push(`connector.headers.${k}: a secret is given as {"env": "VARIABLE"}, never in clear`);
        else if (typeof v !== 'string') problems.push(...secretProblems(v, `connector.headers.${k}`));
      }
  }
  if (o['auth'] !== undefined) problems.push(...authProblems(o['auth']));
  if (o['recordPath'] !== undefined && (typeof o['recordPath'] !== 'string' || !PATH.test(o['recordPath'])))
    problems.push('connector.recordPath: a field path (data.items)');
  if (o['pagination'] !== undefined) problems.push(...paginationProblems(o['pagination']));
  if (o['unnest'] !== undefined) problems.push(...unnestProblems(o['unnest']));
  if (o['incremental'] !== undefined) {
    const inc = o['incremental'];
    if (!isObject(inc)) problems.push('connector.incremental: expected {"param": …}');
    else {
      for (const k of Object.keys(inc))
        if (!['param', 'initial'].includes(k))
          problems.push(`connector.incremental.${k}: unknown (one of param, initial)`);
      if (typeof inc['param'] !== 'string' || !PARAM.test(inc['param']))
        problems.push('connector.incremental.param: a parameter name');
      if (inc['initial'] !== undefined && typeof inc['initial'] !== 'string')
        problems.push('connector.incremental.initial: a string');
    }
  }
  if (
    o['rateLimit'] !== undefined &&
    (typeof o['rateLimit'] !== 'number' || !(o['rateLimit'] > 0) || o['rateLimit'] > 10_000)
  )
    problems.push('connector.rateLimit: requests per second, above 0 and at most 10000');
  const int = (k: string, min: number, max: number) => {
    if (o[k] !== undefined && (!Number.isInteger(o[k]) || (o[k] as number) < min || (o[k] as number) > max))
      problems.push(`connector.${k}: an integer ${min}..${max}`);
  };
  int('retries', 0, 20);
  int('backoffMs', 1, 600_000);
  int('timeoutMs', 1, 3_600_000);
  int('maxPages', 1, 1_000_000);
  int('fetchSize', 1, 1_000_000);
  return problems;
}

/** One object of a store, as listed: what a run of it loads (that version: its ETag). */
export interface StoredObject {
  bucket: string;
  key: string;
  etag: string;
  size: number;
  versionId?: string;
}

/** `s3://bucket/prefix/` → its bucket and key (prefix), or null when it is not one. */
export function parseS3Url(url: string): { bucket: string; key: string } | null {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  return m ? { bucket: m[1], key: m[2] ?? '' } : null;
}

/** The value at `a.b.c` of an object, or undefined. */
export function valueAt(o: unknown, path: string): unknown {
  let v = o;
  for (const p of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}
