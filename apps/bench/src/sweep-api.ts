/* eslint-disable no-console -- a command-line report */
/**
 * `npm run sweep:api -- --requests 2000 --seed 1`: the hostile-input sweep. Starts the compiled
 * Weir API (api, scheduler and worker roles) on its own fresh database (TEST_DATABASE_URL /
 * DATABASE_URL, else an embedded PostgreSQL), seeds a few real resources (a dataset, a source
 * with a run, a suite, a pipeline, an OpenLineage event), then sends requests generated from
 * the OpenAPI document (`/docs-json`), every operation in turn:
 * wrong types, missing and extra fields, huge strings and bodies, deeply nested JSON, invalid
 * UTF-8, path traversal in path parameters and file names, SQL fragments in every
 * identifier-like field, cron expressions that never or always fire, regular expressions built
 * to backtrack catastrophically (contract `pattern`, regex expectations), keys with the wrong
 * role, revoked, malformed or absent.
 *
 * Phase 1 sends only requests meant to be refused, in chunks; a snapshot of every table's row
 * count (and a checksum of the catalog and of the data schemas' tables) is taken around each
 * chunk, and a change in a chunk where every mutating request was refused counts in
 * `changed_by_refused` (tables that change on their own, found by two snapshots with no request
 * between, are left out). Phase 2 sends valid requests on the seeded resources (reads, and the
 * backtracking pattern and regex expectation on real rows). Throughout, a loop asks `/health`
 * every 50 ms, and the API's RSS is read from /proc/<pid>/status.
 *
 * Pass: zero 5xx; every 4xx is problem+json with a stable code; changed_by_refused 0.
 * Last line: {"sweep":"api","requests":…,"status_2xx":…,"status_4xx":…,"status_5xx":0,
 * "non_problem_4xx":0,"changed_by_refused":0,"max_rss_mb":…,"health_p99_ms":…}
 * (`--verbose` prints every 5xx and non-problem 4xx with its request).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { Client } from 'pg';
import { freePort } from '@weir/platform';
import { arg, benchDatabase } from './support';

const REQUESTS = Number(arg('requests', '2000'));
const SEED = Number(arg('seed', '1'));
const VERBOSE = process.argv.includes('--verbose');
const CONCURRENCY = Number(arg('concurrency', '6'));
const CHUNK = 60;
const ADMIN = 'sweep-admin-key-0123456789abcdef';
const root = path.resolve(__dirname, '..', '..', '..');

// ---------------------------------------------------------------- random, deterministic by --seed
let state = SEED >>> 0 || 1;
const rnd = (): number => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 0x1_0000_0000;
};

const pct = (xs: number[], p: number): number => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

// ---------------------------------------------------------------- hostile values
const SQL = [
  `x'; DROP TABLE catalog.datasets; --`,
  `orders; DELETE FROM platform.api_keys`,
  `" OR 1=1 --`,
  `1) OR (1=1`,
  `name'||(SELECT pg_sleep(3))||'`,
  `raw"."orders`,
  `platform.api_keys`,
  `pg_catalog.pg_authid`,
  `a UNION SELECT key_hash FROM platform.api_keys`,
  `$$; SELECT 1; $$`,
];
const TRAVERSAL = [
  '../../../../etc/passwd',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '/etc/passwd',
  '....//....//etc/passwd',
  '..\\..\\windows\\win.ini',
  'inbox/../../../proc/self/environ',
];
const CRONS = ['* * * * * *', '0 0 30 2 *', '0 0 31 4 *', '61 * * * *', 'every day', '', '* * * * * * * *'];
const REGEXES = ['(a+)+$', '^(a|aa)+$', '(x+x+)+y', '^(([a-z])+.)+[A-Z]([a-z])+$', '(a|a?)+b', '(\\w+\\s?)+$'];
const WRONG_TYPES: unknown[] = [123, -1, 1e308, true, null, [], {}, 'string', [1, 'a', null], { $ne: 1 }];
const huge = (n: number) => 'a'.repeat(n);
/** `depth` levels of alternating arrays and objects, as JSON text (too deep for JSON.stringify). */
const nested = (depth: number): string => {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    open += i % 2 ? '{"a":' : '[';
    close = (i % 2 ? '}' : ']') + close;
  }
  return open + '1' + close;
};
const IDENT_KEYS =
  /^(name|dataset|column|columns|schema|source|suite|model|pipeline|project|table|node|nodeId|id|row_condition|rowCondition|custom_sql|customSql|sql|query|select|exclude|target|ref|key|namespace|job|cursor|orderBy|tieBreaker|partition|pool|step|steps|destination|path|file|inbox)$/i;

