import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { RunsService } from '@weir/ingestion';
import {
  describeLeaks,
  findLeaks,
  registerSensitive,
  sensitiveForms,
  SensitiveValue,
  testLogDir,
  testLogFiles,
} from '@weir/platform/testing';
import { ADMIN, admin, TestApp } from './support/test-app';
import { startIngestionApp } from './support/files';

/**
 * Secrets never reach a log or a GET. Distinctive secret values (fresh each run, with characters
 * that URL encoding changes) sit in the environment variables that sources and exports name: a
 * database password and a connection URL, an http_json bearer token and an API key in the query
 * string, S3 keys; with them the test creates, reads, lists and runs sources — runs that fail
 * against hostile servers which echo what they were sent (a PostgreSQL that quotes the password
 * in its error, an API that quotes the Authorization header and the URL, an S3 that quotes the
 * request's headers) —, exports to S3, and sends a test alert to a webhook whose path is a token.
 * Every GET answer is kept and searched; every log line the app wrote (its pino logger at every
 * level, and stdout and stderr: the run's log sink, see @weir/platform/testing test-logs) is
 * searched for each secret as written, URL-encoded, form-encoded, JSON-escaped and in base64 at any
 * alignment. The values are also declared to the run, whose global teardown greps every log of the
 * whole test run for them.
 */
const rand = (n: number) => randomBytes(n).toString('base64url');
/** A secret with characters URL encoding changes (@ : / ? & = + % and a space). */
const secret = (what: string) => `${what}-${rand(9)}@:/?&=+% ${rand(6)}`;

