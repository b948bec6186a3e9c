import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { Warehouse } from '@weir/platform';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';
import type { DatasetContract } from '@weir/catalog';
import type { QualityGate } from '@weir/quality';
import type { ConnectorSpec } from '../src/domain/connector';
import { parseQueryWatermark } from '../src/domain/connector';
import type { RunInput, StrategySpec } from '../src/domain/source';
import type { SourceRecord } from '../src/application/ports/source-repository.port';
import { SourceConnectorsReader } from '../src/infrastructure/connectors/source-connectors.reader';
import { LoadEngine, LoadResult } from '../src/infrastructure/engine/load.engine';

/**
 * One contract every source connector passes (files, postgres_query, mysql_query, http_json with and without unnest, s3, singer): a real load
 * through the engine accounts for every row read (loaded + rejected + deduplicated), bad records
 * become dead letters with a reason, a read resumes from the stored checkpoint (nothing lost,
 * nothing doubled), and a cancelled read stops and releases its source.
 */

const MYSQL_UP =
  spawnSync(
    process.execPath,
    [
      '-e',
      "require('net').connect(3306,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))",
    ],
    { timeout: 5000 },
  ).status === 0;

const contract: DatasetContract = {
  columns: [
    { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
    { name: 'name', type: 'text', nullable: true },
    { name: 'amount', type: 'numeric(10,2)', nullable: true },
    { name: 'updated_at', type: 'timestamptz', nullable: false },
  ],
};
type Row = [number, string, string, string];
const T0 = Date.UTC(2026, 0, 1);
/** Rows `from`..`to`; every 10th amount is not a number (dead-lettered); ids 5k and 5k+1 share a timestamp. */
const rows = (from: number, to: number): Row[] => {
  const out: Row[] = [];
  for (let i = from; i <= to; i++)
    out.push([
      i,
      `n${i}`,
      i % 10 === 0 ? 'oops' : `${i}.25`,
      new Date(T0 + Math.floor(i / 2) * 60_000).toISOString().replace('T', ' ').replace('Z', ''),
    ]);
  return out;
};

/** Where the singer harness puts its tap (the readers' WEIR_TAP_ROOT). */
const TAP_ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-conn-taps-'));
afterAll(() => fs.rmSync(TAP_ROOT, { recursive: true, force: true }));

/** What a harness gives: a source of rows that can grow, and its connector. */
interface Harness {
  connector(mode: 'full' | 'incremental'): ConnectorSpec | null;
  format: string | null;
  /** Adds rows to the source (a new file for files). */
  add(rows: Row[]): Promise<void>;
  /** A read's input (the file source's latest file, the latest object). */
  input(): RunInput;
  /** Live connections of the source named weir-source (for the cancellation check), or null when not a database. */
  liveReads(): Promise<number | null>;
  done(): Promise<void>;
}

function connectorContract(name: string, make: () => Promise<Harness>, enabled = true, ties = true) {
  (enabled ? describe : describe.skip)(`SourceConnector contract: ${name}`, () => {
    let db: TestDatabase;
    let warehouse: Warehouse;
    let pg: Client;
    let h: Harness;
    let sourceId: string;
    beforeAll(async () => {
      db = await createTestDatabase({ prefix: 'weir_connector' });
      warehouse = new Warehouse(db.url);
      pg = new Client({ connectionString: db.url });
      await pg.connect();
      sourceId = (
        await pg.query(
          `INSERT INTO ingestion.sources (name, dataset, format, location, strategy, drift, options, max_rejected_ratio)
           VALUES ('src', 'things', 'csv', '{}', '{"kind":"replace"}', 'freeze', '{}', 1) RETURNING id`,
        )
      ).rows[0].id;
    });
    beforeEach(async () => {
      h = await make();
      await pg.query(`DROP TABLE IF EXISTS raw.things`);
    });
    afterEach(() => h.done());
    afterAll(async () => {
      await pg?.end();
      await warehouse?.pool.end();
      await db?.drop();
    });

    const source = (strategy: StrategySpec, watermark: string | null): SourceRecord =>
      ({
        id: sourceId,
        name: 'src',
        dataset: 'things',
        format: h.format,
        connector: h.connector(strategy.kind === 'incremental' ? 'incremental' : 'full'),
        location: {},
        strategy,
        drift: 'freeze',
        options: {},
        maxRejectedRatio: 1,
        watermark,
      }) as unknown as SourceRecord;

    /** One run the way the run worker does it: the port's read into the engine. */
    async function run(strategy: StrategySpec, watermark: string | null): Promise<LoadResult & { runId: string }> {
      const runId = randomUUID();
      await pg.query(
        `INSERT INTO ingestion.runs (id, source_id, status, trigger, idempotency_key, input) VALUES ($1, $2, 'running', 'api', $3, '{}')`,
        [runId, sourceId, runId],
      );
      const src = source(strategy, watermark);
      const read = await new SourceConnectorsReader(warehouse, { tapRoot: TAP_ROOT }).open({
        runId,
        source: src,
        input: h.input(),
        contract,
        watermark,
        signal: new AbortController().signal,
      });
      const passing: QualityGate = {
        check: async () => ({ passed: true, failures: [] }),
        hasChecks: async () => false,
      };
      try {
        const r = await new LoadEngine(warehouse).run({
          runId,
          sourceName: 'src',
          dataset: { name: 'things', schema: 'raw', table: 'things', contract },
          format: 'csv',
          strategy,
          drift: 'freeze',
          options: {},
          maxRejectedRatio: 1,
          watermark:
            read.pushdown && !read.pushdown.tieBreaker && !read.checkpoint
              ? (parseQueryWatermark(watermark)?.cursor ?? null)
              : watermark,
          pushdown: read.pushdown,
          checkpoint: read.checkpoint,
          batches: read.batches,
          evolve: async () => contract,
          qualityGate: passing,
          recordPublish: async () => undefined,
        });
        return { ...r, runId };
      } finally {
        await read.close();
      }
    }
    const target = async () =>
      (await pg.query(`SELECT id::int, name, amount::text FROM raw.things ORDER BY id`)).rows as {
        id: number;
        name: string;
        amount: string;
      }[];

    it('accounts for every row read, bad records dead-lettered with their reason', async () => {
      await h.add(rows(1, 50));
      const r = await run({ kind: 'replace' }, null);
      expect(r.read).toBe(50);
      expect(r.read).toBe(r.loaded + r.rejected + r.deduplicated);
      expect([r.loaded, r.rejected]).toEqual([45, 5]);
      const dl = (
        await pg.query(`SELECT reason, column_name, message FROM ingestion.dead_letters WHERE run_id = $1`, [r.runId])
      ).rows;
      expect(dl).toHaveLength(5);
      expect(dl.every((d) => d.reason === 'TYPE_MISMATCH' && d.column_name === 'amount')).toBe(true);
      const t = await target();
      expect(t).toHaveLength(45);
      expect(t[0]).toEqual({ id: 1, name: 'n1', amount: '1.25' });
    });

    it('resumes from the stored checkpoint: a second run loads only what is new, nothing lost or doubled', async () => {
      const strategy: StrategySpec = { kind: 'incremental', cursor: 'updated_at' };
      await h.add(rows(1, 41));
      const first = await run(strategy, null);
      expect(first.read).toBe(first.loaded + first.rejected + first.deduplicated);
      expect(first.watermarkAfter).not.toBeNull();
      await h.add(rows(42, 60));
      const second = await run(strategy, first.watermarkAfter);
      expect(second.read).toBe(second.loaded + second.rejected + second.deduplicated);
      const ids = (await target()).map((r) => r.id);
      const want = rows(1, 60)
        .filter((r) => r[0] % 10 !== 0)
        .map((r) => r[0]);
      expect(ids).toEqual(want);
      // nothing new: the re-run loads nothing
      const third = await run(strategy, second.watermarkAfter);
      expect(third.loaded).toBe(0);
      expect(third.watermarkAfter).toBe(second.watermarkAfter);
      expect((await target()).map((r) => r.id)).toEqual(want);
    });

    if (ties)
      it('rows sharing the cursor value split across runs are never skipped (tie-breaker)', async () => {
        const strategy: StrategySpec = { kind: 'incremental', cursor: 'updated_at' };
        // 42 and 43 share a timestamp; 43 comes after the first run
        await h.add(rows(1, 42));
        const first = await run(strategy, null);
        expect(parseQueryWatermark(first.watermarkAfter)).toEqual({
          cursor: '2026-01-01 00:21:00+00',
          tieBreaker: '42',
        });
        await h.add(rows(43, 44));
        const second = await run(strategy, first.watermarkAfter);
        expect([second.read, second.loaded]).toEqual([2, 2]);
        expect((await target()).map((r) => r.id).slice(-3)).toEqual([42, 43, 44]);
        // a 2-minute lookback re-reads rows after minute 20: merged on the key, nothing doubled
        const third = await run({ ...strategy, lookback: '2 minutes' }, second.watermarkAfter);
        expect(third.read).toBe(third.loaded + third.rejected + third.deduplicated);
        expect(third.read).toBe(3); // 42, 43 (minute 21) and 44 (minute 22)
        expect((await target()).length).toBe(40);
      });

    it('stops reading when the run is cancelled, and releases the source', async () => {
      await h.add(rows(1, 3000));
      const abort = new AbortController();
      const src = source({ kind: 'replace' }, null);
      (src as { connector: unknown }).connector = (() => {
        const c = h.connector('full');
        if (c?.kind === 'singer') return { ...c, batchRecords: 100 };
        return c && c.kind !== 'file' ? { ...c, fetchSize: 100 } : c;
      })();
      const read = await new SourceConnectorsReader(warehouse, { tapRoot: TAP_ROOT }).open({
        runId: randomUUID(),
        source: src,
        input: h.input(),
        contract,
        watermark: null,
        signal: abort.signal,
      });
      let seen = 0;
      let batches = 0;
      try {
        for await (const b of read.batches) {
          seen += b.records.length;
          batches++;
          if (batches === 1) {
            if ((await h.liveReads()) !== null) expect(await h.liveReads()).toBe(1);
            abort.abort();
          }
        }
      } catch {
        /* a reader may end with an error once aborted: either way it stops */
      }
      await read.close();
      expect(seen).toBeLessThan(3000);
      // the server may take a moment to see the connection gone
      let live = await h.liveReads();
      for (let i = 0; i < 50 && live; i++) {
        await new Promise((r) => setTimeout(r, 100));
        live = await h.liveReads();
      }
      if (live !== null) expect(live).toBe(0);
    });
  });
}

// files: today's readers behind the port (NDJSON; a new file per addition, the whole history in it)
connectorContract(
  'file (ndjson)',
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-conn-'));
    const all: Row[] = [];
    let file = '';
    let n = 0;
    return {
      connector: () => null,
      format: 'ndjson',
      async add(r) {
        all.push(...r);
        file = path.join(dir, `f${++n}.ndjson`);
        fs.writeFileSync(
          file,
          all.map(([id, name, amount, at]) => JSON.stringify({ id, name, amount, updated_at: at })).join('\n'),
        );
      },
      input: () => ({ path: file }),
      liveReads: async () => null,
      done: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  },
  true,
  false,
);

// postgres_query: a table on another database of the same server, the URL a secret from the environment
connectorContract('postgres_query', async () => {
  const src = await createTestDatabase({ migrate: false, prefix: 'weir_src' });
  const c = new Client({ connectionString: src.url });
  await c.connect();
  await c.query(
    `CREATE TABLE public.things (id bigint PRIMARY KEY, name text, amount text, updated_at timestamp NOT NULL)`,
  );
  const env = `WEIR_TEST_SRC_${randomUUID().slice(0, 8).toUpperCase()}`;
  process.env[env] = src.url;
  return {
    connector: (mode) => ({
      kind: 'postgres_query',
      connection: { url: { env } },
      table: 'public.things',
      mode,
      ...(mode === 'incremental' ? { tieBreaker: 'id' } : {}),
    }),
    format: null,
    async add(r) {
      await c.query(
        `INSERT INTO public.things SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamp[])`,
        [0, 1, 2, 3].map((i) => r.map((row) => row[i])),
      );
    },
    input: () => ({}),
    liveReads: async () =>
      Number(
        (
          await c.query(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'weir-source'`,
            [src.name],
          )
        ).rows[0].n,
      ),
    async done() {
      delete process.env[env];
      await c.end();
      await src.drop();
    },
  };
});

// mysql_query: MariaDB/MySQL at 127.0.0.1:3306 (root, no password) when one answers
if (!MYSQL_UP)
  process.stderr.write('SKIPPED: the mysql_query connector contract (no MySQL/MariaDB answers at 127.0.0.1:3306)\n');
connectorContract(
  'mysql_query',
  async () => {
    const mysql = require('mysql2/promise') as typeof import('mysql2/promise');
    const dbName = `weir_src_${randomUUID().slice(0, 8)}`;
    const c = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
    await c.query(`CREATE DATABASE ${dbName}`);
    await c.query(
      `CREATE TABLE ${dbName}.things (id bigint PRIMARY KEY, name text, amount varchar(20), updated_at datetime(6) NOT NULL)`,
    );
    return {
      connector: (mode) => ({
        kind: 'mysql_query',
        connection: { host: '127.0.0.1', port: 3306, user: 'root', database: dbName },
        table: 'things',
        mode,
        ...(mode === 'incremental' ? { tieBreaker: 'id' } : {}),
      }),
      format: null,
      async add(r) {
        await c.query(`INSERT INTO ${dbName}.things VALUES ?`, [r]);
      },
      input: () => ({}),
      liveReads: async () => {
        const [rs] = await c.query(
          `SELECT count(*) AS n FROM information_schema.processlist WHERE db = ? AND id <> connection_id()`,
          [dbName],
        );
        return Number((rs as { n: number }[])[0].n);
      },
      async done() {
        await c.query(`DROP DATABASE ${dbName}`);
        await c.end();
      },
    };
  },
  MYSQL_UP,
);

// http_json: a local API serving the rows 100 a page (offset/limit); the engine keeps rows past the checkpoint
connectorContract(
  'http_json',
  async () => {
    const http = require('node:http') as typeof import('node:http');
    const all: Row[] = [];
    const server = http.createServer((req, res) => {
      const u = new URL(req.url!, 'http://x');
      const o = Number(u.searchParams.get('offset'));
      const l = Number(u.searchParams.get('limit'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          results: all.slice(o, o + l).map(([id, name, amount, at]) => ({ id, name, amount, updated_at: at })),
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/rows`;
    return {
      connector: (mode) => ({
        kind: 'http_json',
        url,
        recordPath: 'results',
        pagination: { type: 'offset', offsetParam: 'offset', limitParam: 'limit', limit: 100 },
        ...(mode === 'incremental' ? { incremental: { param: 'updated_since' } } : {}),
      }),
      format: null,
      add: async (r) => void all.push(...r),
      input: () => ({}),
      liveReads: async () => null,
      async done() {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      },
    };
  },
  true,
  false,
);

// http_json with unnest: the rows are the elements of each record's array (3 a record, the API
// serving 10 records a page); the accounting is of those rows
connectorContract(
  'http_json (unnest)',
  async () => {
    const http = require('node:http') as typeof import('node:http');
    const all: Row[] = [];
    const server = http.createServer((req, res) => {
      const u = new URL(req.url!, 'http://x');
      const o = Number(u.searchParams.get('offset'));
      const l = Number(u.searchParams.get('limit'));
      const groups: { batch: number; rows: object[] }[] = [];
      for (let i = 0; i < all.length; i += 3)
        groups.push({
          batch: i / 3,
          rows: all.slice(i, i + 3).map(([id, name, amount, at]) => ({ id, name, amount, updated_at: at })),
        });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ results: groups.slice(o, o + l) }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/batches`;
    return {
      connector: (mode) => ({
        kind: 'http_json',
        url,
        recordPath: 'results',
        unnest: { path: 'rows' },
        pagination: { type: 'offset', offsetParam: 'offset', limitParam: 'limit', limit: 10 },
        ...(mode === 'incremental' ? { incremental: { param: 'updated_since' } } : {}),
      }),
      format: null,
      add: async (r) => void all.push(...r),
      input: () => ({}),
      liveReads: async () => null,
      async done() {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      },
    };
  },
  true,
  false,
);

// s3: objects in a local S3-compatible server (s3rver, in a child process); a new object per addition
let s3rver: { endpoint: string; stop: () => void } | undefined;
async function startS3rver(): Promise<{ endpoint: string; stop: () => void }> {
  if (s3rver) return s3rver;
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-s3rver-'));
  const script = `const S3rver = require('s3rver');
    new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: ${JSON.stringify(dir)},
      configureBuckets: [{ name: 'contract' }] }).run().then(({ port }) => console.log('PORT ' + port));`;
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', script], {
    cwd: path.resolve(__dirname, '../../..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      const m = /PORT (\d+)/.exec((out += String(d)));
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`s3rver exited (${code})`)));
  });
  s3rver = {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => {
      child.kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return s3rver;
}
afterAll(() => s3rver?.stop());

connectorContract(
  's3',
  async () => {
    const { endpoint } = await startS3rver();
    const { S3Client, PutObjectCommand } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
    const client = new S3Client({
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const env = `WEIR_TEST_S3_${randomUUID().slice(0, 8).toUpperCase()}`;
    process.env[env] = 'S3RVER';
    const prefix = randomUUID().slice(0, 8);
    const all: Row[] = [];
    let object: { bucket: string; key: string; etag: string; size: number } | undefined;
    let n = 0;
    return {
      connector: () => ({
        kind: 's3',
        endpoint,
        forcePathStyle: true,
        accessKeyId: { env },
        secretAccessKey: { env },
      }),
      format: 'ndjson',
      async add(r) {
        all.push(...r);
        const key = `${prefix}/f${++n}.ndjson`;
        const body = all
          .map(([id, name, amount, at]) => JSON.stringify({ id, name, amount, updated_at: at }))
          .join('\n');
        const put = await client.send(new PutObjectCommand({ Bucket: 'contract', Key: key, Body: body }));
        object = { bucket: 'contract', key, etag: (put.ETag ?? '').replace(/"/g, ''), size: body.length };
      },
      input: () => ({ object }),
      liveReads: async () => null,
      async done() {
        delete process.env[env];
        client.destroy();
      },
    };
  },
  true,
  false,
);

// singer: a tap (written here) reading a file of rows, past the id in its STATE, records of another
// stream interleaved; it runs slowly on a large input so a cancel finds it alive (liveReads: its pid)
connectorContract(
  'singer',
  async () => {
    const dir = fs.mkdtempSync(path.join(TAP_ROOT, 'h-'));
    const rel = path.basename(dir);
    const data = path.join(dir, 'rows.ndjson');
    const pidFile = path.join(dir, 'pid');
    fs.writeFileSync(data, '');
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ data, pid: pidFile }));
    fs.writeFileSync(
      path.join(dir, 'tap'),
      `#!${process.execPath}
const fs = require('fs');
const a = process.argv.slice(2);
const cfg = JSON.parse(fs.readFileSync(a[a.indexOf('--config') + 1], 'utf8'));
fs.writeFileSync(cfg.pid, String(process.pid));
const since = a.includes('--state') ? JSON.parse(fs.readFileSync(a[a.indexOf('--state') + 1], 'utf8')).bookmarks.things : 0;
const out = (m) => fs.writeSync(1, JSON.stringify(m) + '\\n');
const rows = fs.readFileSync(cfg.data, 'utf8').split('\\n').filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.id > since);
out({ type: 'SCHEMA', stream: 'things', schema: { properties: { id: {}, name: {}, amount: {}, updated_at: {} } }, key_properties: ['id'] });
let last = since;
for (const r of rows) {
  out({ type: 'RECORD', stream: 'things', record: r });
  if (r.id % 7 === 0) out({ type: 'RECORD', stream: 'other', record: { x: r.id } });
  last = r.id;
  if (r.id % 10 === 0) out({ type: 'STATE', value: { bookmarks: { things: last } } });
  if (rows.length > 1000 && r.id % 100 === 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
}
out({ type: 'STATE', value: { bookmarks: { things: last } } });
`,
      { mode: 0o755 },
    );
    return {
      connector: () => ({ kind: 'singer', command: `${rel}/tap`, config: `${rel}/config.json`, stream: 'things' }),
      format: null,
      async add(r) {
        fs.appendFileSync(
          data,
          r.map(([id, name, amount, at]) => JSON.stringify({ id, name, amount, updated_at: at }) + '\n').join(''),
        );
      },
      input: () => ({}),
      async liveReads() {
        if (!fs.existsSync(pidFile)) return 0;
        try {
          process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 0);
          return 1;
        } catch {
          return 0;
        }
      },
      done: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  },
  true,
  false,
);

describe('s3: an object gone or changed after its run was queued', () => {
  it('fails the read with INGESTION.FILE_NOT_FOUND or INGESTION.OBJECT_CHANGED', async () => {
    const { endpoint } = await startS3rver();
    const { S3Client, PutObjectCommand } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
    const client = new S3Client({
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    process.env['WEIR_TEST_S3_GONE'] = 'S3RVER';
    try {
      await client.send(new PutObjectCommand({ Bucket: 'contract', Key: 'gone/a.ndjson', Body: '{"id": 1}' }));
      const source = {
        name: 'src',
        format: 'ndjson',
        connector: {
          kind: 's3',
          endpoint,
          forcePathStyle: true,
          accessKeyId: { env: 'WEIR_TEST_S3_GONE' },
          secretAccessKey: { env: 'WEIR_TEST_S3_GONE' },
        },
        location: { inbox: 's3://contract/gone/' },
        strategy: { kind: 'append' },
        options: {},
      } as unknown as SourceRecord;
      const reader = new SourceConnectorsReader(null as unknown as Warehouse);
      const listed = await reader.listObjects(source);
      expect(listed.map((o) => o.key)).toEqual(['gone/a.ndjson']);
      const open = (key: string, etag: string) =>
        reader.open({
          runId: randomUUID(),
          source,
          input: { object: { bucket: 'contract', key, etag, size: 1 } },
          contract,
          watermark: null,
          signal: new AbortController().signal,
        });
      await expect(open('gone/never.ndjson', 'x')).rejects.toMatchObject({ code: 'INGESTION.FILE_NOT_FOUND' });
      await expect(open('gone/a.ndjson', 'another-etag')).rejects.toMatchObject({ code: 'INGESTION.OBJECT_CHANGED' });
      const read = await open('gone/a.ndjson', listed[0].etag);
      const got = [];
      for await (const b of read.batches) got.push(...b.records);
      await read.close();
      expect(got).toEqual([{ id: 1 }]);
    } finally {
      delete process.env['WEIR_TEST_S3_GONE'];
      client.destroy();
    }
  });
});