// ---------------------------------------------------------------- the OpenAPI document
type Json = Record<string, unknown>;
interface Operation {
  method: string;
  path: string;
  params: { name: string; in: string; required: boolean; schema?: Json }[];
  body?: Json; // JSON schema of the body
  bodyType?: string;
  summary: string;
}

function operations(doc: Json): Operation[] {
  const ops: Operation[] = [];
  const paths = doc['paths'] as Record<string, Record<string, Json>>;
  for (const [p, item] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const rb = op['requestBody'] as Json | undefined;
      const content = (rb?.['content'] ?? {}) as Record<string, Json>;
      const bodyType = Object.keys(content)[0];
      ops.push({
        method: method.toUpperCase(),
        path: p,
        params: ((op['parameters'] as Json[]) ?? []).map((x) => ({
          name: String(x['name']),
          in: String(x['in']),
          required: Boolean(x['required']),
          schema: x['schema'] as Json | undefined,
        })),
        body: bodyType ? (content[bodyType]['schema'] as Json | undefined) : undefined,
        bodyType,
        summary: String(op['summary'] ?? op['operationId'] ?? ''),
      });
    }
  }
  return ops;
}

function deref(doc: Json, s: Json | undefined, depth = 0): Json | undefined {
  if (!s || depth > 8) return s;
  const ref = s['$ref'];
  if (typeof ref === 'string') {
    const parts = ref.replace(/^#\//, '').split('/');
    let v: unknown = doc;
    for (const k of parts) v = (v as Json | undefined)?.[k];
    return deref(doc, v as Json, depth + 1);
  }
  if (Array.isArray(s['allOf'])) {
    const out: Json = { type: 'object', properties: {}, required: [] };
    for (const part of s['allOf'] as Json[]) {
      const d = deref(doc, part, depth + 1) ?? {};
      Object.assign(out['properties'] as Json, d['properties'] ?? {});
      (out['required'] as string[]).push(...((d['required'] as string[]) ?? []));
    }
    return out;
  }
  return s;
}

/** A plausible value for a schema (its example, first enum value, or a typed placeholder). */
function sample(doc: Json, s0: Json | undefined, depth = 0): unknown {
  const s = deref(doc, s0);
  if (!s || depth > 5) return 'x';
  if (s['example'] !== undefined) return s['example'];
  if (Array.isArray(s['enum'])) return s['enum'][0];
  if (Array.isArray(s['oneOf']) || Array.isArray(s['anyOf']))
    return sample(doc, ((s['oneOf'] ?? s['anyOf']) as Json[])[0], depth + 1);
  switch (s['type']) {
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [sample(doc, s['items'] as Json, depth + 1)];
    case 'object': {
      const out: Json = {};
      const props = (s['properties'] ?? {}) as Record<string, Json>;
      for (const [k, v] of Object.entries(props)) out[k] = sample(doc, v, depth + 1);
      return out;
    }
    default:
      return 'sweep_x';
  }
}

// ---------------------------------------------------------------- requests
interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string | (() => Buffer | string);
  kind: string; // what was mutated
  expectRefused: boolean;
}
interface Res {
  status: number;
  problem: boolean;
  code?: string;
  ms: number;
}

let BASE = '';
async function send(r: Req): Promise<Res> {
  const t0 = performance.now();
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 60_000);
  try {
    const res = await fetch(BASE + r.path, {
      method: r.method,
      headers: r.headers,
      body: typeof r.body === 'function' ? r.body() : r.body,
      signal: ctl.signal,
      redirect: 'manual',
    });
    const text = await res.text();
    const ct = res.headers.get('content-type') ?? '';
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as Json)['code'] as string | undefined;
    } catch {
      /* not JSON */
    }
    const problem =
      ct.startsWith('application/problem+json') && typeof code === 'string' && /^[A-Z_]+\.[A-Z_0-9]+$/.test(code);
    return { status: res.status, problem, code, ms: performance.now() - t0 };
  } catch (e) {
    // a reset connection or a timeout counts as a server failure
    return { status: 599, problem: false, code: `CLIENT:${(e as Error).message}`, ms: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

const auth = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });
/** A JSON request; a function for `body` builds it when sent (huge bodies are never all in memory). */
const json = (key: string | undefined, body: unknown): Pick<Req, 'headers' | 'body'> => ({
  headers: { ...(key ? auth(key) : {}), 'content-type': 'application/json' },
  body:
    typeof body === 'string' ? body : typeof body === 'function' ? () => JSON.stringify(body()) : JSON.stringify(body),
});

interface Ctx {
  doc: Json;
  keys: { admin: string; editor: string; viewer: string; revoked: string };
  ids: Record<string, string>; // path parameter name -> a real value
}