const contract = {
  columns: [
    { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
    { name: 'name', type: 'text', nullable: true },
  ],
};

/** A PostgreSQL that asks for the password in clear, then fails quoting it (a hostile or broken server). */
function hostilePostgres(): Promise<net.Server> {
  const server = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    let stage: 'startup' | 'password' = 'startup';
    sock.on('error', () => undefined);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (stage === 'startup') {
          if (buf.length < 8) return;
          const len = buf.readInt32BE(0);
          if (buf.length < len) return;
          const code = buf.readInt32BE(4);
          buf = buf.subarray(len);
          if (code === 80877103) {
            sock.write('N'); // no TLS
            continue;
          }
          const ask = Buffer.alloc(9);
          ask.write('R', 0);
          ask.writeInt32BE(8, 1);
          ask.writeInt32BE(3, 5); // AuthenticationCleartextPassword
          sock.write(ask);
          stage = 'password';
          continue;
        }
        if (buf.length < 5) return;
        const len = buf.readInt32BE(1);
        if (buf.length < 1 + len) return;
        const password = buf.subarray(5, 1 + len - 1).toString('utf8');
        buf = buf.subarray(1 + len);
        const fields = Buffer.concat(
          [
            ['S', 'FATAL'],
            ['V', 'FATAL'],
            ['C', '28P01'],
            ['M', `password authentication failed: "${password}" is not the password`],
          ]
            .map(([k, v]) => Buffer.concat([Buffer.from(k), Buffer.from(v + '\0', 'utf8')]))
            .concat([Buffer.from([0])]),
        );
        const head = Buffer.alloc(5);
        head.write('E', 0);
        head.writeInt32BE(4 + fields.length, 1);
        sock.end(Buffer.concat([head, fields]));
        return;
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('secrets in logs and answers e2e', () => {
  let t: TestApp;
  let close: () => Promise<void>;
  let pgServer: net.Server;
  let web: http.Server;
  let base: string;
  const tag = randomUUID().slice(0, 8).toUpperCase();
  const env = {
    PG_PASSWORD: `PII_PG_PASSWORD_${tag}`,
    PG_URL: `PII_PG_URL_${tag}`,
    TOKEN: `PII_HTTP_TOKEN_${tag}`,
    API_KEY: `PII_HTTP_API_KEY_${tag}`,
    S3_KEY_ID: `PII_S3_KEY_ID_${tag}`,
    S3_SECRET: `PII_S3_SECRET_${tag}`,
    S3_SESSION: `PII_S3_SESSION_${tag}`,
  };
  const values = {
    PG_PASSWORD: secret('pgpw'),
    PG_URL_PASSWORD: secret('urlpw'),
    TOKEN: secret('tok'),
    API_KEY: secret('apikey'),
    S3_KEY_ID: `AKIA${rand(12)
      .toUpperCase()
      .replace(/[^A-Z0-9]/g, 'Q')}`,
    S3_SECRET: secret('s3secret'),
    S3_SESSION: secret('s3session'),
    WEBHOOK_TOKEN: `hook-7${rand(18)}`,
    KEY_SECRET: '', // the secret of an API key created below
    ADMIN_KEY: ADMIN,
    BOGUS_KEY: `weir_${rand(30)}`,
  };
  const mine: SensitiveValue[] = [];
  const answers: { path: string; text: string }[] = [];
  const failedRuns: string[] = [];

  const declare = () => {
    const entries = Object.entries(values).filter(([, v]) => v);
    registerSensitive('secret', Object.fromEntries(entries));
    mine.splice(0, mine.length, ...entries.map(([label, value]) => ({ label, kind: 'secret' as const, value })));
  };
  /** A GET whose answer is kept, to be searched for secrets at the end. */
  const get = async (path: string, auth: Record<string, string> = admin) => {
    const res = await t.http.get(path).set(auth);
    answers.push({ path, text: res.text });
    return res;
  };
  const found = (text: string) =>
    mine.flatMap((v) =>
      sensitiveForms(v.value)
        .filter((f) => text.includes(f.text))
        .map((f) => `${v.label} (${f.form})`),
    );

  beforeAll(async () => {
    ({ t, close } = await startIngestionApp());
    pgServer = await hostilePostgres();
    const pgPort = (pgServer.address() as AddressInfo).port;
    process.env[env.PG_PASSWORD] = values.PG_PASSWORD;
    process.env[env.PG_URL] =
      `postgres://weir_reader:${encodeURIComponent(values.PG_URL_PASSWORD)}@127.0.0.1:${pgPort}/shop`;
    process.env[env.TOKEN] = values.TOKEN;
    process.env[env.API_KEY] = values.API_KEY;
    process.env[env.S3_KEY_ID] = values.S3_KEY_ID;
    process.env[env.S3_SECRET] = values.S3_SECRET;
    process.env[env.S3_SESSION] = values.S3_SESSION;
    web = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const u = new URL(req.url!, 'http://x');
        const echo = `you sent ${req.method} ${req.url} with ${JSON.stringify(req.headers)} and ${body.slice(0, 500)}`;
        if (u.pathname.startsWith('/s3/')) {
          // an S3 that refuses, quoting everything it got
          res.writeHead(403, { 'content-type': 'application/xml' });
          res.end(
            `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code><Message>${echo.replace(/[<&]/g, ' ')}</Message></Error>`,
          );
        } else if (u.pathname === '/api/items' && req.headers['authorization'] === `Bearer ${values.TOKEN}`) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify([{ id: 1, name: 'one' }]));
        } else if (u.pathname.startsWith('/hook/')) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`webhook down: ${echo}`);
        } else {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: echo }));
        }
      });
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    declare();
  });
  afterAll(async () => {
    for (const v of Object.values(env)) delete process.env[v];
    await new Promise((r) => pgServer?.close(r));
    await new Promise((r) => web?.close(r));
    await close?.();
  });

  let n = 0;
  /** The dataset the http_json source loaded a row into (exported below). */
  let loaded = '';
  async function source(body: Record<string, unknown>): Promise<string> {
    n++;
    await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({ name: `sec_${n}`, contract })
      .expect(201);
    const res = await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({ name: `sec_${n}_src`, dataset: `sec_${n}`, strategy: { kind: 'replace' }, maxRejectedRatio: 1, ...body })
      .expect(201);
    const id = res.body.id as string;
    expect(found(res.text)).toEqual([]);
    await get(`/api/ingestion/sources/${id}`).then((r) => expect(r.status).toBe(200));
    return id;
  }
  /** Runs a source: the finished run, or the problem answered when the trigger itself was refused. */
  async function run(sourceId: string) {
    const queued = await t.http.post(`/api/ingestion/sources/${sourceId}/runs`).set(admin).send({});
    expect(found(queued.text)).toEqual([]);
    if (queued.status !== 202) return { status: 'refused', problem: queued.body as { code: string; detail: string } };
    const r = await t.app.get(RunsService).waitFor(queued.body.id, 60_000);
    await get(`/api/ingestion/runs/${r.id}`);
    await get(`/api/ingestion/runs?sourceId=${sourceId}`);
    if (r.status === 'failed') failedRuns.push(r.id);
    return r;
  }

  it('database sources: a password and a URL from the environment; the server quoting them is masked', async () => {
    const pgPort = (pgServer.address() as AddressInfo).port;
    const byPassword = await source({
      connector: {
        kind: 'postgres_query',
        connection: {
          host: '127.0.0.1',
          port: pgPort,
          user: 'weir_reader',
          database: 'shop',
          password: { env: env.PG_PASSWORD },
        },
        table: 'public.items',
        mode: 'full',
      },
    });
    const byUrl = await source({
      connector: {
        kind: 'postgres_query',
        connection: { url: { env: env.PG_URL } },
        table: 'public.items',
        mode: 'full',
      },
    });
    for (const id of [byPassword, byUrl]) {
      const r = await run(id);
      expect(r).toMatchObject({ status: 'failed' });
      // the server's own words are kept, its quote of the secret is not
      const message = (r as { error: { message: string } }).error.message;
      expect(message).toMatch(/password authentication failed/);
      expect(message).toContain('***');
      expect(found(JSON.stringify(r))).toEqual([]);
    }
  });

  it('http_json: a bearer token and a query-string key; an API echoing headers and URL is masked', async () => {
    const ok = await source({
      connector: { kind: 'http_json', url: `${base}/api/items`, auth: { type: 'bearer', token: { env: env.TOKEN } } },
    });
    expect(await run(ok)).toMatchObject({ status: 'succeeded', rowsLoaded: 1 });
    loaded = `sec_${n}`;
    const refused = await source({
      connector: {
        kind: 'http_json',
        url: `${base}/api/refuse`,
        auth: { type: 'bearer', token: { env: env.TOKEN } },
        params: { api_key: { env: env.API_KEY } },
        retries: 0,
      },
    });
    const r = await run(refused);
    expect(r.status).toBe('failed');
    expect(found(JSON.stringify(r))).toEqual([]);
  });

  it('s3: keys from the environment; a store quoting the request is masked; an export to S3 fails cleanly', async () => {
    const keys = {
      accessKeyId: { env: env.S3_KEY_ID },
      secretAccessKey: { env: env.S3_SECRET },
      sessionToken: { env: env.S3_SESSION },
    };
    const s = await source({
      format: 'csv',
      connector: { kind: 's3', endpoint: `${base}/s3`, forcePathStyle: true, ...keys },
      location: { path: 's3://bucket/orders.csv' },
    });
    // the object is looked at when the run is asked for: the store's refusal is the answer
    const r = await run(s);
    expect(r).toMatchObject({ status: 'refused', problem: { code: 'INGESTION.SOURCE_ACCESS_DENIED' } });
    // the dataset of the http source has a row: exported to an S3 that refuses
    const exp = await t.http
      .post(`/api/catalog/datasets/${loaded}/exports`)
      .set(admin)
      .send({ target: 's3://bucket/lake', s3: { endpoint: `${base}/s3`, forcePathStyle: true, ...keys } });
    expect(exp.status).toBeGreaterThanOrEqual(400);
    expect(exp.body.code).toBe('CATALOG.EXPORT_TARGET_FAILED');
    expect(found(exp.text)).toEqual([]);
  });

  it('keys and an alert webhook: none of their secrets logged or shown', async () => {
    const created = await t.http
      .post('/api/platform/api-keys')
      .set(admin)
      .send({ name: `sec-${tag}`, role: 'viewer' })
      .expect(201);
    values.KEY_SECRET = created.body.key;
    declare();
    await get('/api/catalog/datasets', { 'X-API-Key': values.KEY_SECRET }).then((r) => expect(r.status).toBe(200));
    await get('/api/catalog/datasets', { Authorization: `Bearer ${values.BOGUS_KEY}` }).then((r) =>
      expect(r.status).toBe(401),
    );
    await get('/api/platform/api-keys');
    const hook = `${base}/hook/${values.WEBHOOK_TOKEN}`;
    await t.http
      .post('/api/orchestration/alert-destinations')
      .set(admin)
      .send({ name: `sec_hook_${tag.toLowerCase()}`, url: hook, format: 'json' })
      .expect(201);
    const sent = await t.http
      .post(`/api/orchestration/alert-destinations/sec_hook_${tag.toLowerCase()}/test`)
      .set(admin)
      .expect(200);
    // refused by the receiver (retried later), its answer quoting the URL without the token
    expect(sent.body).toMatchObject({ responseStatus: 500 });
    expect(sent.text).toContain('webhook down');
    expect(found(sent.text)).toEqual([]);
    await get('/api/orchestration/alert-destinations');
  });

  it('no GET answered a secret, the audit log included', async () => {
    await get('/api/ingestion/sources');
    await get('/api/ingestion/runs');
    await get('/api/platform/audit?limit=500');
    expect(answers.length).toBeGreaterThan(15);
    const leaks = answers.flatMap((a) => found(a.text).map((f) => `${a.path}: ${f}`));
    expect(leaks).toEqual([]);
  });

  it('no log line holds a secret (and the logs were written: the failed runs are in them)', async () => {
    expect(testLogDir()).toBeDefined();
    const logs = testLogFiles()
      .map((f) => fs.readFileSync(f, 'utf8'))
      .join('');
    // the sink works: each failed run's warning is there, with the request lines
    expect(failedRuns.length).toBe(3);
    for (const id of failedRuns) expect(logs).toContain(`run ${id} failed`);
    expect(logs).toContain('"url":"/api/ingestion/sources"');
    const leaks = findLeaks(mine);
    if (leaks.length) throw new Error(describeLeaks(leaks));
  });
});
