import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { connect, JetStreamManager, NatsConnection, StringCodec } from 'nats';
import { Client } from 'pg';
import request from 'supertest';
import { freePort } from '@weir/platform';
import { admin, appOn, TestApp } from './support/test-app';
import { startIngestionApp, until } from './support/files';

/**
 * Stream sources (`nats_jetstream`) end to end against the NATS server at 127.0.0.1:4222
 * (JetStream on; skipped with a message when none answers): micro-batches merged into the
 * dataset, a poison message dead-lettered with its subject and sequence while the stream moves
 * on, redelivery merged (effectively exactly once), the status endpoint and the lag metric, one
 * consumer per source across instances, and a worker SIGKILLed mid-stream whose batch another
 * instance loads after redelivery, nothing lost or doubled.
 */
const ROOT = path.resolve(__dirname, '../../..');
const NATS_UP =
  spawnSync(
    process.execPath,
    [
      '-e',
      "require('net').connect(4222,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))",
    ],
    { timeout: 5000 },
  ).status === 0;
if (!NATS_UP)
  process.stderr.write('SKIPPED: the nats_jetstream e2e tests (no NATS server answers at 127.0.0.1:4222)\n');

const contract = {
  columns: [
    { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
    { name: 'name', type: 'text', nullable: true },
    { name: 'amount', type: 'numeric(12,2)', nullable: true },
  ],
};
const sc = StringCodec();

(NATS_UP ? describe : describe.skip)('ingestion from NATS JetStream e2e', () => {
  let t: TestApp;
  let pg: Client;
  let close: () => Promise<void>;
  let dataDir: string;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const tag = randomUUID().slice(0, 8);
  const streams: string[] = [];
  const apps: INestApplication[] = [];
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    // the API alone: each test chooses its workers
    let files: { dir: string };
    ({ t, pg, close, files } = await startIngestionApp({ WEIR_ROLES: 'api' }));
    dataDir = files.dir;
    nc = await connect({ servers: 'nats://127.0.0.1:4222' });
    jsm = await nc.jetstreamManager();
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const a of apps) await a.close().catch(() => undefined);
    for (const s of streams) await jsm?.streams.delete(s).catch(() => undefined);
    await nc?.close();
    await close?.();
  });

  let n = 0;
  /** A JetStream stream of its own, a dataset and a nats_jetstream source on it. */
  async function setup(connector: Record<string, unknown> = {}) {
    n++;
    const stream = `WEIRT_${tag}_${n}`;
    const subject = `weirt.${tag}.${n}`;
    await jsm.streams.add({ name: stream, subjects: [`${subject}.>`] });
    streams.push(stream);
    const ds = `events_${n}`;
    await t.http.post('/api/catalog/datasets').set(admin).send({ name: ds, contract }).expect(201);
    const res = await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({
        name: `${ds}_src`,
        dataset: ds,
        connector: {
          kind: 'nats_jetstream',
          servers: ['nats://127.0.0.1:4222'],
          stream,
          subject: `${subject}.>`,
          batchMessages: 100,
          batchMs: 200,
          ackWaitMs: 2000,
          ...connector,
        },
        strategy: { kind: 'merge' },
      })
      .expect(201);
    const js = nc.jetstream();
    const publish = async (msgs: (object | string)[], sub = 'orders') => {
      const acks = [];
      for (const m of msgs)
        acks.push(js.publish(`${subject}.${sub}`, sc.encode(typeof m === 'string' ? m : JSON.stringify(m))));
      return (await Promise.all(acks)).map((a) => a.seq);
    };
    return { ds, id: res.body.id as string, stream, subject, publish };
  }
  /** Stops the in-process workers (each leases every stream source). */
  const stopWorkers = async () => {
    for (const a of apps.splice(0)) await a.close().catch(() => undefined);
  };
  afterEach(stopWorkers);
  const worker = (env: Record<string, string> = {}) =>
    appOn(t.db, dataDir, 'worker', { WEIR_STREAM_POLL_MS: '200', ...env }).then((a) => (apps.push(a), a));
  const rows = async (ds: string) =>
    (await pg.query(`SELECT id::int, name, amount::text FROM raw.${ds} ORDER BY id`).catch(() => ({ rows: [] })))
      .rows as {
      id: number;
      name: string;
      amount: string;
    }[];
  const count = async (ds: string) => (await rows(ds)).length;

  it('refuses a stream source that does not merge, and bad fields with their paths', async () => {
    await t.http.post('/api/catalog/datasets').set(admin).send({ name: 'events_bad', contract }).expect(201);
    const bad = await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({
        name: 'events_bad_src',
        dataset: 'events_bad',
        connector: { kind: 'nats_jetstream', stream: 'a b', token: 'secret-token', batchMs: 0 },
        strategy: { kind: 'append' },
      })
      .expect(400);
    const text = JSON.stringify(bad.body);
    expect(text).not.toContain('secret-token');
    for (const p of ['connector.stream', 'connector.token', 'connector.batchMs', 'strategy merge'])
      expect(text).toContain(p);
  });

  it('merges micro-batches, dead-letters a poison message with subject and sequence, moves on; redelivery merges; status and lag', async () => {
    const s = await setup();
    const w = await worker();
    const good = Array.from({ length: 250 }, (_, i) => ({ id: i + 1, name: `n${i + 1}`, amount: `${i}.50` }));
    await s.publish(good.slice(0, 120));
    const [poison] = await s.publish(['{not json'], 'bad');
    const [mismatch] = await s.publish([{ id: 999, name: 'x', amount: 'lots' }]);
    // updates of earlier keys: the last one wins
    await s.publish([...good.slice(120), { id: 5, name: 'five again', amount: '5.00' }]);
    await until('every good message merged', async () => (await count(s.ds)) === 250, 30_000);
    const t1 = await rows(s.ds);
    expect(t1.find((r) => r.id === 5)).toEqual({ id: 5, name: 'five again', amount: '5.00' });
    const dl = (
      await pg.query(
        `SELECT d.reason, d.message FROM ingestion.dead_letters d JOIN ingestion.runs r ON r.id = d.run_id WHERE r.source_id = $1 ORDER BY d.id`,
        [s.id],
      )
    ).rows;
    expect(dl).toHaveLength(2);
    expect(dl[0].reason).toBe('UNPARSEABLE');
    expect(dl[0].message).toContain(`subject ${s.subject}.bad, stream sequence ${poison}`);
    expect(dl[1].reason).toBe('TYPE_MISMATCH');
    expect(dl[1].message).toContain(`stream sequence ${mismatch}`);
    // every batch is a run with the invariant; the sum covers every message
    const runs = (
      await pg.query(
        `SELECT status, trigger, rows_read::int AS r, rows_loaded::int AS l, rows_rejected::int AS j, rows_deduplicated::int AS d FROM ingestion.runs WHERE source_id = $1`,
        [s.id],
      )
    ).rows;
    expect(runs.every((r) => r.status === 'succeeded' && r.trigger === 'stream' && r.r === r.l + r.j + r.d)).toBe(true);
    expect(runs.reduce((a, r) => a + r.r, 0)).toBe(253);
    expect(runs.reduce((a, r) => a + r.j, 0)).toBe(2);

    const status = await until('the lag to settle', async () => {
      const b = (await t.http.get(`/api/ingestion/sources/${s.id}/stream`).set(admin).expect(200)).body;
      return b.lag?.pending === 0 && b.lag?.ackPending === 0 ? b : undefined;
    });
    expect(status).toMatchObject({ state: 'consuming', stream: s.stream, lastFailure: null });
    expect(status.heldBy).toBeTruthy();
    expect(status.committedSequence).toBe(status.lag.ackedSequence);
    const metrics = await request(w.getHttpServer()).get('/metrics').set(admin).expect(200);
    expect(metrics.text).toContain('weir_stream_consumer_lag');

    // the same messages again (a producer retry): merged on the key, the target unchanged
    await s.publish(good.slice(50, 100));
    await until('the redelivered batch to be committed', async () => {
      const b = (await t.http.get(`/api/ingestion/sources/${s.id}/stream`).set(admin).expect(200)).body;
      return (
        b.lag?.pending === 0 &&
        b.lag?.ackPending === 0 &&
        b.committedSequence === b.lag.ackedSequence &&
        b.committedSequence > status.committedSequence
      );
    });
    expect(await rows(s.ds)).toEqual(t1);
    await stopWorkers();
    const idle = (await t.http.get(`/api/ingestion/sources/${s.id}/stream`).set(admin).expect(200)).body;
    expect(idle.state).toBe('waiting');
  }, 60_000);

  it('one consumer per source across instances; a worker SIGKILLed mid-stream: another loads the redelivered batch, nothing lost or doubled', async () => {
    const s = await setup({ batchMessages: 200, batchMs: 100 });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: t.db.url,
      WEIR_ROLES: 'worker',
      WEIR_DATA_DIR: dataDir,
      WEIR_STREAM_POLL_MS: '200',
      WEIR_LOG_LEVEL: 'warn',
      PORT: String(await freePort()),
    };
    delete env['WEIR_ADMIN_API_KEY'];
    const child = spawn(process.execPath, ['-r', './tools/register.js', 'apps/api/src/main.ts'], {
      cwd: ROOT,
      env,
      stdio: 'ignore',
    });
    children.push(child);
    const exited = new Promise((r) => child.on('exit', (_c, sig) => r(sig)));
    const holder = await until(
      'the worker process to lease the source',
      async () =>
        (await t.http.get(`/api/ingestion/sources/${s.id}/stream`).set(admin).expect(200)).body.heldBy as string,
      60_000,
    );
    // a second instance: refused while the first holds the lease
    await worker({ WEIR_RUN_STALE_SECONDS: '0', WEIR_LOG_LEVEL: process.env['DEBUG_STREAM'] ? 'info' : 'silent' });
    await new Promise((r) => setTimeout(r, 600));
    expect((await t.http.get(`/api/ingestion/sources/${s.id}/stream`).set(admin).expect(200)).body.heldBy).toBe(holder);

    const total = 4000;
    const msgs = Array.from({ length: total }, (_, i) => ({ id: (i % 3000) + 1, name: `v${i}`, amount: `${i}.00` }));
    const publishing = (async () => {
      for (let i = 0; i < total; i += 200) await s.publish(msgs.slice(i, i + 200));
    })();
    await until('some batches committed', async () => (await count(s.ds)) > 0, 30_000);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    await publishing;
    const taken = await until('the other instance to take the lease', async () => {
      const h = (await t.http.get(`/api/ingestion/sources/${s.id}/stream`).set(admin).expect(200)).body.heldBy;
      return h && h !== holder ? h : undefined;
    });
    expect(taken).not.toBe(holder);
    await until(
      'every message merged',
      async () => {
        const b = (await t.http.get(`/api/ingestion/sources/${s.id}/stream`).set(admin).expect(200)).body;
        return b.lag?.pending === 0 && b.lag?.ackPending === 0 && b.committedSequence === b.lag.ackedSequence;
      },
      60_000,
    );
    // the last message of each key wins: ids 1..1000 from the second round, 1001..3000 from the first
    const want = Array.from({ length: 3000 }, (_, k) => {
      const i = k < 1000 ? k + 3000 : k;
      return { id: k + 1, name: `v${i}`, amount: `${i}.00` };
    });
    expect(await rows(s.ds)).toEqual(want);
    const runs = (
      await pg.query(
        `SELECT status, rows_read::int AS r, rows_loaded::int AS l, rows_rejected::int AS j, rows_deduplicated::int AS d FROM ingestion.runs WHERE source_id = $1`,
        [s.id],
      )
    ).rows;
    const ok = runs.filter((r) => r.status === 'succeeded');
    expect(ok.every((r) => r.r === r.l + r.j + r.d)).toBe(true);
    // at least once: every message read by a committed batch (a redelivered one possibly twice)
    expect(ok.reduce((a, r) => a + r.r, 0)).toBeGreaterThanOrEqual(total);
  }, 120_000);
});