/** The path with its parameters: real values, or one hostile value for `hostile`. */
function fill(op: Operation, ctx: Ctx, hostile?: { name: string; value: string }): string {
  let p = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    if (hostile && hostile.name === name) return hostile.value;
    return encodeURIComponent(ctx.ids[name] ?? ctx.ids['*'] ?? 'sweep_x');
  });
  const q = op.params.filter((x) => x.in === 'query' && x.required);
  if (q.length) p += '?' + q.map((x) => `${x.name}=${encodeURIComponent(String(sample(ctx.doc, x.schema)))}`).join('&');
  return p;
}

/** Hostile variants of one operation (each meant to be refused, or at least never to fail the server). */
function hostile(op: Operation, ctx: Ctx): Req[] {
  const out: Req[] = [];
  const admin = ctx.keys.admin;
  const mutating = op.method !== 'GET';
  const base = op.body ? (sample(ctx.doc, op.body) as Json) : undefined;
  const push = (kind: string, path0: string, h: Pick<Req, 'headers' | 'body'>, expectRefused = true) =>
    out.push({ method: op.method, path: path0, kind, expectRefused, ...h });
  const url = fill(op, ctx);
  const isJson = op.bodyType === 'application/json';

  // keys: none, malformed, revoked, wrong role (viewer on a mutation, editor on an admin route)
  const noKey = op.path.startsWith('/health') || op.path === '/metrics';
  if (!noKey) {
    push('key:none', url, { headers: {} });
    push('key:malformed', url, { headers: { authorization: 'Bearer ' + "'; DROP TABLE x; --" } });
    push('key:revoked', url, { headers: auth(ctx.keys.revoked) });
    push('key:basic', url, { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } });
  }
  if (mutating && !noKey) {
    push('key:viewer', url, isJson ? json(ctx.keys.viewer, base ?? {}) : { headers: auth(ctx.keys.viewer) });
    if (op.path.includes('/platform/'))
      push('key:editor', url, isJson ? json(ctx.keys.editor, base ?? {}) : { headers: auth(ctx.keys.editor) });
  }
  // path parameters: traversal, SQL, huge, invalid UTF-8 (percent-encoded), NUL
  for (const prm of op.params.filter((x) => x.in === 'path')) {
    for (const v of TRAVERSAL.slice(0, 3))
      push(`path:traversal:${prm.name}`, fill(op, ctx, { name: prm.name, value: v }), { headers: auth(admin) }, false);
    for (const v of SQL.slice(0, 4))
      push(
        `path:sql:${prm.name}`,
        fill(op, ctx, { name: prm.name, value: encodeURIComponent(v) }),
        { headers: auth(admin) },
        false,
      );
    push(
      `path:huge:${prm.name}`,
      fill(op, ctx, { name: prm.name, value: huge(6000) }),
      { headers: auth(admin) },
      false,
    );
    push(
      `path:utf8:${prm.name}`,
      fill(op, ctx, { name: prm.name, value: '%FF%FE%C0%AF' }),
      { headers: auth(admin) },
      false,
    );
    push(`path:nul:${prm.name}`, fill(op, ctx, { name: prm.name, value: 'a%00b' }), { headers: auth(admin) }, false);
  }
  // query parameters: wrong types, SQL, huge
  for (const prm of op.params.filter((x) => x.in === 'query')) {
    const sep = url.includes('?') ? '&' : '?';
    for (const v of [
      '-1',
      '1e309',
      'NaN',
      '%FF',
      'a%00',
      encodeURIComponent(SQL[0]),
      huge(5000),
      '[]',
      '99999999999999999999',
    ])
      push(`query:${prm.name}`, `${url}${sep}${prm.name}=${v}`, { headers: auth(admin) }, false);
  }
  if (!op.body) return out;
  const body = base ?? {};
  if (!isJson) {
    // uploads and archives: invalid bytes, huge, traversal file names in multipart
    push(
      'upload:garbage',
      url,
      {
        headers: { ...auth(admin), 'content-type': op.bodyType ?? 'application/octet-stream' },
        body: Buffer.from([0xff, 0xfe, 0, 1, 2, 0xc0, 0xaf]),
      },
      false,
    );
    for (const name of TRAVERSAL.slice(0, 3)) {
      const b = '----sweep' + Math.floor(rnd() * 1e9);
      const mp = `--${b}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/csv\r\n\r\nid\n1\n\r\n--${b}--\r\n`;
      push(
        'upload:traversal-name',
        url,
        { headers: { ...auth(admin), 'content-type': `multipart/form-data; boundary=${b}` }, body: mp },
        false,
      );
    }
    return out;
  }
  // bodies
  push('body:none', url, { headers: { ...auth(admin), 'content-type': 'application/json' } });
  push('body:empty-object', url, json(admin, {}));
  push('body:array', url, json(admin, [body]));
  push('body:scalar', url, json(admin, '42'));
  push('body:malformed', url, json(admin, '{"name": "x",'));
  push('body:text-plain', url, {
    headers: { ...auth(admin), 'content-type': 'text/plain' },
    body: JSON.stringify(body),
  });
  push('body:invalid-utf8', url, {
    headers: { ...auth(admin), 'content-type': 'application/json' },
    body: Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe, 0xc0, 0xaf]), Buffer.from('"}')]),
  });
  push('body:lone-surrogate', url, json(admin, '{"name":"\\ud800x"}'));
  push('body:nul', url, json(admin, { ...body, name: 'a\u0000b' }));
  push('body:deep', url, {
    ...json(admin, {}),
    body: () => JSON.stringify({ ...body, extra: 0 }).replace(/0}$/, nested(5000) + '}'),
  });
  push('body:deep-2', url, { ...json(admin, {}), body: () => '['.repeat(100_000) + ']'.repeat(100_000) });
  push(
    'body:huge',
    url,
    json(admin, () => ({ ...body, name: huge(3 * 1024 * 1024) })),
  );
  push(
    'body:extra',
    url,
    json(admin, { ...body, __proto__x: 1, constructor: { prototype: { polluted: 1 } }, extra_field: 'x' }),
  );
  push('body:proto', url, json(admin, '{"__proto__":{"polluted":true},"name":"x"}'));
  const keys = Object.keys(body);
  for (const k of keys) {
    const missing = { ...body };
    delete missing[k];
    push(`body:missing:${k}`, url, json(admin, { ...missing, extra_field: 1 }));
    for (const w of WRONG_TYPES.slice(0, 5))
      push(`body:type:${k}`, url, json(admin, { ...body, [k]: w, extra_field: 1 }));
    push(
      `body:huge-field:${k}`,
      url,
      json(admin, () => ({ ...body, [k]: huge(2 * 1024 * 1024), extra_field: 1 })),
    );
    if (IDENT_KEYS.test(k) || typeof body[k] === 'string')
      for (const v of SQL) push(`body:sql:${k}`, url, json(admin, { ...body, [k]: v, extra_field: 1 }));
    if (/path|file|inbox|location/i.test(k))
      for (const v of TRAVERSAL) push(`body:traversal:${k}`, url, json(admin, { ...body, [k]: v }), false);
  }
  return out;
}

