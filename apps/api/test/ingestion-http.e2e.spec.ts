import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Client } from 'pg';
import { RunsService } from '@weir/ingestion';
import { registerSensitive } from '@weir/platform/testing';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, until } from './support/files';

/**
 * `http_json` sources end to end against a local HTTP server the test starts: cursor, Link, page
 * and offset pagination; bearer, basic and OAuth2 client credentials from environment references;
 * nested fields by `from` paths, arrays and objects kept as jsonb, arrays unnested into a child
 * dataset; an API key in the query string from an environment reference; incremental by a cursor parameter (the
 * checkpoint); flaky (503/429 with Retry-After), rate-limited, slow, malformed and drifting APIs;
 * a page cap; and a run SIGKILLed mid-batch resumed from the stored checkpoint.
 */
const ROOT = path.resolve(__dirname, '../../..');
const T0 = Date.UTC(2026, 0, 1);
const TOKEN = 'tok-s3cr3t-value';

const contract = {
  columns: [
    { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
    { name: 'city', type: 'text', nullable: true },
    { name: 'tags', type: 'jsonb', nullable: true },
    { name: 'updated_at', type: 'timestamptz', nullable: false },
  ],
};
const mapping = { city: { from: 'customer.address.city' } };

interface Rec {
  id: number;
  customer: { address: { city: string } };
  tags: string[];
  updated_at: string;
  extra?: string;
}
const rec = (i: number): Rec => ({
  id: i,
  customer: { address: { city: `c${i}` } },
  tags: [`t${i}`, 'x'],
  updated_at: new Date(T0 + i * 1000).toISOString(),
});

describe('ingestion from HTTP JSON APIs e2e', () => {
  let t: TestApp;
  let pg: Client;
  let close: () => Promise<void>;
  let server: http.Server;
  let base: string;
  let data: Rec[] = [];
  const hits: Record<string, number[]> = {};
  let flakyFailures = 0;
  let slowPageMs = 0;
  let orders: Record<string, unknown>[] = [];
  const keysSeen: string[] = [];
  const tag = randomUUID().slice(0, 8).toUpperCase();
  const TOKEN_ENV = `API_TOKEN_${tag}`;
  const PASS_ENV = `API_PASS_${tag}`;
  const CLIENT_SECRET_ENV = `API_CLIENT_SECRET_${tag}`;
  const KEY_ENV = `API_KEY_${tag}`;
  /** An API key taken in the query string: characters a query string encodes (space, /, +, =). */
  const API_KEY = 'k3y s3cr3t/+=v4lue';

  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

  beforeAll(async () => {
    ({ t, pg, close } = await startIngestionApp());
    process.env[TOKEN_ENV] = TOKEN;
    process.env[PASS_ENV] = 'pw-secret';
    process.env[CLIENT_SECRET_ENV] = 'client-secret';
    process.env[KEY_ENV] = API_KEY;
    // none of them may reach a log line of the test run (checked when it ends)
    registerSensitive('secret', {
      [TOKEN_ENV]: TOKEN,
      [PASS_ENV]: 'pw-secret',
      [CLIENT_SECRET_ENV]: 'client-secret',
      [KEY_ENV]: API_KEY,
    });
    server = http.createServer((req, res) => {
      const u = new URL(req.url!, 'http://x');
      (hits[u.pathname] ??= []).push(Date.now());
      const since = u.searchParams.get('updated_since');
      const rows = data.filter((r) => !since || Date.parse(r.updated_at) > Date.parse(since));
      const auth = req.headers['authorization'] ?? '';
      switch (u.pathname) {
        case '/items': {
          // cursor pagination, bearer auth, incremental parameter, records under data.items
          if (auth !== `Bearer ${TOKEN}`) return json(res, 401, { error: 'unauthorized' });
          const from = Number(u.searchParams.get('cursor') ?? 0);
          const page = rows.filter((r) => r.id > from).slice(0, 3);
          const next = page.length === 3 ? String(page[2].id) : null;
          return setTimeout(() => json(res, 200, { data: { items: page }, meta: { next_cursor: next } }), slowPageMs);
        }
        case '/link': {
          if (auth !== `Basic ${Buffer.from('weir:pw-secret').toString('base64')}`) return json(res, 403, {});
          const p = Number(u.searchParams.get('p') ?? 1);
          const page = rows.slice((p - 1) * 4, p * 4);
          const headers: Record<string, string> =
            p * 4 < rows.length ? { link: `</link?p=${p + 1}>; rel="next", </link?p=1>; rel="first"` } : {};
          return json(res, 200, page, headers);
        }
        case '/pages': {
          const p = Number(u.searchParams.get('page'));
          const n = Number(u.searchParams.get('per_page'));
          return json(res, 200, { results: rows.slice((p - 1) * n, p * n) });
        }
        case '/offset': {
          const o = Number(u.searchParams.get('offset'));
          const l = Number(u.searchParams.get('limit'));
          return json(res, 200, { results: rows.slice(o, o + l) });
        }
        case '/flaky': {
          // every page fails twice first: a 503 with Retry-After: 0, then a 429 with Retry-After: 1
          if (flakyFailures % 3 === 0) {
            flakyFailures++;
            return json(res, 503, {}, { 'retry-after': '0' });
          }
          if (flakyFailures % 3 === 1) {
            flakyFailures++;
            return json(res, 429, {}, { 'retry-after': '1' });
          }
          flakyFailures++;
          const o = Number(u.searchParams.get('offset'));
          return json(res, 200, { results: rows.slice(o, o + 5) });
        }
        case '/slow':
          return setTimeout(() => json(res, 200, []), 2000);
        case '/malformed':
          return json(res, 200, '{"results": [{"id": 1}, ');
        case '/oauth/token': {
          const ok = auth === `Basic ${Buffer.from('weir-client:client-secret').toString('base64')}`;
          return ok ? json(res, 200, { access_token: 'oauth-access', expires_in: 3600 }) : json(res, 401, {});
        }
        case '/orders': {
          // orders with their line items, 2 a page (page number pagination)
          const p = Number(u.searchParams.get('page'));
          return json(res, 200, { orders: orders.slice((p - 1) * 2, p * 2) });
        }
        case '/keyed': {
          // an API key in the query string; a wrong one is echoed back, with the request's URL
          const key = u.searchParams.get('api_key') ?? '';
          keysSeen.push(key);
          if (key !== API_KEY) return json(res, 401, { error: `invalid api_key ${key}` });
          if (u.searchParams.get('mode') === 'echo') return json(res, 400, { error: `bad request ${req.url}` });
          if (u.searchParams.get('mode') === 'garbage') return json(res, 200, `not json ${req.url}`);
          return json(res, 200, rows.slice(0, 3));
        }
        case '/secure':
          return auth === 'Bearer oauth-access' ? json(res, 200, rows.slice(0, 2)) : json(res, 401, {});
        default:
          return json(res, 404, {});
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const v of [TOKEN_ENV, PASS_ENV, CLIENT_SECRET_ENV, KEY_ENV]) delete process.env[v];
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await close?.();
  });

  let n = 0;
  async function source(
    connector: Record<string, unknown>,
    strategy: Record<string, unknown> = { kind: 'merge' },
    extra: Record<string, unknown> = {},
  ) {
    n++;
    const ds = `api_${n}`;
    await t.http.post('/api/catalog/datasets').set(admin).send({ name: ds, contract }).expect(201);
    const res = await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({ name: `${ds}_src`, dataset: ds, connector, strategy, mapping, maxRejectedRatio: 1, ...extra })
      .expect(201);
    return { ds, id: res.body.id as string, body: res.body };
  }
  async function run(sourceId: string) {
    const queued = await t.http.post(`/api/ingestion/sources/${sourceId}/runs`).set(admin).send({}).expect(202);
    return t.app.get(RunsService).waitFor(queued.body.id, 60_000);
  }
  const rows = async (ds: string) =>
    (await pg.query(`SELECT id::int, city, tags FROM raw.${ds} ORDER BY id`)).rows as {
      id: number;
      city: string;
      tags: string[];
    }[];

  it('validates the connector: every problem with its path; secrets only as env references', async () => {
    await t.http.post('/api/catalog/datasets').set(admin).send({ name: 'api_bad', contract }).expect(201);
    const bad = await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({
        name: 'api_bad_src',
        dataset: 'api_bad',
        connector: {
          kind: 'http_json',
          url: 'ftp://x',
          auth: { type: 'bearer', token: 'clear-token' },
          headers: { Authorization: 'Bearer clear-token' },
          pagination: { type: 'cursor' },
          rateLimit: 0,
        },
        strategy: { kind: 'append' },
      })
      .expect(400);
    const text = JSON.stringify(bad.body);
    expect(text).not.toContain('clear-token');
    for (const p of [
      'connector.url',
      'connector.auth.token',
      'connector.headers.Authorization',
      'connector.pagination.cursorPath',
      'connector.pagination.param',
      'connector.rateLimit',
    ])
      expect(text).toContain(p);
  });

  it('cursor pagination with bearer auth; nested fields by from paths, arrays as jsonb; incremental by the checkpoint; idempotent re-run', async () => {
    data = Array.from({ length: 8 }, (_, i) => rec(i + 1));
    const s = await source(
      {
        kind: 'http_json',
        url: `${base}/items`,
        auth: { type: 'bearer', token: { env: TOKEN_ENV } },
        recordPath: 'data.items',
        pagination: { type: 'cursor', cursorPath: 'meta.next_cursor', param: 'cursor' },
        incremental: { param: 'updated_since' },
      },
      { kind: 'incremental', cursor: 'updated_at' },
    );
    expect(s.body.connector.auth).toEqual({ type: 'bearer', token: { env: TOKEN_ENV } });
    const r1 = await run(s.id);
    expect(r1).toMatchObject({ status: 'succeeded', rowsRead: 8, rowsLoaded: 8, rowsRejected: 0 });
    expect((await rows(s.ds))[0]).toEqual({ id: 1, city: 'c1', tags: ['t1', 'x'] });
    const view = (await t.http.get(`/api/ingestion/sources/${s.id}`).set(admin).expect(200)).body;
    expect(view.watermark).toMatch(/^2026-01-01 00:00:08/);
    hits['/items'] = [];
    // nothing new: the API is asked past the checkpoint, nothing loaded
    const r2 = await run(s.id);
    expect(r2).toMatchObject({ status: 'succeeded', rowsRead: 0, rowsLoaded: 0 });
    expect(hits['/items']).toHaveLength(1); // the checkpoint sent as ISO 8601: one empty page
    data.push(rec(9), rec(10));
    const r3 = await run(s.id);
    expect(r3).toMatchObject({ status: 'succeeded', rowsRead: 2, rowsLoaded: 2 });
    expect((await rows(s.ds)).map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // a wrong token: the API's 401 as a clear error, the token never shown
    process.env[TOKEN_ENV] = 'wrong';
    const denied = await run(s.id);
    process.env[TOKEN_ENV] = TOKEN;
    expect(denied).toMatchObject({ status: 'failed', error: { code: 'INGESTION.SOURCE_ACCESS_DENIED' } });
    expect(JSON.stringify(denied.error)).not.toContain('wrong');
  });

  it('Link header pagination with basic auth; page number and offset/limit pagination', async () => {
    data = Array.from({ length: 10 }, (_, i) => rec(i + 1));
    const link = await source({
      kind: 'http_json',
      url: `${base}/link`,
      auth: { type: 'basic', username: 'weir', password: { env: PASS_ENV } },
      pagination: { type: 'link' },
    });
    expect(await run(link.id)).toMatchObject({ status: 'succeeded', rowsRead: 10, rowsLoaded: 10 });
    const pages = await source({
      kind: 'http_json',
      url: `${base}/pages`,
      recordPath: 'results',
      pagination: { type: 'page', param: 'page', sizeParam: 'per_page', size: 3 },
    });
    expect(await run(pages.id)).toMatchObject({ status: 'succeeded', rowsRead: 10, rowsLoaded: 10 });
    const offset = await source({
      kind: 'http_json',
      url: `${base}/offset`,
      recordPath: 'results',
      pagination: { type: 'offset', offsetParam: 'offset', limitParam: 'limit', limit: 5 },
    });
    expect(await run(offset.id)).toMatchObject({ status: 'succeeded', rowsRead: 10, rowsLoaded: 10 });
    expect((await rows(offset.ds)).map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('OAuth2 client credentials; a flaky API retried (503, 429 honouring Retry-After); a rate limit', async () => {
    data = Array.from({ length: 10 }, (_, i) => rec(i + 1));
    const o = await source({
      kind: 'http_json',
      url: `${base}/secure`,
      auth: {
        type: 'oauth2',
        tokenUrl: `${base}/oauth/token`,
        clientId: 'weir-client',
        clientSecret: { env: CLIENT_SECRET_ENV },
      },
    });
    expect(await run(o.id)).toMatchObject({ status: 'succeeded', rowsLoaded: 2 });
    const f = await source({
      kind: 'http_json',
      url: `${base}/flaky`,
      recordPath: 'results',
      pagination: { type: 'offset', offsetParam: 'offset', limitParam: 'limit', limit: 5 },
      backoffMs: 10,
      rateLimit: 20,
    });
    hits['/flaky'] = [];
    const r = await run(f.id);
    expect(r).toMatchObject({ status: 'succeeded', rowsRead: 10, rowsLoaded: 10 });
    // 3 pages (the last one empty), each after a 503 and a 429: 9 requests; each 429 waited its Retry-After (1 s)
    const h = hits['/flaky'];
    expect(h).toHaveLength(9);
    for (const i of [2, 5, 8]) expect(h[i] - h[i - 1]).toBeGreaterThanOrEqual(950);
    // and no two requests closer than the rate limit allows (20/s: 50 ms, less the clocks' granularity)
    for (let i = 1; i < h.length; i++) expect(h[i] - h[i - 1]).toBeGreaterThanOrEqual(40);
  });

  it('slow, malformed and capped APIs fail the run clearly with nothing published; a drifting one evolves the contract', async () => {
    const slow = await source({ kind: 'http_json', url: `${base}/slow`, timeoutMs: 200, retries: 1, backoffMs: 10 });
    const rs = await run(slow.id);
    expect(rs).toMatchObject({ status: 'failed', error: { code: 'INGESTION.SOURCE_HTTP_FAILED' } });
    expect(rs.error!.message).toMatch(/failed after 2 attempts: no answer within 200 ms/);
    const bad = await source({ kind: 'http_json', url: `${base}/malformed`, recordPath: 'results' });
    const rb = await run(bad.id);
    expect(rb).toMatchObject({ status: 'failed', error: { code: 'INGESTION.SOURCE_HTTP_FAILED' } });
    expect(rb.error!.message).toMatch(/page 1 is not JSON/);
    data = Array.from({ length: 10 }, (_, i) => rec(i + 1));
    const capped = await source({
      kind: 'http_json',
      url: `${base}/pages`,
      recordPath: 'results',
      pagination: { type: 'page', param: 'page', sizeParam: 'per_page', size: 2 },
      maxPages: 3,
    });
    const rc = await run(capped.id);
    expect(rc).toMatchObject({ status: 'failed', error: { code: 'INGESTION.SOURCE_HTTP_FAILED' } });
    expect(rc.error!.message).toMatch(/more than 3 pages/);
    const exists = (await pg.query(`SELECT to_regclass('raw.${capped.ds}') AS t`)).rows[0].t;
    if (exists) expect((await pg.query(`SELECT count(*)::int AS n FROM raw.${capped.ds}`)).rows[0].n).toBe(0);
    // schema drift: a new field appears; drift evolve adds the column
    const d = await source(
      {
        kind: 'http_json',
        url: `${base}/offset`,
        recordPath: 'results',
        pagination: { type: 'offset', offsetParam: 'offset', limitParam: 'limit', limit: 50 },
      },
      { kind: 'merge' },
      { drift: 'evolve' },
    );
    expect(await run(d.id)).toMatchObject({ status: 'succeeded', rowsLoaded: 10 });
    data = data.map((r) => ({ ...r, extra: `e${r.id}` }));
    expect(await run(d.id)).toMatchObject({ status: 'succeeded', rowsLoaded: 10 });
    expect((await pg.query(`SELECT extra FROM raw.${d.ds} WHERE id = 3`)).rows[0].extra).toBe('e3');
  });

  /** A dataset with its own contract and an http_json source of it. */
  async function sourceOf(name: string, columns: unknown[], body: Record<string, unknown>) {
    await t.http.post('/api/catalog/datasets').set(admin).send({ name, contract: { columns } }).expect(201);
    const res = await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({ name: `${name}_src`, dataset: name, strategy: { kind: 'merge' }, maxRejectedRatio: 1, ...body })
      .expect(201);
    return res.body.id as string;
  }

  it('arrays and objects kept as jsonb as they came; line items unnested into a child dataset (composite key), every row accounted for; idempotent re-run', async () => {
    const customer = (i: number) => ({ name: `n${i}`, address: { city: `c${i}` } });
    orders = [
      {
        id: 1,
        customer: customer(1),
        note: 'fragile',
        line_items: [
          { sku: 'A', qty: 1 },
          { sku: 'B', qty: 2, options: { gift: true, wrap: ['red', 'gold'] } },
        ],
      },
      { id: 2, customer: customer(2), note: '{"looks": "like json"}', line_items: [] },
      { id: 3, customer: customer(3), note: 12 },
      { id: 4, customer: customer(4), line_items: [{ sku: 'C', qty: 5 }] },
      { id: 5, customer: customer(5), line_items: 'oops' },
    ];
    const connector = {
      kind: 'http_json',
      url: `${base}/orders`,
      recordPath: 'orders',
      pagination: { type: 'page', param: 'page' },
    };
    const parent = await sourceOf(
      `orders_${tag.toLowerCase()}`,
      [
        { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
        { name: 'city', type: 'text', nullable: true },
        { name: 'address', type: 'jsonb', nullable: true },
        { name: 'customer', type: 'jsonb', nullable: true },
        { name: 'note', type: 'jsonb', nullable: true },
        { name: 'line_items', type: 'jsonb', nullable: true },
      ],
      {
        connector,
        mapping: { city: { from: 'customer.address.city' }, address: { from: 'customer.address' } },
      },
    );
    expect(await run(parent)).toMatchObject({ status: 'succeeded', rowsRead: 5, rowsLoaded: 5, rowsRejected: 0 });
    const p = (
      await pg.query(
        `SELECT id::int, city, address, customer, note, jsonb_typeof(note) AS nt, line_items, jsonb_typeof(line_items) AS lt
           FROM raw.orders_${tag.toLowerCase()} ORDER BY id`,
      )
    ).rows;
    expect(p[0]).toEqual({
      id: 1,
      city: 'c1',
      address: { city: 'c1' },
      customer: customer(1),
      note: 'fragile',
      nt: 'string',
      line_items: orders[0].line_items,
      lt: 'array',
    });
    // a string is kept a JSON string (not parsed as JSON text), an empty array an empty array, a missing one NULL
    expect(p.slice(1).map((r) => [r.note, r.nt, r.line_items, r.lt])).toEqual([
      ['{"looks": "like json"}', 'string', [], 'array'],
      [12, 'number', null, null],
      [null, null, [{ sku: 'C', qty: 5 }], 'array'],
      [null, null, 'oops', 'string'],
    ]);

    // the child: one row per line item, keyed by its order and position; 'oops' is one rejected row
    const childName = `order_items_${tag.toLowerCase()}`;
    const child = await sourceOf(
      childName,
      [
        { name: 'order_id', type: 'bigint', nullable: false, primaryKey: true },
        { name: '_index', type: 'integer', nullable: false, primaryKey: true },
        { name: 'sku', type: 'text', nullable: false },
        { name: 'qty', type: 'integer', nullable: true },
        { name: 'city', type: 'text', nullable: true },
        { name: 'options', type: 'jsonb', nullable: true },
      ],
      {
        connector: { ...connector, unnest: { path: 'line_items' } },
        mapping: { order_id: { from: '_parent.id' }, city: { from: '_parent.customer.address.city' } },
      },
    );
    const items = async () =>
      (await pg.query(`SELECT order_id::int, _index, sku, qty, city, options FROM raw.${childName} ORDER BY 1, 2`))
        .rows;
    const expected = [
      { order_id: 1, _index: 0, sku: 'A', qty: 1, city: 'c1', options: null },
      { order_id: 1, _index: 1, sku: 'B', qty: 2, city: 'c1', options: { gift: true, wrap: ['red', 'gold'] } },
      { order_id: 4, _index: 0, sku: 'C', qty: 5, city: 'c4', options: null },
    ];
    const c1 = await run(child);
    expect(c1).toMatchObject({ status: 'succeeded', rowsRead: 4, rowsLoaded: 3, rowsRejected: 1, rowsDeduplicated: 0 });
    expect(await items()).toEqual(expected);
    const letters = (await t.http.get(`/api/ingestion/runs/${c1.id}/dead-letters`).set(admin).expect(200)).body;
    expect(JSON.stringify(letters)).toContain('line_items is not an array');
    // the same API again: the same rows, nothing doubled
    const c2 = await run(child);
    expect(c2).toMatchObject({ status: 'succeeded', rowsRead: 4, rowsLoaded: 3, rowsRejected: 1 });
    expect(c2.rowsRead).toBe(c2.rowsLoaded + c2.rowsRejected + c2.rowsDeduplicated);
    expect(await items()).toEqual(expected);
    // a changed line item is merged on its key
    (orders[3].line_items as { qty: number }[])[0].qty = 6;
    expect(await run(child)).toMatchObject({ status: 'succeeded', rowsLoaded: 3 });
    expect((await items())[2]).toMatchObject({ order_id: 4, sku: 'C', qty: 6 });
  });

  it('an API key in the query string from an env reference reaches the API and never shows in runs or errors', async () => {
    data = Array.from({ length: 5 }, (_, i) => rec(i + 1));
    const keyed = (params: Record<string, unknown>) =>
      source({ kind: 'http_json', url: `${base}/keyed`, params: { api_key: { env: KEY_ENV }, ...params } });
    const ok = await keyed({ q: 'open' });
    expect(ok.body.connector.params).toEqual({ api_key: { env: KEY_ENV }, q: 'open' });
    keysSeen.length = 0;
    const r = await run(ok.id);
    expect(r).toMatchObject({ status: 'succeeded', rowsLoaded: 3 });
    expect(keysSeen).toEqual([API_KEY]);
    const forms = [API_KEY, encodeURIComponent(API_KEY), new URLSearchParams({ k: API_KEY }).toString().slice(2)];
    const leaks = (x: unknown) => forms.filter((f) => JSON.stringify(x).includes(f));
    // an API that echoes the request's URL (the key URL-encoded) in an error or a body that is not JSON
    for (const [mode, code] of [
      ['echo', 'INGESTION.SOURCE_HTTP_FAILED'],
      ['garbage', 'INGESTION.SOURCE_HTTP_FAILED'],
    ]) {
      const s = await keyed({ mode });
      const failed = await run(s.id);
      expect(failed).toMatchObject({ status: 'failed', error: { code } });
      expect(failed.error!.message).toContain('***');
      const view = (await t.http.get(`/api/ingestion/runs/${failed.id}`).set(admin).expect(200)).body;
      const list = (await t.http.get(`/api/ingestion/runs?sourceId=${s.id}`).set(admin).expect(200)).body;
      const src = (await t.http.get(`/api/ingestion/sources/${s.id}`).set(admin).expect(200)).body;
      expect(leaks([failed, view, list, src])).toEqual([]);
      const stored = (await pg.query(`SELECT * FROM ingestion.runs WHERE source_id = $1`, [s.id])).rows;
      expect(leaks(stored)).toEqual([]);
    }
    // a wrong key: refused, the key the API echoes back not shown either
    process.env[KEY_ENV] = 'wrong key/+';
    const denied = await run(ok.id);
    process.env[KEY_ENV] = API_KEY;
    expect(denied).toMatchObject({ status: 'failed', error: { code: 'INGESTION.SOURCE_ACCESS_DENIED' } });
    expect(denied.error!.message).toContain('***');
    expect(JSON.stringify(denied)).not.toMatch(/wrong/);
    // in clear, the key is refused at creation (in params or in the URL), and not shown back
    await t.http.post('/api/catalog/datasets').set(admin).send({ name: 'api_clear_key', contract }).expect(201);
    for (const connector of [
      { kind: 'http_json', url: `${base}/keyed`, params: { api_key: 'clear-key-value' } },
      { kind: 'http_json', url: `${base}/keyed?api_key=clear-key-value` },
    ]) {
      const bad = await t.http
        .post('/api/ingestion/sources')
        .set(admin)
        .send({ name: 'api_clear_key_src', dataset: 'api_clear_key', connector, strategy: { kind: 'append' } })
        .expect(400);
      expect(JSON.stringify(bad.body)).toMatch(/api_key/);
      expect(JSON.stringify(bad.body)).not.toContain('clear-key-value');
    }
  });

  it('a run SIGKILLed mid-batch publishes nothing; the next run resumes from the stored checkpoint, nothing lost or doubled', async () => {
    data = Array.from({ length: 30 }, (_, i) => rec(i + 1));
    const s = await source(
      {
        kind: 'http_json',
        url: `${base}/items`,
        auth: { type: 'bearer', token: { env: TOKEN_ENV } },
        recordPath: 'data.items',
        pagination: { type: 'cursor', cursorPath: 'meta.next_cursor', param: 'cursor' },
        incremental: { param: 'updated_since' },
      },
      { kind: 'incremental', cursor: 'updated_at' },
    );
    const cli = (env: Record<string, string> = {}) =>
      spawn(process.execPath, [path.join(ROOT, 'apps/cli/bin/weir.js'), 'load', '--source', `${s.ds}_src`], {
        env: { ...process.env, DATABASE_URL: t.db.url, WEIR_LOG_LEVEL: 'silent', ...env },
        stdio: 'ignore',
      });
    const first = cli();
    expect(await new Promise((r) => first.on('exit', r))).toBe(0);
    const snapshot = async () =>
      (
        await pg.query(
          `SELECT count(*)::int AS n, md5(string_agg(id || ':' || city, ',' ORDER BY id)) AS h FROM raw.${s.ds}`,
        )
      ).rows[0];
    const before = await snapshot();
    const checkpoint = (await pg.query(`SELECT watermark FROM ingestion.sources WHERE id = $1`, [s.id])).rows[0]
      .watermark;
    expect(before.n).toBe(30);
    // 300 new records, served slowly (3 a page): the run is killed after some pages were read
    data.push(...Array.from({ length: 300 }, (_, i) => rec(31 + i)));
    slowPageMs = 20;
    hits['/items'] = [];
    const child = cli();
    const exited = new Promise((r) => child.on('exit', (_c, sig) => r(sig)));
    await until('a few pages read', async () => hits['/items'].length >= 10);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    slowPageMs = 0;
    expect(await snapshot()).toEqual(before);
    expect((await pg.query(`SELECT watermark FROM ingestion.sources WHERE id = $1`, [s.id])).rows[0].watermark).toBe(
      checkpoint,
    );
    const again = cli({ WEIR_RUN_STALE_SECONDS: '0' });
    expect(await new Promise((r) => again.on('exit', r))).toBe(0);
    const runs = (
      await pg.query(
        `SELECT status, error_code, rows_read::int, rows_loaded::int FROM ingestion.runs WHERE source_id = $1 ORDER BY created_at`,
        [s.id],
      )
    ).rows;
    expect(runs.map((r) => [r.status, r.error_code])).toEqual([
      ['succeeded', null],
      ['failed', 'INGESTION.INTERRUPTED'],
      ['succeeded', null],
    ]);
    expect(runs[2]).toMatchObject({ rows_read: 300, rows_loaded: 300 });
    const ids = (await rows(s.ds)).map((r) => r.id);
    expect(ids).toEqual(Array.from({ length: 330 }, (_, i) => i + 1));
  }, 180_000);
});
