import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { RunsService } from '@weir/ingestion';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, until } from './support/files';

/**
 * Singer taps and Airbyte sources end to end, with a tap this test writes: a script emitting the
 * protocols' messages (SCHEMA, RECORD of two streams, STATE interleaved; Airbyte RECORD, STATE,
 * LOG, TRACE), resuming from the `--state` it is handed, failing mid-run on demand. Each source
 * loads one stream; the last STATE is stored with the publish and handed back to the next run.
 */
const ROOT = path.resolve(__dirname, '../../..');

/** The tap: config {users, protocol, fail_after, slow_ms, drop_email_from_schema, args_log, password}. */
const TAP = `#!${process.execPath}
const fs = require('fs');
const argv = process.argv.slice(2);
const arg = (k) => (argv.indexOf(k) >= 0 ? argv[argv.indexOf(k) + 1] : undefined);
const cfg = JSON.parse(fs.readFileSync(arg('--config'), 'utf8'));
const airbyte = cfg.protocol === 'airbyte';
if (cfg.args_log) fs.appendFileSync(cfg.args_log, JSON.stringify({ argv, state: arg('--state') ? JSON.parse(fs.readFileSync(arg('--state'), 'utf8')) : null }) + '\\n');
let since = 0;
if (arg('--state')) {
  const s = JSON.parse(fs.readFileSync(arg('--state'), 'utf8'));
  since = airbyte ? s.find((x) => x.stream.stream_descriptor.name === 'users').stream.stream_state.id : s.bookmarks.users.id;
}
const out = (m) => fs.writeSync(1, JSON.stringify(m) + '\\n');
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const state = (id) =>
  airbyte
    ? out({ type: 'STATE', state: { type: 'STREAM', stream: { stream_descriptor: { name: 'users' }, stream_state: { id } } } })
    : out({ type: 'STATE', value: { bookmarks: { users: { id }, orders: { id: id * 10 } } } });
const props = { id: { type: 'integer' }, name: { type: ['null', 'string'] }, updated_at: { type: 'string', format: 'date-time' } };
if (!cfg.drop_email_from_schema) props.email = { type: 'string' };
if (airbyte) out({ type: 'LOG', log: { level: 'INFO', message: 'starting read' } });
else {
  out({ type: 'SCHEMA', stream: 'users', schema: { type: 'object', properties: props }, key_properties: ['id'] });
  out({ type: 'SCHEMA', stream: 'orders', schema: { type: 'object', properties: { id: { type: 'integer' } } }, key_properties: ['id'] });
}
const rows = fs.readFileSync(cfg.users, 'utf8').split('\\n').filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.id > since);
let n = 0;
let last = since;
for (const r of rows) {
  if (cfg.fail_after !== undefined && n === cfg.fail_after) {
    if (airbyte) out({ type: 'TRACE', trace: { type: 'ERROR', emitted_at: Date.now(), error: { message: 'the API answered 500', failure_type: 'system_error' } } });
    process.stderr.write('connection reset while reading users (password=' + cfg.password + ')\\n');
    process.exit(2);
  }
  if (airbyte) out({ type: 'RECORD', record: { stream: 'users', data: r, emitted_at: Date.now() } });
  else out({ type: 'RECORD', stream: 'users', record: r, time_extracted: new Date().toISOString() });
  if (r.id % 3 === 0) {
    if (airbyte) out({ type: 'RECORD', record: { stream: 'orders', data: { id: r.id * 10 }, emitted_at: Date.now() } });
    else out({ type: 'RECORD', stream: 'orders', record: { id: r.id * 10 } });
  }
  n++;
  last = r.id;
  if (n % 4 === 0) state(last);
  if (cfg.slow_ms) sleep(cfg.slow_ms);
}
state(last);
`;