/** Hostile bodies built by hand for the routes where one field matters (valid otherwise). */
function targeted(ctx: Ctx): Req[] {
  const a = ctx.keys.admin;
  const out: Req[] = [];
  const post = (kind: string, p: string, body: unknown, method = 'POST') =>
    out.push({ method, path: p, kind, expectRefused: false, ...json(a, body) });
  const col = (name: string, extra: Json = {}) => ({ name, type: 'text', nullable: true, ...extra });
  for (const v of SQL) {
    post('dataset:sql-name', '/api/catalog/datasets', { name: v, contract: { columns: [col('a')] } });
    post('dataset:sql-column', '/api/catalog/datasets', { name: 'sweep_sqlcol', contract: { columns: [col(v)] } });
    post('dataset:sql-schema', '/api/catalog/datasets', {
      name: 'sweep_sqlschema',
      schema: v,
      contract: { columns: [col('a')] },
    });
    post('dataset:sql-type', '/api/catalog/datasets', {
      name: 'sweep_sqltype',
      contract: { columns: [{ name: 'a', type: v }] },
    });
    post('source:sql-name', '/api/ingestion/sources', {
      name: v,
      dataset: ctx.ids['dataset'],
      format: 'csv',
      strategy: { kind: 'append' },
    });
    post('source:sql-dataset', '/api/ingestion/sources', {
      name: 'sweep_src_sql',
      dataset: v,
      format: 'csv',
      strategy: { kind: 'append' },
    });
    post('source:sql-cursor', '/api/ingestion/sources', {
      name: 'sweep_src_cur',
      dataset: ctx.ids['dataset'],
      format: 'csv',
      strategy: { kind: 'merge', orderBy: v },
    });
    post('suite:sql-name', '/api/quality/suites', {
      name: v,
      dataset: ctx.ids['dataset'],
      expectations: [{ type: 'expect_column_values_to_not_be_null', kwargs: { column: 'id' } }],
    });
    post('suite:sql-column', '/api/quality/suites', {
      name: 'sweep_suite_sqlcol',
      dataset: ctx.ids['dataset'],
      expectations: [{ type: 'expect_column_values_to_not_be_null', kwargs: { column: v } }],
    });
    post('suite:sql-row_condition', '/api/quality/suites', {
      name: 'sweep_suite_rc',
      dataset: ctx.ids['dataset'],
      expectations: [{ type: 'expect_column_values_to_not_be_null', kwargs: { column: 'id', row_condition: v } }],
    });
    post('suite:sql-custom', '/api/quality/suites', {
      name: 'sweep_suite_cs',
      dataset: ctx.ids['dataset'],
      expectations: [{ type: 'custom_sql', kwargs: { sql: v } }],
    });
    post('suite:sql-dataset', '/api/quality/suites', { name: 'sweep_suite_ds', dataset: v, expectations: [] });
    post('pipeline:sql-name', '/api/orchestration/pipelines', {
      name: v,
      steps: [{ id: 's', kind: 'sql', sql: 'select 1' }],
    });
    post('pipeline:sql-step', '/api/orchestration/pipelines', {
      name: 'sweep_pl_sql',
      steps: [{ id: v, kind: 'sql', sql: v }],
    });
    post('lineage:sql-parse', '/api/lineage/parse', { sql: v });
    post('lineage:sql-event', '/api/v1/lineage', {
      eventType: 'COMPLETE',
      eventTime: new Date().toISOString(),
      producer: 'sweep',
      run: { runId: '00000000-0000-4000-8000-000000000001' },
      job: { namespace: v, name: v },
      inputs: [{ namespace: v, name: v }],
      outputs: [],
    });
    out.push({
      method: 'GET',
      path: `/api/v1/lineage?nodeId=${encodeURIComponent('dataset:' + v)}&depth=3`,
      kind: 'lineage:sql-node',
      expectRefused: false,
      headers: auth(a),
    });
    out.push({
      method: 'GET',
      path: `/api/catalog/search?q=${encodeURIComponent(v)}`,
      kind: 'search:sql',
      expectRefused: false,
      headers: auth(a),
    });
  }
  post('dataset:huge-body', '/api/catalog/datasets', () => ({
    name: 'sweep_huge',
    contract: { columns: [col(huge(40 * 1024 * 1024))] },
  }));
  for (const c of CRONS) {
    post('source:cron', '/api/ingestion/sources', {
      name: 'sweep_src_cron',
      dataset: ctx.ids['dataset'],
      format: 'csv',
      strategy: { kind: 'append' },
      schedule: { cron: c },
    });
    post('pipeline:cron', '/api/orchestration/pipelines', {
      name: 'sweep_pl_cron',
      schedule: { cron: c },
      steps: [{ id: 's', kind: 'sql', sql: 'select 1' }],
    });
    post('source:cron-tz', '/api/ingestion/sources', {
      name: 'sweep_src_tz',
      dataset: ctx.ids['dataset'],
      format: 'csv',
      strategy: { kind: 'append' },
      schedule: { cron: '0 * * * *', timezone: '../../etc/passwd' },
    });
  }
  for (const r of REGEXES) {
    post('dataset:regex', '/api/catalog/datasets', {
      name: 'sweep_regex_' + Math.floor(rnd() * 1e6),
      contract: { columns: [col('a', { pattern: r })] },
    });
    post('suite:regex', '/api/quality/suites', {
      name: 'sweep_suite_regex_' + Math.floor(rnd() * 1e6),
      dataset: ctx.ids['dataset'],
      expectations: [{ type: 'expect_column_values_to_match_regex', kwargs: { column: 'status', regex: r } }],
    });
  }
  for (const v of TRAVERSAL) {
    post('run:traversal', `/api/ingestion/sources/${ctx.ids['source']}/runs`, { path: v });
    post('project:traversal', '/api/modeling/projects', { path: v });
    post('export:traversal', '/api/orchestration/pipelines', {
      name: 'sweep_pl_exp',
      steps: [{ id: 's', kind: 'export', dataset: ctx.ids['dataset'], target: v }],
    });
  }
  return out;
}

