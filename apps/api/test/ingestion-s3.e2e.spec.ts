import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Client } from 'pg';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { RunsService } from '@weir/ingestion';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, until } from './support/files';

/**
 * Object-storage sources end to end against a local S3-compatible server (s3rver) the test starts:
 * the listing past 1,000 keys, each new object loaded once in key order and streamed (gzip CSV,
 * Parquet by ranges), a changed object (new ETag) loaded again under the source's strategy, a
 * vanished object, credentials refused with a clear error (never a secret), and a run SIGKILLed
 * mid-batch that the next load completes with nothing lost or doubled.
 */
const ROOT = path.resolve(__dirname, '../../..');
const BUCKET = 'weir-e2e';

const contract = {
  columns: [
    { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
    { name: 'name', type: 'text', nullable: true },
    { name: 'amount', type: 'numeric(12,2)', nullable: true },
  ],
};

describe('ingestion from object storage (S3-compatible) e2e', () => {
  let t: TestApp;
  let pg: Client;
  let close: () => Promise<void>;
  let server: ChildProcess;
  let dir: string;
  let s3: S3Client;
  let endpoint: string;
  const tag = randomUUID().slice(0, 8).toUpperCase();
  const KEY = `S3_KEY_${tag}`;
  const SECRET = `S3_SECRET_${tag}`;
  const WRONG = `S3_WRONG_${tag}`;

  beforeAll(async () => {
    ({ t, pg, close } = await startIngestionApp());
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-s3rver-'));
    // s3rver signs ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in its legacy
    // provider: the server runs in a child process that enables it (the test's own process need not)
    const script = `const S3rver = require('s3rver');
      new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: ${JSON.stringify(dir)},
        configureBuckets: [{ name: ${JSON.stringify(BUCKET)} }] }).run().then(({ port }) => console.log('PORT ' + port));`;
    server = spawn(process.execPath, ['--openssl-legacy-provider', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      server.stdout!.on('data', (d) => {
        out += String(d);
        const m = /PORT (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      server.on('exit', (code) => reject(new Error(`s3rver exited (${code})`)));
    });
    endpoint = `http://127.0.0.1:${port}`;
    process.env[KEY] = 'S3RVER';
    process.env[SECRET] = 'S3RVER';
    process.env[WRONG] = 'NOT-A-KEY';
    s3 = new S3Client({
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
  });
  afterAll(async () => {
    for (const v of [KEY, SECRET, WRONG]) delete process.env[v];
    s3?.destroy();
    server?.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
    await close?.();
  });

  const put = (key: string, body: string | Buffer) =>
    s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  const csv = (rows: [number, string, string][]) =>
    gzipSync(Buffer.from(['id,name,amount', ...rows.map((r) => r.join(','))].join('\n') + '\n'));
  const connector = (over: Record<string, unknown> = {}) => ({
    kind: 's3',
    endpoint,
    forcePathStyle: true,
    accessKeyId: { env: KEY },
    secretAccessKey: { env: SECRET },
    ...over,
  });
  async function source(
    name: string,
    body: Record<string, unknown>,
    strategy: Record<string, unknown> = { kind: 'merge' },
  ): Promise<string> {
    await t.http.post('/api/catalog/datasets').set(admin).send({ name, contract }).expect(201);
    const res = await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({ name: `${name}_src`, dataset: name, strategy, maxRejectedRatio: 1, ...body })
      .expect(201);
    return res.body.id as string;
  }
  const due = async (id: string) => {
    const runs = t.app.get(RunsService);
    const { runs: queued } = await runs.startDue({ source: id });
    const out = [];
    for (const r of queued) out.push(await runs.waitFor(r.id, 60_000));
    return out;
  };
  const rows = async (ds: string) =>
    (await pg.query(`SELECT id::int, name, amount::text FROM raw.${ds} ORDER BY id`)).rows;

  it('refuses secrets in clear and non-s3 locations, naming every problem with its path', async () => {
    await t.http.post('/api/catalog/datasets').set(admin).send({ name: 's3_bad', contract }).expect(201);
    const bad = await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({
        name: 's3_bad_src',
        dataset: 's3_bad',
        format: 'csv',
        connector: { kind: 's3', accessKeyId: 'AKIA-CLEAR', secretAccessKey: 'hunter2', endpoint: 'ftp://x' },
        location: { inbox: 'inbox/' },
        strategy: { kind: 'append' },
      })
      .expect(400);
    const text = JSON.stringify(bad.body);
    expect(text).not.toContain('hunter2');
    for (const p of ['connector.accessKeyId', 'connector.secretAccessKey', 'connector.endpoint', 'location.inbox'])
      expect(text).toContain(p);
  });

  it('lists past 1,000 keys; loads each new object once, in key order, streamed; a changed object again; a vanished one is not an error', async () => {
    // 1,000 keys that do not match the pattern come first: the matching objects are on the second page
    const noise = Array.from({ length: 1000 }, (_, i) => `orders/a-${String(i).padStart(4, '0')}.txt`);
    for (let i = 0; i < noise.length; i += 50) await Promise.all(noise.slice(i, i + 50).map((k) => put(k, 'x')));
    await put('orders/zz-2.csv.gz', csv([[3, 'c', '3.50']]));
    await put(
      'orders/zz-1.csv.gz',
      csv([
        [1, 'a', '1.25'],
        [2, 'b', 'oops'],
      ]),
    );
    const id = await source('s3_orders', {
      format: 'csv',
      connector: connector(),
      location: { inbox: `s3://${BUCKET}/orders/`, pattern: '*.csv.gz' },
    });
    const first = await due(id);
    expect(first.map((r) => r.input.path)).toEqual([
      `s3://${BUCKET}/orders/zz-1.csv.gz`,
      `s3://${BUCKET}/orders/zz-2.csv.gz`,
    ]);
    for (const r of first) {
      expect(r.status).toBe('succeeded');
      expect(r.rowsRead).toBe(r.rowsLoaded + r.rowsRejected + r.rowsDeduplicated);
      expect(r.bytesRead).toBeGreaterThan(0);
    }
    expect(first[0]).toMatchObject({ rowsRead: 2, rowsLoaded: 1, rowsRejected: 1 });
    expect(await rows('s3_orders')).toEqual([
      { id: 1, name: 'a', amount: '1.25' },
      { id: 3, name: 'c', amount: '3.50' },
    ]);
    // idempotent: nothing new, nothing loaded
    expect(await due(id)).toEqual([]);
    // a changed object (new ETag) is loaded again: merged on the key by the source's strategy
    await put(
      'orders/zz-1.csv.gz',
      csv([
        [1, 'a2', '9.00'],
        [2, 'b', '2.00'],
      ]),
    );
    const changed = await due(id);
    expect(changed.map((r) => [r.input.path, r.status, r.rowsLoaded])).toEqual([
      [`s3://${BUCKET}/orders/zz-1.csv.gz`, 'succeeded', 2],
    ]);
    expect(await rows('s3_orders')).toEqual([
      { id: 1, name: 'a2', amount: '9.00' },
      { id: 2, name: 'b', amount: '2.00' },
      { id: 3, name: 'c', amount: '3.50' },
    ]);
    // a vanished object: no longer listed, nothing to load, no error
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'orders/zz-2.csv.gz' }));
    expect(await due(id)).toEqual([]);
  }, 120_000);

  it('Parquet by range requests and NDJSON, from the same store', async () => {
    const w = require('hyparquet-writer');
    const buf = w.parquetWriteBuffer({
      columnData: [
        { name: 'id', data: [1n, 2n, 3n], type: 'INT64' },
        { name: 'name', data: ['p', 'q', null], type: 'STRING' },
        { name: 'amount', data: ['1.5', '2', null], type: 'STRING' },
      ],
      rowGroupSize: 2,
    });
    await put('pq/part-1.parquet', Buffer.from(buf));
    const id = await source('s3_pq', {
      format: 'parquet',
      connector: connector(),
      location: { inbox: `s3://${BUCKET}/pq/`, pattern: '*.parquet' },
    });
    const [r] = await due(id);
    expect(r).toMatchObject({ status: 'succeeded', rowsRead: 3, rowsLoaded: 3 });
    expect(await rows('s3_pq')).toEqual([
      { id: 1, name: 'p', amount: '1.50' },
      { id: 2, name: 'q', amount: '2.00' },
      { id: 3, name: null, amount: null },
    ]);
    await put('nd/x.ndjson', '{"id": 7, "name": "n", "amount": 1}\n{"id": 8}\n');
    const nd = await source('s3_nd', {
      format: 'ndjson',
      connector: connector(),
      location: { path: `s3://${BUCKET}/nd/x.ndjson` },
    });
    const run = await t.http.post(`/api/ingestion/sources/${nd}/runs`).set(admin).send({}).expect(202);
    expect(run.body.input.path).toBe(`s3://${BUCKET}/nd/x.ndjson`);
    const done = await t.app.get(RunsService).waitFor(run.body.id, 60_000);
    expect(done).toMatchObject({ status: 'succeeded', rowsLoaded: 2 });
    // the same object again answers with the same run
    const again = await t.http.post(`/api/ingestion/sources/${nd}/runs`).set(admin).send({}).expect(200);
    expect(again.body.id).toBe(run.body.id);
  });

  it('credentials refused: a clear error naming the store, never a secret; an unset variable is named', async () => {
    const id = await source('s3_denied', {
      format: 'csv',
      connector: connector({ accessKeyId: { env: WRONG } }),
      location: { inbox: `s3://${BUCKET}/orders/`, pattern: '*.csv.gz' },
    });
    const err = await t.app
      .get(RunsService)
      .startDue({ source: id })
      .then(
        () => null,
        (e) => e,
      );
    expect(err).toMatchObject({ code: 'INGESTION.SOURCE_ACCESS_DENIED' });
    expect(err.message).toMatch(/refused the credentials for s3:\/\/weir-e2e\/orders\//);
    expect(err.message).not.toContain('NOT-A-KEY');
    const unset = await source('s3_unset', {
      format: 'csv',
      connector: connector({ secretAccessKey: { env: 'S3_SECRET_NEVER_SET' } }),
      location: { inbox: `s3://${BUCKET}/orders/` },
    });
    await expect(t.app.get(RunsService).startDue({ source: unset })).rejects.toMatchObject({
      code: 'INGESTION.SOURCE_ACCESS_DENIED',
      message: expect.stringContaining('S3_SECRET_NEVER_SET'),
    });
  });

  it('a run SIGKILLed mid-batch publishes nothing; the next load queues that object again and loads it exactly once', async () => {
    const N = 200_000;
    const lines = ['id,name,amount'];
    for (let i = 1; i <= N; i++) lines.push(`${i},name-${i}-${'x'.repeat(20)},${i % 1000}.25`);
    await put('big/b-1.csv.gz', csv([[0, 'zero', '0.00']]));
    const id = await source('s3_big', {
      format: 'csv',
      connector: connector(),
      location: { inbox: `s3://${BUCKET}/big/`, pattern: '*.csv.gz' },
    });
    void id;
    const cli = (env: Record<string, string> = {}) =>
      spawn(process.execPath, [path.join(ROOT, 'apps/cli/bin/weir.js'), 'load', '--source', 's3_big_src'], {
        env: { ...process.env, DATABASE_URL: t.db.url, WEIR_LOG_LEVEL: 'silent', ...env },
        stdio: 'ignore',
      });
    const first = cli();
    expect(await new Promise((r) => first.on('exit', r))).toBe(0);
    const snapshot = async () =>
      (
        await pg.query(
          `SELECT count(*)::int AS n, md5(string_agg(id || ':' || name, ',' ORDER BY id)) AS h FROM raw.s3_big`,
        )
      ).rows[0];
    const before = await snapshot();
    expect(before.n).toBe(1);

    await put('big/b-2.csv.gz', gzipSync(Buffer.from(lines.join('\n') + '\n')));
    const child = cli();
    const exited = new Promise((r) => child.on('exit', (_c, sig) => r(sig)));
    await until(
      'the COPY to start',
      async () =>
        (
          await pg.query(
            `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY %__weir_stage_%' AND state = 'active'`,
          )
        ).rowCount,
    );
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(await snapshot()).toEqual(before);

    const again = cli({ WEIR_RUN_STALE_SECONDS: '0' });
    expect(await new Promise((r) => again.on('exit', r))).toBe(0);
    const runs = (
      await pg.query(
        `SELECT r.status, r.error_code, r.rows_read::int, r.rows_loaded::int, r.input->>'path' AS path FROM ingestion.runs r JOIN ingestion.sources s ON s.id = r.source_id WHERE s.name = 's3_big_src' ORDER BY r.created_at`,
      )
    ).rows;
    expect(runs.map((r) => [r.path.split('/').pop(), r.status, r.error_code])).toEqual([
      ['b-1.csv.gz', 'succeeded', null],
      ['b-2.csv.gz', 'failed', 'INGESTION.INTERRUPTED'],
      ['b-2.csv.gz', 'succeeded', null],
    ]);
    expect(runs[2]).toMatchObject({ rows_read: N, rows_loaded: N });
    const after = await snapshot();
    expect(after.n).toBe(N + 1);
    expect(
      (await pg.query(`SELECT count(DISTINCT id)::int AS n, min(id)::int AS lo, max(id)::int AS hi FROM raw.s3_big`))
        .rows[0],
    ).toEqual({ n: N + 1, lo: 0, hi: N });
  }, 180_000);
});
