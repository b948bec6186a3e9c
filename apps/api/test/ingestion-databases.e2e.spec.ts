import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { Client } from 'pg';
import { RunsService } from '@weir/ingestion';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, until } from './support/files';

/**
 * Database sources end to end: a `postgres_query` source on another database of the test server
 * (full and incremental with a tie-breaker and a lookback, idempotent re-runs, secrets only as
 * environment references), `mysql_query` on MariaDB/MySQL at 127.0.0.1:3306 when one answers, and
 * a run SIGKILLed mid-read that a re-run completes with nothing lost or doubled.
 */
const ROOT = path.resolve(__dirname, '../../..');
const MYSQL_UP =
  spawnSync(
    process.execPath,
    [
      '-e',
      "require('net').connect(3306,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))",
    ],
    { timeout: 5000 },
  ).status === 0;
if (!MYSQL_UP)
  process.stderr.write('SKIPPED: the mysql_query e2e tests (no MySQL/MariaDB answers at 127.0.0.1:3306)\n');

const contract = {
  columns: [
    { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
    { name: 'name', type: 'text', nullable: true },
    { name: 'amount', type: 'numeric(20,6)', nullable: true },
    { name: 'active', type: 'boolean', nullable: true },
    { name: 'doc', type: 'jsonb', nullable: true },
    { name: 'uid', type: 'uuid', nullable: true },
    { name: 'blob', type: 'text', nullable: true },
    { name: 'updated_at', type: 'timestamptz', nullable: false },
  ],
};

describe('ingestion from databases e2e', () => {
  let t: TestApp;
  let pg: Client;
  let close: () => Promise<void>;
  let srcDb: TestDatabase;
  let src: Client;
  const ENV = `SRC_PG_URL_${randomUUID().slice(0, 8).toUpperCase()}`;
  beforeAll(async () => {
    ({ t, pg, close } = await startIngestionApp());
    srcDb = await createTestDatabase({ migrate: false, prefix: 'weir_srcdb' });
    process.env[ENV] = srcDb.url;
    src = new Client({ connectionString: srcDb.url });
    await src.connect();
    await src.query(`CREATE TABLE public.items (
      id bigint PRIMARY KEY, name text, amount numeric(20,6), active boolean, doc jsonb, uid uuid, blob bytea,
      updated_at timestamptz NOT NULL, secret_col text)`);
  });
  afterAll(async () => {
    delete process.env[ENV];
    await src?.end();
    await srcDb?.drop();
    await close?.();
  });

  const insert = (id: number, at: string, name = `n${id}`) =>
    src.query(
      `INSERT INTO public.items VALUES ($1::bigint, $2, 12345678901234.123456, $1::bigint % 2 = 0, '{"a": [1, 2], "b": "x"}', '6f1c2a3e-8d4b-4c7a-9e0f-1a2b3c4d5e6f', '\\x00ff10'::bytea, $3, 'no')`,
      [id, name, at],
    );
  let n = 0;
  async function source(connector: Record<string, unknown>, strategy: Record<string, unknown>) {
    n++;
    const ds = `items_${n}`;
    await t.http.post('/api/catalog/datasets').set(admin).send({ name: ds, contract }).expect(201);
    const res = await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({ name: `${ds}_src`, dataset: ds, connector, strategy, maxRejectedRatio: 1 })
      .expect(201);
    return { ds, id: res.body.id as string, body: res.body };
  }
  async function run(sourceId: string) {
    const queued = await t.http.post(`/api/ingestion/sources/${sourceId}/runs`).set(admin).send({}).expect(202);
    return t.app.get(RunsService).waitFor(queued.body.id, 60_000);
  }
  const ids = async (ds: string) => (await pg.query(`SELECT id::int FROM raw.${ds} ORDER BY id`)).rows.map((r) => r.id);

  it('refuses a password in clear (400) and shows only the environment reference', async () => {
    await t.http.post('/api/catalog/datasets').set(admin).send({ name: 'items_secret', contract }).expect(201);
    const bad = await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({
        name: 'items_secret_src',
        dataset: 'items_secret',
        connector: {
          kind: 'postgres_query',
          connection: { host: '127.0.0.1', user: 'postgres', password: 'hunter2' },
          table: 'items',
          mode: 'full',
        },
        strategy: { kind: 'replace' },
      })
      .expect(400);
    expect(JSON.stringify(bad.body)).not.toContain('hunter2');
    expect(JSON.stringify(bad.body)).toContain('connector.connection.password');
    const s = await source(
      {
        kind: 'postgres_query',
        connection: { host: '127.0.0.1', user: 'postgres', password: { env: 'SRC_PG_PASSWORD_UNSET' } },
        table: 'public.items',
        mode: 'full',
      },
      { kind: 'replace' },
    );
    expect(s.body.connector.connection.password).toEqual({ env: 'SRC_PG_PASSWORD_UNSET' });
    const got = await t.http.get(`/api/ingestion/sources/${s.id}`).set(admin).expect(200);
    expect(got.body.connector.connection).toEqual({
      host: '127.0.0.1',
      user: 'postgres',
      password: { env: 'SRC_PG_PASSWORD_UNSET' },
    });
    // the variable is not set: the run fails naming it, never a value
    const r = await run(s.id);
    expect(r.status).toBe('failed');
    expect(r.error).toMatchObject({ code: 'INGESTION.SOURCE_UNREACHABLE' });
    expect(JSON.stringify(r.error)).toContain('SRC_PG_PASSWORD_UNSET');
  });

  it('full: a table with its columns, types mapped to the contract; a re-run reloads the same', async () => {
    await insert(1, '2026-01-01 10:00:00+00');
    await insert(2, '2026-01-01 11:00:00+02');
    const s = await source(
      {
        kind: 'postgres_query',
        connection: { url: { env: ENV } },
        table: 'public.items',
        columns: ['id', 'name', 'amount', 'active', 'doc', 'uid', 'blob', 'updated_at'],
        mode: 'full',
      },
      { kind: 'replace' },
    );
    expect(s.body.connector.connection).toEqual({ url: { env: ENV } });
    const r = await run(s.id);
    expect(r).toMatchObject({ status: 'succeeded', rowsRead: 2, rowsLoaded: 2, rowsRejected: 0 });
    const rows = (
      await pg.query(
        `SELECT id::int, amount::text, active, doc, uid::text, blob, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS at FROM raw.${s.ds} ORDER BY id`,
      )
    ).rows;
    expect(rows[0]).toEqual({
      id: 1,
      amount: '12345678901234.123456',
      active: false,
      doc: { a: [1, 2], b: 'x' },
      uid: '6f1c2a3e-8d4b-4c7a-9e0f-1a2b3c4d5e6f',
      blob: Buffer.from([0, 255, 16]).toString('base64'),
      at: '2026-01-01 10:00',
    });
    expect(rows[1].at).toBe('2026-01-01 09:00');
    const again = await run(s.id);
    expect(again).toMatchObject({ status: 'succeeded', rowsRead: 2, rowsLoaded: 2 });
    expect(await ids(s.ds)).toEqual([1, 2]);
  });

  it('incremental with a tie-breaker: rows sharing the cursor value across runs are not skipped; a re-run with nothing new loads nothing', async () => {
    await src.query('TRUNCATE public.items');
    for (let i = 1; i <= 5; i++) await insert(i, `2026-02-01 00:0${i}:00+00`);
    await insert(6, '2026-02-01 00:05:00+00'); // shares 5's cursor value
    const s = await source(
      {
        kind: 'postgres_query',
        connection: { url: { env: ENV } },
        query: 'SELECT id, name, amount, active, doc, uid, blob, updated_at FROM public.items',
        mode: 'incremental',
        tieBreaker: 'id',
        fetchSize: 2,
      },
      { kind: 'incremental', cursor: 'updated_at' },
    );
    const r1 = await run(s.id);
    expect(r1).toMatchObject({ status: 'succeeded', rowsRead: 6, rowsLoaded: 6 });
    // 7 shares the watermark's cursor value with a larger tie-breaker; 8 is later
    await insert(7, '2026-02-01 00:05:00+00');
    await insert(8, '2026-02-01 00:06:00+00');
    const r2 = await run(s.id);
    expect(r2).toMatchObject({ status: 'succeeded', rowsRead: 2, rowsLoaded: 2, rowsDeduplicated: 0 });
    expect(await ids(s.ds)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const r3 = await run(s.id);
    expect(r3).toMatchObject({ status: 'succeeded', rowsRead: 0, rowsLoaded: 0, rowsRejected: 0 });
    const view = (await t.http.get(`/api/ingestion/sources/${s.id}`).set(admin).expect(200)).body;
    expect(JSON.parse(view.watermark)).toEqual({ cursor: '2026-02-01 00:06:00+00', tieBreaker: '8' });
  });

  it('incremental with a lookback: a late row (below the watermark, within the lookback) is loaded, re-read rows merged', async () => {
    await src.query('TRUNCATE public.items');
    for (let i = 1; i <= 3; i++) await insert(i, `2026-03-01 0${i}:00:00+00`);
    const s = await source(
      {
        kind: 'postgres_query',
        connection: { url: { env: ENV } },
        table: 'public.items',
        columns: ['id', 'name', 'amount', 'active', 'doc', 'uid', 'blob', 'updated_at'],
        mode: 'incremental',
      },
      { kind: 'incremental', cursor: 'updated_at', lookback: '2 hours' },
    );
    expect((await run(s.id)).rowsLoaded).toBe(3);
    await insert(4, '2026-03-01 02:30:00+00', 'late'); // committed late, stamped before the watermark (03:00)
    const r = await run(s.id);
    expect(r.status).toBe('succeeded');
    expect(r.rowsRead).toBe(r.rowsLoaded + r.rowsRejected + r.rowsDeduplicated);
    expect(await ids(s.ds)).toEqual([1, 2, 3, 4]);
    expect(r.rowsRead).toBe(3); // rows after the watermark (03:00) less 2 hours: 2 (02:00), 4 (02:30), 3 (03:00)
  });

  (MYSQL_UP ? it : it.skip)(
    'mysql_query: tinyint(1) as boolean, decimals exact, JSON, blobs base64; a zero date is dead-lettered with its reason',
    async () => {
      const mysql = require('mysql2/promise') as typeof import('mysql2/promise');
      const dbName = `weir_e2e_${randomUUID().slice(0, 8)}`;
      const my = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
      try {
        await my.query(`SET SESSION sql_mode = ''`);
        await my.query(`CREATE DATABASE ${dbName}`);
        await my.query(
          `CREATE TABLE ${dbName}.items (id bigint PRIMARY KEY, name varchar(50), amount decimal(20,6), active tinyint(1), doc json, uid char(36), blob_col blob, updated_at datetime(3) NOT NULL)`,
        );
        await my.query(
          `INSERT INTO ${dbName}.items VALUES
            (1, 'café', 12345678901234.123456, 1, '{"a": 1}', '6f1c2a3e-8d4b-4c7a-9e0f-1a2b3c4d5e6f', x'00ff10', '2026-01-01 10:00:00.123'),
            (2, 'b', -0.5, 0, NULL, NULL, NULL, '2026-01-01 11:00:00'),
            (3, 'zero', 1, 1, NULL, NULL, NULL, '0000-00-00 00:00:00')`,
        );
        const s = await source(
          {
            kind: 'mysql_query',
            connection: { host: '127.0.0.1', port: 3306, user: 'root', database: dbName },
            query: 'SELECT id, name, amount, active, doc, uid, blob_col AS `blob`, updated_at FROM items',
            mode: 'full',
          },
          { kind: 'replace' },
        );
        const r = await run(s.id);
        expect(r).toMatchObject({ status: 'succeeded', rowsRead: 3, rowsLoaded: 2, rowsRejected: 1 });
        const rows = (
          await pg.query(
            `SELECT id::int, name, amount::text, active, doc, uid::text, blob, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') AS at FROM raw.${s.ds} ORDER BY id`,
          )
        ).rows;
        expect(rows).toEqual([
          {
            id: 1,
            name: 'café',
            amount: '12345678901234.123456',
            active: true,
            doc: { a: 1 },
            uid: '6f1c2a3e-8d4b-4c7a-9e0f-1a2b3c4d5e6f',
            blob: Buffer.from([0, 255, 16]).toString('base64'),
            at: '2026-01-01 10:00:00.123',
          },
          {
            id: 2,
            name: 'b',
            amount: '-0.500000',
            active: false,
            doc: null,
            uid: null,
            blob: null,
            at: '2026-01-01 11:00:00.000',
          },
        ]);
        const dl = (await t.http.get(`/api/ingestion/runs/${r.id}/dead-letters`).set(admin).expect(200)).body;
        const items = dl.items ?? dl;
        expect(items).toHaveLength(1);
        expect(items[0].message).toMatch(/updated_at: MySQL zero date "0000-00-00 00:00:00(\.000)?" is not a date/);
      } finally {
        await my.query(`DROP DATABASE IF EXISTS ${dbName}`);
        await my.end();
      }
    },
  );

  it('a run SIGKILLed mid-read leaves the target as it was; a re-run loads exactly what is missing', async () => {
    await src.query(
      `CREATE TABLE public.big (id bigint PRIMARY KEY, payload text NOT NULL, updated_at timestamptz NOT NULL)`,
    );
    await src.query(
      `INSERT INTO public.big SELECT i, 'p-' || i || repeat('x', 60), timestamptz '2026-01-01' + i * interval '1 second' FROM generate_series(1, 1000) i`,
    );
    const big = {
      columns: [
        { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
        { name: 'payload', type: 'text', nullable: false },
        { name: 'updated_at', type: 'timestamptz', nullable: false },
      ],
    };
    await t.http.post('/api/catalog/datasets').set(admin).send({ name: 'big', contract: big }).expect(201);
    await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({
        name: 'big_src',
        dataset: 'big',
        connector: {
          kind: 'postgres_query',
          connection: { url: { env: ENV } },
          table: 'public.big',
          mode: 'incremental',
          tieBreaker: 'id',
        },
        strategy: { kind: 'incremental', cursor: 'updated_at' },
      })
      .expect(201);
    const cli = (env: Record<string, string> = {}) =>
      spawn(process.execPath, [path.join(ROOT, 'apps/cli/bin/weir.js'), 'load', '--source', 'big_src'], {
        env: { ...process.env, DATABASE_URL: t.db.url, WEIR_LOG_LEVEL: 'silent', ...env },
        stdio: 'ignore',
      });
    const first = cli();
    expect(await new Promise((r) => first.on('exit', r))).toBe(0);
    const snapshot = async () =>
      (
        await pg.query(
          `SELECT count(*)::int AS n, md5(string_agg(id || ':' || payload, ',' ORDER BY id)) AS h FROM raw.big`,
        )
      ).rows[0];
    const before = await snapshot();
    expect(before.n).toBe(1000);

    await src.query(
      `INSERT INTO public.big SELECT i, 'p-' || i || repeat('x', 60), timestamptz '2026-01-01' + i * interval '1 second' FROM generate_series(1001, 1500000) i`,
    );
    const child = cli();
    const exited = new Promise((r) => child.on('exit', (_c, sig) => r(sig)));
    await until(
      'the COPY to start',
      async () =>
        (await pg.query(`SELECT 1 FROM pg_stat_activity WHERE query LIKE 'COPY %__weir_stage_%' AND state = 'active'`))
          .rowCount,
    );
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(await snapshot()).toEqual(before);

    const again = cli({ WEIR_RUN_STALE_SECONDS: '0' });
    expect(await new Promise((r) => again.on('exit', r))).toBe(0);
    const runs = (
      await pg.query(
        `SELECT r.status, r.error_code, r.rows_read::int, r.rows_loaded::int FROM ingestion.runs r JOIN ingestion.sources s ON s.id = r.source_id WHERE s.name = 'big_src' ORDER BY r.created_at`,
      )
    ).rows;
    expect(runs.map((r) => [r.status, r.error_code])).toEqual([
      ['succeeded', null],
      ['failed', 'INGESTION.INTERRUPTED'],
      ['succeeded', null],
    ]);
    expect(runs[2]).toMatchObject({ rows_read: 1_499_000, rows_loaded: 1_499_000 });
    // target EXCEPT source and source EXCEPT target are both empty
    const digest = async (c: Client, table: string) =>
      (
        await c.query(
          `SELECT count(*)::int AS n, md5(string_agg(id || ':' || payload || ':' || extract(epoch FROM updated_at), ',' ORDER BY id)) AS h FROM ${table}`,
        )
      ).rows[0];
    expect(await digest(pg, 'raw.big')).toEqual(await digest(src, 'public.big'));
  }, 180_000);
});