// ---------------------------------------------------------------- snapshot
interface Snapshot {
  [table: string]: string;
}
const DATA_HASHED = /^(catalog|raw|staging|marts|analytics|public)\./;
async function snapshot(c: Client): Promise<Snapshot> {
  const tables = (
    await c.query<{ t: string }>(
      `SELECT format('%I.%I', n.nspname, cl.relname) AS t FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace
        WHERE cl.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1`,
    )
  ).rows.map((r) => r.t);
  if (!tables.length) return {};
  const parts = tables.map((t) => {
    const plain = t.replace(/"/g, '');
    const hashed = DATA_HASHED.test(plain);
    return `SELECT '${t.replace(/'/g, "''")}' AS t, ${hashed ? `count(*)::text || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '')` : `count(*)::text`} AS v FROM ${t} x`;
  });
  const rows = (await c.query<{ t: string; v: string }>(parts.join(' UNION ALL '))).rows;
  return Object.fromEntries(rows.map((r) => [r.t, r.v]));
}
const diff = (a: Snapshot, b: Snapshot): string[] =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((t) => a[t] !== b[t]);

// ---------------------------------------------------------------- the API
async function startApi(url: string, port: number, work: string): Promise<ChildProcess> {
  execFileSync(process.execPath, [path.join(root, 'tools/build.js'), '--quiet'], { stdio: 'inherit' });
  fs.mkdirSync(path.join(work, 'data', 'inbox'), { recursive: true });
  fs.mkdirSync(path.join(work, 'data', 'projects'), { recursive: true });
  const log = fs.openSync(path.join(work, 'api.log'), 'a');
  const child = spawn(process.execPath, [path.join(root, 'dist/apps/api/src/main.js')], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      PORT: String(port),
      HOST: '127.0.0.1',
      WEIR_ADMIN_API_KEY: ADMIN,
      // thousands of requests on three keys: the per-key rate limit would answer most of them 429
      WEIR_RATE_LIMIT_PER_MINUTE: '0',
      WEIR_LOG_LEVEL: 'warn',
      WEIR_DATA_DIR: path.join(work, 'data'),
      WEIR_MIGRATE: 'auto',
    },
    stdio: ['ignore', log, log],
  });
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return child;
    } catch {
      /* not yet */
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`the API did not become healthy within 60 s (log: ${path.join(work, 'api.log')})`);
}