const contract = {
  columns: [
    { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
    { name: 'name', type: 'text', nullable: true },
    { name: 'email', type: 'text', nullable: false },
    { name: 'updated_at', type: 'timestamptz', nullable: false },
  ],
};
const user = (id: number, name = `u${id}`) => ({
  id,
  name,
  email: `u${id}@example.com`,
  updated_at: new Date(Date.UTC(2026, 0, 1) + id * 1000).toISOString(),
});

describe('ingestion from Singer taps and Airbyte sources e2e', () => {
  let t: TestApp;
  let pg: Client;
  let close: () => Promise<void>;
  let tapRoot: string;
  const SECRET_ENV = 'WEIR_TEST_TAP_PASSWORD';
  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'weir-taps-'));
    tapRoot = path.join(dir, 'taps');
    fs.mkdirSync(tapRoot);
    fs.writeFileSync(path.join(tapRoot, 'tap-users'), TAP, { mode: 0o755 });
    fs.writeFileSync(path.join(tapRoot, 'catalog.json'), JSON.stringify({ streams: [] }));
    process.env[SECRET_ENV] = 'hunter2-tap-secret';
    ({ t, pg, close } = await startIngestionApp({ WEIR_TAP_ROOT: tapRoot }));
  });
  afterAll(async () => {
    delete process.env[SECRET_ENV];
    await close?.();
    fs.rmSync(path.dirname(tapRoot), { recursive: true, force: true });
  });

  let n = 0;
  /** A dataset, its data file and config in the tap root, and a singer source loading stream users. */
  async function setup(cfg: Record<string, unknown> = {}, connector: Record<string, unknown> = {}) {
    n++;
    const ds = `users_${n}`;
    const data = path.join(tapRoot, `${ds}.ndjson`);
    fs.writeFileSync(data, '');
    const argsLog = path.join(tapRoot, `${ds}.args`);
    fs.writeFileSync(path.join(tapRoot, `${ds}.json`), JSON.stringify({ users: data, args_log: argsLog, ...cfg }));
    await t.http.post('/api/catalog/datasets').set(admin).send({ name: ds, contract }).expect(201);
    const res = await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({
        name: `${ds}_src`,
        dataset: ds,
        connector: {
          kind: 'singer',
          command: 'tap-users',
          config: `${ds}.json`,
          stream: 'users',
          secrets: { password: { env: SECRET_ENV } },
          batchRecords: 7,
          ...connector,
        },
        strategy: { kind: 'merge' },
        maxRejectedRatio: 1,
      })
      .expect(201);
    const add = (rows: object[]) => fs.appendFileSync(data, rows.map((r) => JSON.stringify(r) + '\n').join(''));
    const args = () =>
      fs
        .readFileSync(argsLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { argv: string[]; state: unknown });
    return { ds, id: res.body.id as string, add, args, name: `${ds}_src` };
  }
  async function run(sourceId: string) {
    const queued = await t.http.post(`/api/ingestion/sources/${sourceId}/runs`).set(admin).send({}).expect(202);
    return t.app.get(RunsService).waitFor(queued.body.id, 60_000);
  }
  const ids = async (ds: string) => (await pg.query(`SELECT id::int FROM raw.${ds} ORDER BY id`)).rows.map((r) => r.id);
  const watermark = async (id: string) =>
    (await pg.query(`SELECT watermark FROM ingestion.sources WHERE id = $1`, [id])).rows[0].watermark as string | null;
  const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

  it('refuses literal secrets and bad fields with every problem and its path', async () => {
    await t.http.post('/api/catalog/datasets').set(admin).send({ name: 'users_bad', contract }).expect(201);
    const bad = await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({
        name: 'users_bad_src',
        dataset: 'users_bad',
        connector: { kind: 'singer', command: '../bin/sh', config: 'c.json', secrets: { password: 'hunter2' } },
        strategy: { kind: 'merge' },
      })
      .expect(400);
    const text = JSON.stringify(bad.body);
    expect(text).not.toContain('hunter2');
    for (const p of ['connector.command', 'connector.stream', 'connector.secrets.password']) expect(text).toContain(p);
  });

  it('loads its stream (other streams skipped), stores the last STATE, resumes from it, re-runs idempotently', async () => {
    const s = await setup();
    s.add(range(1, 10).map((i) => user(i)));
    const first = await run(s.id);
    expect(first.status).toBe('succeeded');
    expect(first).toMatchObject({ rowsRead: 10, rowsLoaded: 10, rowsRejected: 0 });
    expect(await ids(s.ds)).toEqual(range(1, 10));
    expect(JSON.parse((await watermark(s.id))!)).toEqual({ bookmarks: { users: { id: 10 }, orders: { id: 100 } } });
    expect(s.args()[0].state).toBeNull();

    s.add(range(11, 15).map((i) => user(i)));
    const second = await run(s.id);
    expect(second).toMatchObject({ rowsRead: 5, rowsLoaded: 5 });
    // the stored STATE was handed back with --state
    expect(s.args()[1].argv).toContain('--state');
    expect(s.args()[1].state).toEqual({ bookmarks: { users: { id: 10 }, orders: { id: 100 } } });
    expect(await ids(s.ds)).toEqual(range(1, 15));
    // nothing new: the re-run reads nothing, the checkpoint stays
    const third = await run(s.id);
    expect(third).toMatchObject({ rowsRead: 0, rowsLoaded: 0 });
    expect(JSON.parse((await watermark(s.id))!).bookmarks.users.id).toBe(15);
    expect(await ids(s.ds)).toEqual(range(1, 15));
  });

  it('a tap failing mid-run fails the run with its stderr tail (secret masked); nothing published, the checkpoint kept', async () => {
    const s = await setup({ fail_after: 6 });
    s.add(range(1, 10).map((i) => user(i)));
    const r = await run(s.id);
    expect(r.status).toBe('failed');
    expect(r.error!.code).toBe('INGESTION.TAP_FAILED');
    expect(r.error!.message).toContain('connection reset while reading users');
    expect(r.error!.message).not.toContain('hunter2-tap-secret');
    expect(r.error!.message).toContain('password=***');
    expect(await watermark(s.id)).toBeNull();
    const target = (await pg.query(`SELECT to_regclass('raw.${s.ds}') AS t`)).rows[0].t;
    if (target) expect(await ids(s.ds)).toEqual([]);
  });

  it('a SCHEMA lacking a required contract column fails the run, naming it', async () => {
    const s = await setup({ drop_email_from_schema: true });
    s.add([user(1)]);
    const r = await run(s.id);
    expect(r.status).toBe('failed');
    expect(r.error).toMatchObject({ code: 'INGESTION.TAP_SCHEMA_MISMATCH' });
    expect(r.error!.message).toContain('email');
  });

  it('a record breaking the contract is dead-lettered; the rest load', async () => {
    const s = await setup();
    s.add([user(1), { ...user(2), updated_at: 'not a time' }, user(3)]);
    const r = await run(s.id);
    expect(r).toMatchObject({ rowsRead: 3, rowsLoaded: 2, rowsRejected: 1 });
    expect(await ids(s.ds)).toEqual([1, 3]);
  });

  it('protocol airbyte: RECORD, STATE (per stream), LOG and TRACE; the state handed back; a TRACE error in the failure', async () => {
    const s = await setup({ protocol: 'airbyte' }, { protocol: 'airbyte', catalog: 'catalog.json' });
    s.add(range(1, 9).map((i) => user(i)));
    const first = await run(s.id);
    expect(first).toMatchObject({ rowsRead: 9, rowsLoaded: 9 });
    expect(JSON.parse((await watermark(s.id))!)).toEqual([
      { type: 'STREAM', stream: { stream_descriptor: { name: 'users' }, stream_state: { id: 9 } } },
    ]);
    expect(s.args()[0].argv.slice(0, 1)).toEqual(['read']);
    s.add(range(10, 12).map((i) => user(i, 'again')));
    const second = await run(s.id);
    expect(second).toMatchObject({ rowsRead: 3, rowsLoaded: 3 });
    expect(await ids(s.ds)).toEqual(range(1, 12));

    const f = await setup({ protocol: 'airbyte', fail_after: 2 }, { protocol: 'airbyte', catalog: 'catalog.json' });
    f.add(range(1, 5).map((i) => user(i)));
    const failed = await run(f.id);
    expect(failed.error).toMatchObject({ code: 'INGESTION.TAP_FAILED' });
    expect(failed.error!.message).toContain('the API answered 500');
  });

  it('a command outside WEIR_TAP_ROOT is refused at run time', async () => {
    const s = await setup({}, { command: '/bin/echo' });
    const r = await run(s.id);
    expect(r.error).toMatchObject({ code: 'INGESTION.TAP_NOT_ALLOWED' });
  });

  it('a run SIGKILLed mid-batch publishes nothing and keeps the checkpoint; the re-run loads exactly what is missing', async () => {
    const s = await setup({ slow_ms: 2 }, { batchRecords: 50 });
    s.add(range(1, 20).map((i) => user(i)));
    expect((await run(s.id)).status).toBe('succeeded');
    const before = await watermark(s.id);
    s.add(range(21, 2000).map((i) => user(i, 'second')));
    const cli = (env: Record<string, string> = {}) =>
      spawn(process.execPath, [path.join(ROOT, 'apps/cli/bin/weir.js'), 'load', '--source', s.name], {
        env: { ...process.env, DATABASE_URL: t.db.url, WEIR_LOG_LEVEL: 'silent', WEIR_TAP_ROOT: tapRoot, ...env },
        stdio: 'ignore',
      });
    const child = cli();
    const exited = new Promise((r) => child.on('exit', (_c, sig) => r(sig)));
    await until(
      'the COPY to start',
      async () =>
        (await pg.query(`SELECT 1 FROM pg_stat_activity WHERE query LIKE 'COPY %__weir_stage_%' AND state <> 'idle'`))
          .rowCount,
    );
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(await ids(s.ds)).toEqual(range(1, 20));
    expect(await watermark(s.id)).toBe(before);

    const again = cli({ WEIR_RUN_STALE_SECONDS: '0' });
    expect(await new Promise((r) => again.on('exit', r))).toBe(0);
    expect(await ids(s.ds)).toEqual(range(1, 2000));
    const names = (await pg.query(`SELECT count(*)::int AS n FROM raw.${s.ds} WHERE name = 'second'`)).rows[0].n;
    expect(names).toBe(1980);
    expect(JSON.parse((await watermark(s.id))!).bookmarks.users.id).toBe(2000);
  }, 120_000);
});
