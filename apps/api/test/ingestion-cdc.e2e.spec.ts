import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as path from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { INestApplication } from '@nestjs/common';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';
import { freePort } from '@weir/platform';
import { admin, appOn } from './support/test-app';
import { startLogicalPostgres, tempDataDir, until } from './support/files';

const ROOT = path.resolve(__dirname, '../../..');
const PASSWORD_ENV = 'WEIR_TEST_CDC_PASSWORD';

/**
 * postgres_cdc against a PostgreSQL started here with wal_level=logical (the machine's may not
 * have it): snapshot then stream, through a SIGKILL of the consuming process; REPLICA IDENTITY
 * refused at creation; TRUNCATE refused or applied; soft deletes; the slot dropped with the source.
 */
describe('postgres_cdc sources', () => {
  let source: { url: string; stop: () => Promise<void> };
  let src: Client;
  let db: TestDatabase;
  let pg: Client;
  let api: INestApplication;
  let http: ReturnType<typeof request>;
  const files = tempDataDir();
  const apps: INestApplication[] = [];
  const children: ChildProcess[] = [];
  let connection: Record<string, unknown>;

  beforeAll(async () => {
    execFileSync(process.execPath, ['tools/build.js', '--quiet'], { cwd: ROOT, stdio: 'ignore' });
    source = await startLogicalPostgres();
    const u = new URL(source.url);
    process.env[PASSWORD_ENV] = decodeURIComponent(u.password);
    connection = {
      host: '127.0.0.1',
      port: Number(u.port),
      database: 'shop',
      user: decodeURIComponent(u.username),
      password: { env: PASSWORD_ENV },
    };
    src = new Client({ connectionString: source.url });
    await src.connect();
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    api = await appOn(db, files.dir, 'api');
    apps.push(api);
    http = request(api.getHttpServer());
  }, 120_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const a of apps) await a.close().catch(() => undefined);
    await pg?.end();
    await db?.drop();
    await src?.end();
    await source?.stop();
    files.remove();
  });

  const status = async (name: string) =>
    (await http.get(`/api/ingestion/sources/${name}/cdc`).set(admin).expect(200)).body;

  async function dataset(name: string, columns: unknown[]) {
    await http.post('/api/catalog/datasets').set(admin).send({ name, contract: { columns } }).expect(201);
  }

  const ordersColumns = [
    { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
    { name: 'customer', type: 'text', nullable: true },
    { name: 'amount', type: 'numeric(12,2)', nullable: true },
    { name: 'status', type: 'text', nullable: true },
    { name: 'updated_at', type: 'timestamptz', nullable: true },
  ];

  /** A worker process, as `npm start` runs it. */
  async function workerProcess(): Promise<{ child: ChildProcess; exited: Promise<unknown>; out: () => string }> {
    const env: Record<string, string | undefined> = {
      ...process.env,
      DATABASE_URL: db.url,
      WEIR_ROLES: 'worker',
      WEIR_DATA_DIR: files.dir,
      WEIR_CDC_POLL_MS: '100',
      WEIR_LOG_LEVEL: 'warn',
      PORT: String(await freePort()),
    };
    delete env['WEIR_ADMIN_API_KEY'];
    let out = '';
    const child = spawn(process.execPath, ['dist/apps/api/src/main.js'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise((r) => child.on('exit', (_c, sig) => r(sig)));
    return { child, exited, out: () => out };
  }

  /** The source table copied next to the target, then EXCEPT both ways (as text, column by column). */
  async function differences(table: string, target: string, cols: string[]): Promise<number[]> {
    const rows = (await src.query(`SELECT ${cols.map((c) => `${c}::text`).join(', ')} FROM ${table}`)).rows;
    await pg.query(`DROP TABLE IF EXISTS pg_temp.src_copy`);
    await pg.query(`CREATE TEMP TABLE src_copy (${cols.map((c) => `${c} text`).join(', ')})`);
    await pg.query(
      `INSERT INTO src_copy SELECT * FROM unnest(${cols.map((_, i) => `$${i + 1}::text[]`).join(', ')})`,
      cols.map((c) => rows.map((r) => r[c])),
    );
    const tgt = `SELECT ${cols.map((c) => `${c}::text`).join(', ')} FROM ${target}`;
    const a = (await pg.query(`SELECT count(*)::int AS n FROM (TABLE src_copy EXCEPT ${tgt}) d`)).rows[0].n;
    const b = (await pg.query(`SELECT count(*)::int AS n FROM (${tgt} EXCEPT TABLE src_copy) d`)).rows[0].n;
    return [a, b];
  }

  it('snapshot + 10,000 mixed changes through a SIGKILL of the consumer: the target equals the source', async () => {
    await src.query(
      `CREATE TABLE public.orders (id bigint PRIMARY KEY, customer text, amount numeric(12,2), status text, updated_at timestamptz DEFAULT clock_timestamp())`,
    );
    await src.query(
      `INSERT INTO public.orders (id, customer, amount, status) SELECT g, 'c' || (g % 97), g * 1.25, 'new' FROM generate_series(1, 2000) g`,
    );
    await dataset('orders', ordersColumns);
    const created = await http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({
        name: 'orders_cdc',
        dataset: 'orders',
        strategy: { kind: 'merge' },
        drift: 'evolve',
        connector: { kind: 'postgres_cdc', connection, table: 'public.orders', batchMs: 100 },
      })
      .expect(201);
    expect(created.body.connector).toMatchObject({ kind: 'postgres_cdc', table: 'public.orders' });
    expect((await status('orders_cdc')).state).toBe('snapshotting');

    const w1 = await workerProcess();
    await until('the snapshot', async () => (await status('orders_cdc')).state === 'streaming', 60_000);
    expect((await pg.query(`SELECT count(*)::int AS n FROM raw.orders`)).rows[0].n).toBe(2000);

    // 10,000 changes in transactions of 50; the live ids are known to pick updates and deletes from
    // two writers at once (their commits interleave, one may start right where the other ended),
    // each with its own rows (even and odd ids) so they never wait on each other
    const src2 = new Client({ connectionString: source.url });
    await src2.connect();
    const writers = [0, 1].map((w) => ({
      c: w === 0 ? src : src2,
      live: new Set<number>(Array.from({ length: 1000 }, (_, i) => 2 * i + 2 - w)),
      next: 2002 - w,
    }));
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    type Writer = (typeof writers)[number];
    const pick = (w: Writer) => [...w.live][rnd(w.live.size)];
    let changes = 0;
    let noteAdded = false;
    const txn = async (w: Writer) => {
      const withNote = noteAdded;
      await w.c.query('BEGIN');
      for (let i = 0; i < 50; i++) {
        const r = rnd(10);
        if (r < 4 || w.live.size < 100) {
          const id = w.next;
          w.next += 2;
          await w.c.query(`INSERT INTO orders (id, customer, amount, status) VALUES ($1, $2, $3, 'new')`, [
            id,
            `c${id % 97}`,
            (id % 1000) + 0.5,
          ]);
          w.live.add(id);
        } else if (r < 8) {
          await w.c.query(
            `UPDATE orders SET amount = amount + 1, status = $2, updated_at = clock_timestamp()${withNote ? `, note = 'n' || id` : ''} WHERE id = $1`,
            [pick(w), ['paid', 'shipped', 'late'][rnd(3)]],
          );
        } else {
          const id = pick(w);
          await w.c.query(`DELETE FROM orders WHERE id = $1`, [id]);
          w.live.delete(id);
        }
        changes++;
      }
      await w.c.query('COMMIT');
    };
    const special = async (w: Writer) => {
      // several updates of one row in one transaction; a row inserted and deleted in one transaction
      const id = pick(w);
      await w.c.query('BEGIN');
      for (let k = 1; k <= 5; k++)
        await w.c.query(`UPDATE orders SET amount = $2, status = $3 WHERE id = $1`, [id, k, `u${k}`]);
      const ghost = w.next;
      w.next += 2;
      await w.c.query(`INSERT INTO orders (id, customer, amount, status) VALUES ($1, 'ghost', 1, 'new')`, [ghost]);
      await w.c.query(`DELETE FROM orders WHERE id = $1`, [ghost]);
      await w.c.query('COMMIT');
      changes += 7;
    };
    const write = (upTo: number) =>
      Promise.all(
        writers.map(async (w) => {
          while (changes < upTo) await txn(w);
        }),
      );

    await special(writers[0]);
    // the consumer is killed while changes stream in, part of them applied
    const writing = write(6000);
    await until('changes being applied', async () => (await status('orders_cdc')).changesRead > 2000 + 3000, 30_000);
    w1.child.kill('SIGKILL');
    expect(await w1.exited).toBe('SIGKILL');
    await writing;
    const atKill = await status('orders_cdc');
    // a new column mid-stream (drift evolve adds it to the contract and the target)
    await src.query(`ALTER TABLE orders ADD COLUMN note text`);
    noteAdded = true;
    await special(writers[1]);
    await write(10_000);
    await src2.end();
    const end = (await src.query(`SELECT pg_current_wal_lsn()::text AS lsn`)).rows[0].lsn as string;

    // another instance with the worker role takes the stream over from the slot's position
    const w2 = await appOn(db, files.dir, 'worker', { WEIR_CDC_POLL_MS: '100' });
    apps.push(w2);
    const lsn = (s: string) => {
      const [h, l] = s.split('/');
      return BigInt(parseInt(h, 16)) * 2n ** 32n + BigInt(parseInt(l, 16));
    };
    const done = await until(
      'the stream to catch up',
      async () => {
        const s = await status('orders_cdc');
        if (s.state === 'failed') throw new Error(JSON.stringify(s.error));
        return s.confirmedLsn && lsn(s.confirmedLsn) >= lsn(end) - 200n && s.lagBytes !== null && s.lagBytes < 100_000
          ? s
          : undefined;
      },
      60_000,
    ).catch(async (e) => {
      throw new Error(`${(e as Error).message}; ${JSON.stringify(await status('orders_cdc'))}`);
    });
    const cols = ['id', 'customer', 'amount', 'status', 'updated_at', 'note'];
    await until(
      'the target to equal the source',
      async () => {
        const [a, b] = await differences('orders', 'raw.orders', cols);
        return a === 0 && b === 0;
      },
      20_000,
    ).catch(async (e) => {
      throw new Error(`${(e as Error).message}: ${(await differences('orders', 'raw.orders', cols)).join(' / ')}`);
    });
    expect(await differences('orders', 'raw.orders', cols)).toEqual([0, 0]);
    const contract = (await http.get('/api/catalog/datasets/orders').set(admin).expect(200)).body.contract;
    expect(contract.columns.map((c: { name: string }) => c.name)).toContain('note');
    expect(atKill.changesRead).toBeGreaterThan(5000);
    expect(atKill.changesRead).toBeLessThan(2000 + changes);
    expect(done.deadLetters).toBe(0);
    // every change was read once: the snapshot's rows, then the 10,014 changes (none doubled by the restart)
    const final = await status('orders_cdc');
    expect(final.changesRead).toBe(2000 + changes);
    expect(final.changesDeduplicated).toBeGreaterThan(0);
    expect(final.error).toBeNull();
    await w2.close();
    apps.splice(apps.indexOf(w2), 1);
  }, 180_000);

  it('refuses a table without a usable REPLICA IDENTITY at creation', async () => {
    await src.query(`CREATE TABLE public.nokey (id bigint, v text)`);
    await dataset('nokey', [
      { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
      { name: 'v', type: 'text', nullable: true },
    ]);
    const body = { name: 'nokey_cdc', dataset: 'nokey', strategy: { kind: 'merge' } };
    const refused = await http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({ ...body, connector: { kind: 'postgres_cdc', connection, table: 'public.nokey' } })
      .expect(422);
    expect(refused.body.code).toBe('INGESTION.REPLICA_IDENTITY');
    expect(refused.body.detail).toMatch(/REPLICA IDENTITY FULL/);
    await src.query(`ALTER TABLE public.nokey REPLICA IDENTITY FULL`);
    await http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({ ...body, connector: { kind: 'postgres_cdc', connection, table: 'public.nokey' } })
      .expect(201);
    await http.delete('/api/ingestion/sources/nokey_cdc').set(admin).expect(204);
  });

  it('TRUNCATE refused fails the stream; applied (with soft deletes) marks every row; removing a source drops its slot', async () => {
    for (const t of ['t_refuse', 't_apply']) {
      await src.query(`CREATE TABLE public.${t} (id bigint PRIMARY KEY, v text)`);
      await src.query(`INSERT INTO public.${t} SELECT g, 'v' || g FROM generate_series(1, 10) g`);
      await dataset(t, [
        { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
        { name: 'v', type: 'text', nullable: true },
      ]);
    }
    await http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({
        name: 't_refuse',
        dataset: 't_refuse',
        strategy: { kind: 'merge' },
        connector: { kind: 'postgres_cdc', connection, table: 'public.t_refuse', batchMs: 50 },
      })
      .expect(201);
    await http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({
        name: 't_apply',
        dataset: 't_apply',
        strategy: { kind: 'merge' },
        connector: {
          kind: 'postgres_cdc',
          connection,
          table: 'public.t_apply',
          truncate: 'apply',
          deletes: 'soft',
          batchMs: 50,
        },
      })
      .expect(201);
    const w = await appOn(db, files.dir, 'worker', { WEIR_CDC_POLL_MS: '100' });
    apps.push(w);
    for (const t of ['t_refuse', 't_apply'])
      await until(`${t} streaming`, async () => (await status(t)).state === 'streaming', 30_000);

    // soft delete: the row stays, marked
    await src.query(`DELETE FROM t_apply WHERE id = 3`);
    await until(
      'the soft delete',
      async () => (await pg.query(`SELECT _weir_deleted_at FROM raw.t_apply WHERE id = 3`)).rows[0]?._weir_deleted_at,
    ).catch(async (e) => {
      throw new Error(
        `${(e as Error).message}: ${JSON.stringify(await status('t_apply'))} ${JSON.stringify((await pg.query(`SELECT * FROM raw.t_apply ORDER BY id`)).rows)}`,
      );
    });
    // an update then a TRUNCATE then an insert, in order
    await src.query(`UPDATE t_refuse SET v = 'changed' WHERE id = 1`);
    await src.query(`TRUNCATE t_refuse`);
    await src.query(`TRUNCATE t_apply`);
    await src.query(`INSERT INTO t_apply VALUES (100, 'after')`);
    const failed = await until('the refusal', async () => {
      const s = await status('t_refuse');
      return s.state === 'failed' ? s : undefined;
    });
    expect(failed.error.code).toBe('INGESTION.CDC_TRUNCATE_REFUSED');
    // the changes before the TRUNCATE are applied, the rows kept
    const kept = (await pg.query(`SELECT count(*)::int AS n, max(v) FILTER (WHERE id = 1) AS v FROM raw.t_refuse`))
      .rows[0];
    expect(kept).toEqual({ n: 10, v: 'changed' });
    await until('the TRUNCATE applied', async () => {
      const r = (
        await pg.query(
          `SELECT count(*) FILTER (WHERE _weir_deleted_at IS NULL)::int AS alive, count(*)::int AS n FROM raw.t_apply`,
        )
      ).rows[0];
      return r.alive === 1 && r.n === 11;
    });

    // removing a source drops its slot and publication on the source
    const slots = async () =>
      (await src.query(`SELECT slot_name FROM pg_replication_slots ORDER BY 1`)).rows.map((r) => r.slot_name);
    expect(await slots()).toEqual(expect.arrayContaining(['weir_t_apply', 'weir_t_refuse']));
    await http.delete('/api/ingestion/sources/t_apply').set(admin).expect(204);
    await http.delete('/api/ingestion/sources/t_refuse').set(admin).expect(204);
    expect(await slots()).not.toEqual(expect.arrayContaining(['weir_t_apply']));
    expect(await slots()).not.toContain('weir_t_refuse');
    expect(
      (await src.query(`SELECT count(*)::int AS n FROM pg_publication WHERE pubname LIKE 'weir_t_%'`)).rows[0].n,
    ).toBe(0);
  }, 90_000);

  it('dead-letters a change the contract refuses; freeze fails on a new column; a paused source past maxSlotBytes is failed and its slot dropped', async () => {
    await src.query(`CREATE TABLE public.t_freeze (id bigint PRIMARY KEY, v text)`);
    await src.query(`INSERT INTO public.t_freeze SELECT g, 'v' || g FROM generate_series(1, 5) g`);
    await dataset('t_freeze', [
      { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
      { name: 'v', type: 'text', nullable: false },
    ]);
    await src.query(`CREATE TABLE public.t_pause (id bigint PRIMARY KEY, v text)`);
    await src.query(`INSERT INTO public.t_pause SELECT g, 'v' || g FROM generate_series(1, 5) g`);
    await dataset('t_pause', [
      { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
      { name: 'v', type: 'text', nullable: true },
    ]);
    for (const [name, extra] of [
      ['t_freeze', {}],
      ['t_pause', { maxSlotBytes: 4096 }],
    ] as const)
      await http
        .post('/api/ingestion/sources')
        .set(admin)
        .send({
          name,
          dataset: name,
          strategy: { kind: 'merge' },
          drift: 'freeze',
          connector: { kind: 'postgres_cdc', connection, table: `public.${name}`, batchMs: 50, ...extra },
        })
        .expect(201);
    // a second worker instance beside the one already running: each stream has one consumer
    const w = await appOn(db, files.dir, 'worker', { WEIR_CDC_POLL_MS: '100', WEIR_CDC_CHECK_MS: '200' });
    apps.push(w);
    for (const t of ['t_freeze', 't_pause'])
      await until(`${t} streaming`, async () => (await status(t)).state === 'streaming', 30_000);
    const holders = (
      await src.query(
        `SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = 'weir_t_freeze' AND active`,
      )
    ).rows[0].n;
    expect(holders).toBe(1);

    // a NULL the contract refuses: dead-lettered with its reason, the rest applied
    await src.query(`INSERT INTO t_freeze VALUES (6, NULL), (7, 'ok')`);
    const s1 = await until('the dead letter', async () => {
      const s = await status('t_freeze');
      return s.deadLetters === 1 ? s : undefined;
    });
    expect(s1.state).toBe('streaming');
    expect((await pg.query(`SELECT reason, record FROM ingestion.cdc_dead_letters`)).rows).toEqual([
      { reason: 'REQUIRED', record: { id: '6', v: null } },
    ]);
    expect((await pg.query(`SELECT v FROM raw.t_freeze WHERE id = 7`)).rows).toEqual([{ v: 'ok' }]);
    // a new column under drift freeze: the stream fails, the contract is unchanged
    await src.query(`ALTER TABLE t_freeze ADD COLUMN extra int`);
    await src.query(`INSERT INTO t_freeze VALUES (8, 'x', 1)`);
    const s2 = await until('the drift failure', async () => {
      const s = await status('t_freeze');
      return s.state === 'failed' ? s : undefined;
    });
    expect(s2.error.code).toBe('INGESTION.CDC_SCHEMA_DRIFT');
    expect(s2.error.message).toMatch(/extra/);
    expect((await pg.query(`SELECT count(*)::int AS n FROM raw.t_freeze WHERE id = 8`)).rows[0].n).toBe(0);

    // paused: the slot keeps the changes until it retains more than maxSlotBytes
    expect((await http.post('/api/ingestion/sources/t_pause/cdc/pause').set(admin).expect(200)).body.state).toBe(
      'paused',
    );
    await src.query(`INSERT INTO t_pause SELECT g, repeat('x', 100) FROM generate_series(6, 500) g`);
    const s3 = await until('the size limit', async () => {
      const s = await status('t_pause');
      return s.state === 'failed' ? s : undefined;
    });
    expect(s3.error.code).toBe('INGESTION.CDC_SLOT_TOO_LARGE');
    expect(
      (await src.query(`SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = 'weir_t_pause'`)).rows[0]
        .n,
    ).toBe(0);
    // resumed: a new snapshot, and the target equals the source again
    expect((await http.post('/api/ingestion/sources/t_pause/cdc/resume').set(admin).expect(200)).body.state).toBe(
      'snapshotting',
    );
    await until('the new snapshot', async () => (await status('t_pause')).state === 'streaming', 30_000);
    expect(await differences('t_pause', 'raw.t_pause', ['id', 'v'])).toEqual([0, 0]);
    expect((await pg.query(`SELECT count(*)::int AS n FROM raw.t_pause`)).rows[0].n).toBe(500);
  }, 90_000);

  it('keeps what a stream is made of on update; a slot dropped outside Weir fails the stream, and resuming snapshots again', async () => {
    await src.query(`CREATE TABLE public.t_gone (id bigint PRIMARY KEY, v text)`);
    await src.query(`INSERT INTO public.t_gone SELECT g, 'v' || g FROM generate_series(1, 5) g`);
    await dataset('t_gone', [
      { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
      { name: 'v', type: 'text', nullable: true },
    ]);
    const connector = { kind: 'postgres_cdc', connection, table: 'public.t_gone', batchMs: 50 };
    await http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({ name: 't_gone', dataset: 't_gone', strategy: { kind: 'merge' }, connector })
      .expect(201);
    const refused = await http
      .patch('/api/ingestion/sources/t_gone')
      .set(admin)
      .send({ connector: { ...connector, table: 'public.t_pause' } })
      .expect(400);
    expect(refused.body.detail).toMatch(/keeps its table/);
    await http
      .patch('/api/ingestion/sources/t_gone')
      .set(admin)
      .send({ connector: { ...connector, batchChanges: 100 } })
      .expect(200);
    await until('t_gone streaming', async () => (await status('t_gone')).state === 'streaming', 30_000);
    // the slot dropped by hand while no consumer runs on it (paused)
    await http.post('/api/ingestion/sources/t_gone/cdc/pause').set(admin).expect(200);
    await until(
      'the consumer to let go',
      async () =>
        (await src.query(`SELECT active FROM pg_replication_slots WHERE slot_name = 'weir_t_gone'`)).rows[0]?.active ===
        false,
    );
    await src.query(`SELECT pg_drop_replication_slot('weir_t_gone')`);
    await src.query(`INSERT INTO t_gone VALUES (6, 'lost to the stream')`);
    await http.post('/api/ingestion/sources/t_gone/cdc/resume').set(admin).expect(200);
    const failed = await until('the failure', async () => {
      const s = await status('t_gone');
      return s.state === 'failed' ? s : undefined;
    });
    expect(failed.error.code).toBe('INGESTION.CDC_SNAPSHOT_FAILED');
    expect(failed.error.message).toMatch(/no longer exists/);
    await http.post('/api/ingestion/sources/t_gone/cdc/resume').set(admin).expect(200);
    await until('the new snapshot', async () => (await status('t_gone')).state === 'streaming', 30_000);
    expect(await differences('t_gone', 'raw.t_gone', ['id', 'v'])).toEqual([0, 0]);
  }, 60_000);
});