const rssMb = (pid: number): number => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
};

async function call(method: string, p: string, key: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(BASE + p, {
    method,
    headers: { ...auth(key), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let b: Json = {};
  try {
    b = JSON.parse(text) as Json;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: b };
}
async function must(method: string, p: string, key: string, body?: unknown): Promise<Json> {
  const r = await call(method, p, key, body);
  if (r.status >= 300) throw new Error(`seed ${method} ${p}: ${r.status} ${JSON.stringify(r.body).slice(0, 400)}`);
  return r.body;
}

async function seed(): Promise<Ctx['keys'] & { ids: Record<string, string> }> {
  const key = async (role: string) =>
    String((await must('POST', '/api/platform/api-keys', ADMIN, { name: `sweep_${role}`, role }))['key']);
  const editor = await key('editor');
  const viewer = await key('viewer');
  const rk = await must('POST', '/api/platform/api-keys', ADMIN, { name: 'sweep_revoked', role: 'admin' });
  await must('DELETE', `/api/platform/api-keys/${String(rk['id'])}`, ADMIN);
  const ids: Record<string, string> = {};
  await must('POST', '/api/catalog/datasets', ADMIN, {
    name: 'sweep_orders',
    contract: {
      columns: [
        { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
        { name: 'status', type: 'text', nullable: false, pattern: '^(a+)+$' },
      ],
    },
  });
  ids['dataset'] = ids['name'] = 'sweep_orders';
  await must('POST', '/api/ingestion/sources', ADMIN, {
    name: 'sweep_orders_csv',
    dataset: 'sweep_orders',
    format: 'csv',
    strategy: { kind: 'merge' },
  });
  ids['source'] = 'sweep_orders_csv';
  const up = await fetch(`${BASE}/api/ingestion/sources/sweep_orders_csv/uploads`, {
    method: 'POST',
    headers: { ...auth(ADMIN), 'content-type': 'text/csv' },
    body: `id,status\n1,aaaa\n2,${'a'.repeat(40)}!\n3,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n`,
  });
  const run = (await up.json()) as Json;
  ids['run'] = ids['runId'] = String(run['id']);
  await must('POST', '/api/quality/suites', ADMIN, {
    name: 'sweep_suite',
    dataset: 'sweep_orders',
    expectations: [
      { type: 'expect_column_values_to_not_be_null', kwargs: { column: 'id' } },
      { type: 'expect_column_values_to_match_regex', kwargs: { column: 'status', regex: '^(a|aa)+$' } },
    ],
  });
  ids['suite'] = 'sweep_suite';
  await must('POST', '/api/orchestration/pipelines', ADMIN, {
    name: 'sweep_pipeline',
    steps: [{ id: 'one', kind: 'sql', sql: 'select 1' }],
  });
  ids['pipeline'] = 'sweep_pipeline';
  return { admin: ADMIN, editor, viewer, revoked: String(rk['key']), ids };
}

// ---------------------------------------------------------------- main
async function main(): Promise<void> {
  const db = await benchDatabase('weir_sweep');
  const { work, url, client: c } = db;
  let api: ChildProcess | undefined;
  let failed = false;
  try {
    const port = await freePort();
    BASE = `http://127.0.0.1:${port}`;
    api = await startApi(url, port, work);
    const pid = api.pid as number;
    const docRes = await fetch(`${BASE}/docs-json`);
    const doc = (await docRes.json()) as Json;
    const ops = operations(doc);
    const s = await seed();
    const ctx: Ctx = { doc, keys: s, ids: { ...s.ids } };
    console.log(
      `sweep api: ${ops.length} operations in the OpenAPI document, seeded dataset, source, run, suite, pipeline`,
    );

    // the health loop (in its own thread: the sweep's own work never delays it) and the memory probe, throughout
    const healthWorker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       let stop = false;
       parentPort.on('message', () => { stop = true; });
       (async () => {
         const out = [];
         while (!stop) {
           const t0 = performance.now();
           try { const r = await fetch(workerData + '/health', { signal: AbortSignal.timeout(5000) }); await r.text(); } catch {}
           out.push(performance.now() - t0);
           await new Promise((r) => setTimeout(r, 50));
         }
         parentPort.postMessage(out);
       })();`,
      { eval: true, workerData: BASE },
    );
    const healthDone = new Promise<number[]>((r) => healthWorker.once('message', r));
    let maxRss = rssMb(pid);
    const rssTimer = setInterval(() => (maxRss = Math.max(maxRss, rssMb(pid))), 100);

    // the request pool: every operation's hostile variants, the targeted ones, shuffled, cycled to --requests
    // every operation's hostile variants (and the targeted ones, split into their kinds as groups), each
    // group shuffled, then taken round-robin: the first requests already reach every operation
    const shuffle = <T>(xs: T[]): T[] => {
      for (let i = xs.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [xs[i], xs[j]] = [xs[j], xs[i]];
      }
      return xs;
    };
    const groups: Req[][] = ops.map((op) => shuffle(hostile(op, ctx))).filter((g) => g.length);
    const byKind = new Map<string, Req[]>();
    for (const r of targeted(ctx)) byKind.set(r.kind, [...(byKind.get(r.kind) ?? []), r]);
    groups.push(...[...byKind.values()].map(shuffle));
    shuffle(groups);
    const pool: Req[] = [];
    for (let round = 0; pool.length < groups.reduce((n, g) => n + g.length, 0); round++)
      for (const g of groups) if (round < g.length) pool.push(g[round]);
    const reqs: Req[] = [];
    for (let i = 0; reqs.length < REQUESTS; i++) reqs.push(pool[i % pool.length]);
    console.log(
      `  ${pool.length} distinct hostile requests in ${groups.length} groups (operations and targeted kinds)`,
    );
    const phase2Share = Math.max(20, Math.floor(REQUESTS * 0.1));
    const phase1 = reqs.slice(0, REQUESTS - phase2Share);

    const counts = { requests: 0, s2: 0, s3: 0, s4: 0, s5: 0, nonProblem: 0 };
    const bad: string[] = [];
    const slow: string[] = [];
    const record = (r: Req, res: Res) => {
      counts.requests++;
      if (res.status >= 500) counts.s5++;
      else if (res.status >= 400) counts.s4++;
      else if (res.status >= 300) counts.s3++;
      else counts.s2++;
      const wrong = res.status >= 500 || (res.status >= 400 && !res.problem);
      if (res.status >= 400 && res.status < 500 && !res.problem) counts.nonProblem++;
      if (res.ms > 1000)
        slow.push(`${Math.round(res.ms)} ms ${res.status} ${r.kind} ${r.method} ${r.path.slice(0, 100)}`);
      if (wrong) bad.push(`${res.status} ${res.code ?? '-'} ${r.kind} ${r.method} ${r.path.slice(0, 160)}`);
    };
    const runAll = async (batch: Req[]): Promise<Res[]> => {
      const out: Res[] = new Array<Res>(batch.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < batch.length) {
            const i = next++;
            out[i] = await send(batch[i]);
            record(batch[i], out[i]);
          }
        }),
      );
      return out;
    };

    // tables that change on their own (workers, heartbeats): two snapshots with nothing sent between
    const a0 = await snapshot(c);
    await new Promise((r) => setTimeout(r, 3000));
    const a1 = await snapshot(c);
    // the audit log records every request, refused ones included: its rows are the point, not a change
    const volatile = new Set([...diff(a0, a1), 'platform.audit_log']);
    // phase 1: hostile requests, in chunks; a chunk whose mutating requests were all refused must change nothing
    let changedByRefused = 0;
    const changedTables = new Set<string>();
    let before = a1;
    const t0 = performance.now();
    const accepted: string[] = [];
    for (let i = 0; i < phase1.length; i += CHUNK) {
      const chunk = phase1.slice(i, i + CHUNK);
      const res = await runAll(chunk);
      const took = chunk.filter((r, k) => r.method !== 'GET' && res[k].status < 400);
      accepted.push(...took.map((r) => `${r.kind} ${r.method} ${r.path.slice(0, 80)}`));
      if (!took.length) {
        await new Promise((r) => setTimeout(r, 200)); // what a worker would do in reaction, done
        const after = await snapshot(c);
        for (const t of diff(before, after)) {
          if (volatile.has(t)) continue;
          changedByRefused++;
          changedTables.add(t);
        }
        before = after;
      } else {
        // an accepted request's effects go on after its answer (workers apply events, schedules tick):
        // wait until two snapshots agree; tables that keep changing (an accepted schedule) join the volatile ones
        let prev = await snapshot(c);
        for (let k = 0; ; k++) {
          await new Promise((r) => setTimeout(r, 700));
          const next = await snapshot(c);
          const moving = diff(prev, next).filter((t) => !volatile.has(t));
          prev = next;
          if (!moving.length) break;
          if (k >= 8) for (const t of moving) volatile.add(t);
        }
        before = prev;
      }
    }
    // phase 2: valid requests on the seeded resources
    const valid: Req[] = [];
    const get = (p: string, kind = 'valid:get') =>
      valid.push({ method: 'GET', path: p, headers: auth(ctx.keys.viewer), kind, expectRefused: false });
    for (const op of ops.filter((o) => o.method === 'GET' && !o.path.includes('{'))) get(op.path);
    for (const op of ops.filter((o) => o.method === 'GET' && o.path.includes('{'))) get(fill(op, ctx));
    valid.push({
      method: 'POST',
      path: `/api/quality/suites/sweep_suite/runs`,
      kind: 'valid:regex-suite-run',
      expectRefused: false,
      ...json(ctx.keys.editor, {}),
    });
    for (let k = 0; valid.length < phase2Share; k++) {
      valid.push({ ...valid[k % valid.length] });
    }
    await runAll(valid.slice(0, phase2Share));
    const seconds = (performance.now() - t0) / 1000;
    healthWorker.postMessage('stop');
    const health = await healthDone;
    await healthWorker.terminate();
    clearInterval(rssTimer);
    const healthSlow = health.filter((x) => x > 100).length;
    maxRss = Math.max(maxRss, rssMb(pid));
    if (api.exitCode !== null) bad.push(`the API exited with ${api.exitCode}`);

    const show = VERBOSE
      ? bad
      : [...new Set(bad.map((b) => b.replace(/ (GET|POST|PUT|PATCH|DELETE) .*/, ' $1')))].slice(0, 40);
    for (const b of show) console.log(`  ${b}`);
    if (VERBOSE) for (const x of slow) console.log(`  slow: ${x}`);
    if (VERBOSE) for (const x of [...new Set(accepted)]) console.log(`  accepted (phase 1): ${x}`);
    if (VERBOSE) console.log(`  volatile: ${[...volatile].join(', ')}`);
    if (changedTables.size) console.log(`  changed by refused requests: ${[...changedTables].join(', ')}`);
    console.log(
      `  ${counts.requests} requests in ${seconds.toFixed(1)} s; /health p50 ${pct(health, 50).toFixed(1)} ms, p99 ${pct(health, 99).toFixed(1)} ms, max ${Math.max(...health).toFixed(1)} ms, over 100 ms: ${healthSlow}/${health.length}; ${volatile.size} volatile table(s) left out`,
    );
    const out = {
      sweep: 'api',
      requests: counts.requests,
      status_2xx: counts.s2,
      status_4xx: counts.s4,
      status_5xx: counts.s5,
      non_problem_4xx: counts.nonProblem,
      changed_by_refused: changedByRefused,
      max_rss_mb: Math.round(maxRss),
      health_p99_ms: Number(pct(health, 99).toFixed(1)),
    };
    failed = counts.s5 > 0 || counts.nonProblem > 0 || changedByRefused > 0 || api.exitCode !== null;
    console.log(JSON.stringify(out));
  } finally {
    if (api && api.exitCode === null) {
      api.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          api?.kill('SIGKILL');
          r(undefined);
        }, 10_000);
        api?.once('exit', () => {
          clearTimeout(t);
          r(undefined);
        });
      });
    }
    if (process.argv.includes('--keep-log')) fs.copyFileSync(path.join(work, 'api.log'), '/tmp/sweep-api.log');
    await db.close();
  }
  if (failed) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
