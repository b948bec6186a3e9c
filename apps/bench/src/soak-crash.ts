/* eslint-disable no-console -- a command-line report */
/**
 * `npm run soak:crash -- [--rounds 20] [--seed n] [--rows 100000] [--keep] [--ts] [--verbose]`: crash soak. Each round runs one
 * workload in a child process (the `weir` CLI, as a user would), SIGKILLs it at a random moment,
 * restarts it (the same command again: the next process recovers what the dead one left — stale
 * runs and builds failed, expired step leases taken back), re-runs it to completion and checks:
 *
 * - the targets equal what the harness computed on its own: `raw.orders` is the last version of
 *   each key over every file it generated (merge: in-file duplicates, updates across rounds), with
 *   its row count and an md5 checksum; the models (`orders_inc`, incremental on `version`, and the
 *   table `customer_totals`) equal the same SQL run directly on `raw.orders`;
 * - the killed work ended failed, never succeeded: an ingestion run or build the dead process was
 *   executing (`running` at the kill) ends failed; a run still `queued` at the kill had not started,
 *   and the restart's worker may take it from the queue and complete it; a pipeline run may go on
 *   and succeed (the orchestrator retries), but only through a new attempt of every step the dead
 *   process held — never by the killed attempt;
 * - nothing is left behind: no relation but the expected ones in `raw`/`analytics`, none named like
 *   a stage (`__weir…`, `…__dbt_tmp`, `…__dbt_backup`) anywhere, no advisory lock, no running run,
 *   build or leased step, no replication slot;
 * - the books balance: every succeeded ingestion run has rows read = loaded + rejected +
 *   deduplicated; the source's watermark is the last succeeded run's.
 *
 * Workloads, rotated: `load` (a CSV of `rows` rows through a merge source: `weir load`), `build`
 * (`weir build` of a table and an incremental model), `pipeline` (`weir pipelines run`: ingest →
 * build), and — when NATS answers (WEIR_SOAK_NATS_URL, default nats://127.0.0.1:4222) — `stream`
 * (a worker process, `WEIR_ROLES=worker`, consuming a JetStream source merged into `raw.events`;
 * the restart is a new worker that runs until every published message is committed, then SIGTERM). Each round picks a phase to kill in (the workload's: reading, copy, settle, publish, swap,
 * build, audit, checkpoint) and polls pg_stat_activity (and the run tables) every few ms; it kills
 * when that phase shows, else at a random moment within the workload's measured duration, and
 * records the phase actually observed at the kill. CDC consumers are not driven here (their kills
 * are covered by the ingestion-cdc e2e tests): the run says so.
 *
 * Last line: {"soak":"crash","rounds":…,"kills_by_phase":{…},"rows_lost":0,"rows_doubled":0,"leftovers":0,…}.
 * Exit 1 when a round failed a check.
 */
import 'reflect-metadata';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { freePort, loadConfig, PlatformModule, runMigrations } from '@weir/platform';
import { CATALOG, CatalogModule } from '@weir/catalog';
import { IngestionModule, SourcesService } from '@weir/ingestion';
import { connect, JetStreamManager, NatsConnection, StringCodec } from 'nats';
import { arg, benchDatabase } from './support';

const ROUNDS = Number(arg('rounds', '20'));
const SEED = Number(arg('seed', String(Date.now() % 100000)));
const ROWS = Number(arg('rows', '100000'));
/** --ts: the CLI through its TypeScript entry (apps/cli/bin/weir.js) rather than the compiled dist/ one (faster to start). */
const TS = process.argv.includes('--ts');
const KEEP = process.argv.includes('--keep');
const VERBOSE = process.argv.includes('--verbose');
const ROOT = path.resolve(__dirname, '..', '..', '..');
const WEIR = TS ? [path.join(ROOT, 'apps/cli/bin/weir.js')] : [path.join(ROOT, 'dist/apps/cli/src/soak-main.js')];
/** Keys drawn from 1..KEYS: a file repeats some keys and updates others loaded before. */
const KEYS = Math.max(10, Math.round(ROWS * 0.8));
const STATUSES = ['new', 'paid', 'shipped', 'cancelled', 'refunded'];

/** mulberry32: the rounds, the data and the kill moments follow from --seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Workload = 'load' | 'build' | 'pipeline' | 'stream';
const PHASES: Record<Workload, string[]> = {
  load: ['reading', 'copy', 'settle', 'publish', 'swap', 'checkpoint'],
  build: ['build', 'audit', 'swap', 'checkpoint'],
  pipeline: ['reading', 'copy', 'publish', 'build', 'swap', 'checkpoint'],
  stream: ['reading', 'copy', 'publish', 'checkpoint'],
};
/** NATS with JetStream for the stream-consumer rounds (skipped, visibly, when none answers). */
const NATS_URL = process.env['WEIR_SOAK_NATS_URL'] ?? 'nats://127.0.0.1:4222';
/** Messages published for each stream round (a tenth of --rows, at least 1,000). */
const STREAM_MESSAGES = Math.max(1000, Math.round(ROWS / 10));

/** What a statement of the child says about where it is. */
function classify(query: string): string | undefined {
  const q = query.replace(/\s+/g, ' ').trim();
  if (/^COPY /i.test(q)) return 'copy';
  if (/RENAME TO/i.test(q)) return 'swap';
  if (
    /^(WITH .*)?(UPDATE|INSERT INTO) "?(ingestion|modeling|orchestration)"?\."?(runs|builds|build_steps|step_runs)/i.test(
      q,
    )
  )
    return 'checkpoint';
  if (/^(INSERT INTO|MERGE INTO|UPDATE|DELETE FROM) "?raw"?\./i.test(q)) return 'publish';
  if (/__weir_stage|__weir_record/i.test(q)) return 'settle';
  if (/^(CREATE (TEMP |UNLOGGED )?TABLE|INSERT INTO|MERGE INTO|CREATE (MATERIALIZED )?VIEW).*analytics/i.test(q))
    return 'build';
  if (/^SELECT .*(analytics|__dbt_tmp)/i.test(q)) return 'audit';
  return undefined;
}

interface Row {
  customer: number;
  cents: number;
  status: string;
  version: number;
}

const fmtAmount = (cents: number) => (cents / 100).toFixed(2);
const line = (id: number, r: Row) => `${id},${r.customer},${fmtAmount(r.cents)},${r.status},${r.version}`;

/** The checksum both sides compute: md5 of `id|customer|amount|status|version` lines in id order, joined by ','. */
function expectedChecksum(rows: Map<number, Row>): { n: number; md5: string } {
  const ids = [...rows.keys()].sort((a, b) => a - b);
  const h = crypto.createHash('md5');
  ids.forEach((id, i) => {
    const r = rows.get(id)!;
    h.update(`${i ? ',' : ''}${id}|${r.customer}|${fmtAmount(r.cents)}|${r.status}|${r.version}`);
  });
  return { n: ids.length, md5: h.digest('hex') };
}

interface Child {
  code: Promise<{ code: number | null; signal: string | null }>;
  kill(signal?: NodeJS.Signals): void;
  out: () => string;
}

function child(argv: string[], env: NodeJS.ProcessEnv): Child {
  const p = spawn(process.execPath, argv, { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out = (out + d).slice(-20_000)));
  p.stderr.on('data', (d) => (out = (out + d).slice(-20_000)));
  return {
    code: new Promise((r) => p.on('exit', (code, signal) => r({ code, signal }))),
    kill: (signal = 'SIGKILL') => p.kill(signal),
    out: () => out,
  };
}

/** The `weir` CLI, as a user runs it. */
const weir = (args: string[], env: NodeJS.ProcessEnv): Child => child([...WEIR, ...args], env);

/** A Weir worker process (the service with `WEIR_ROLES=worker`): it consumes the stream sources. */
const worker = (env: NodeJS.ProcessEnv, port: number): Child =>
  child(
    TS
      ? ['-r', path.join(ROOT, 'tools/register.js'), path.join(ROOT, 'apps/api/src/main.ts')]
      : [path.join(ROOT, 'dist/apps/api/src/main.js')],
    { ...env, WEIR_ROLES: 'worker', PORT: String(port), WEIR_STREAM_POLL_MS: '200' },
  );

/** Whether NATS answers (the stream rounds need it). */
async function natsConnection(): Promise<NatsConnection | undefined> {
  try {
    return await connect({ servers: NATS_URL, timeout: 3000 });
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  if (!TS) execFileSync(process.execPath, [path.join(ROOT, 'tools/build.js'), '--quiet'], { stdio: 'inherit' });
  const db = await benchDatabase('weir_soak');
  const { work, url, client: c } = db;
  const inbox = path.join(work, 'inbox');
  fs.mkdirSync(inbox, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: url,
    WEIR_DATA_DIR: work,
    WEIR_MIGRATE: 'off',
    WEIR_LOG_LEVEL: 'warn',
    // a restart takes whatever the dead process left running as interrupted (one child at a time here)
    WEIR_RUN_STALE_SECONDS: '0',
    // a dead worker's step lease expires soon, so a restart takes it back within the round
    WEIR_STEP_LEASE_SECONDS: '2',
  };
  const failures: string[] = [];
  const kills: Record<string, number> = {};
  const killsByWorkload: Record<string, number> = {};
  let rowsLost = 0;
  let rowsDoubled = 0;
  let leftovers = 0;
  let killedSucceeded = 0;
  let restarts = 0;
  let nc: NatsConnection | undefined;
  let jsm: JetStreamManager | undefined;
  const streamName = `WEIR_SOAK_${process.pid}`;
  const subject = `weirsoak.${process.pid}`;
  const t0 = Date.now();
  try {
    await runMigrations(url);
    console.log(
      `soak crash: ${ROUNDS} rounds, seed ${SEED}, ${ROWS} rows a file (keys 1..${KEYS}), database ${db.name}`,
    );
    nc = await natsConnection();
    console.log(
      nc
        ? `  stream consumer: a worker process consuming a NATS JetStream source (${NATS_URL}), ${STREAM_MESSAGES} messages a round; CDC consumers are not driven here (their kills are in the ingestion-cdc e2e tests)`
        : `  stream consumer: SKIPPED (no NATS server answers at ${NATS_URL}); CDC consumers are not driven here (their kills are in the ingestion-cdc e2e tests)`,
    );

    // ---- setup: the dataset and its merge source (through the CLI's own modules), the project and its pipeline ----
    const run = async (args: string[], what: string) => {
      const ch = weir(args, env);
      const { code } = await ch.code;
      if (code !== 0) throw new Error(`${what}: exit ${code}\n${ch.out()}`);
      return ch.out();
    };
    if (nc) {
      jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: streamName, subjects: [`${subject}.>`] });
    }
    await defineSources(url, work, nc ? { stream: streamName, subject: `${subject}.>` } : undefined);
    const project = path.join(work, 'project');
    fs.mkdirSync(path.join(project, 'models'), { recursive: true });
    fs.mkdirSync(path.join(project, 'pipelines'), { recursive: true });
    fs.writeFileSync(path.join(project, 'dbt_project.yml'), 'name: soak\nversion: "1.0"\n');
    fs.writeFileSync(
      path.join(project, 'models', 'orders_inc.sql'),
      "{{ config(materialized='incremental', unique_key='id') }}\nselect id, customer_id, amount, status, version from raw.orders\n{% if is_incremental() %} where version > (select coalesce(max(version), 0) from {{ this }}) {% endif %}\n",
    );
    fs.writeFileSync(
      path.join(project, 'models', 'customer_totals.sql'),
      "{{ config(materialized='table') }}\nselect customer_id, count(*) as orders, sum(amount) as total, max(version) as last_version from {{ ref('orders_inc') }} group by customer_id\n",
    );
    fs.writeFileSync(
      path.join(project, 'models', 'schema.yml'),
      'version: 2\nmodels:\n  - name: customer_totals\n    columns:\n      - name: customer_id\n        data_tests: [not_null, unique]\n',
    );
    fs.writeFileSync(
      path.join(project, 'pipelines', 'soak.yml'),
      'name: soak_pipe\nsteps:\n  - id: ingest\n    kind: ingest\n    source: orders_merge\n    path: pipe.csv\n  - id: build\n    kind: build\n    project: soak\n    depends_on: [ingest]\n',
    );

    // ---- the data: each round's file, and what raw.orders must hold after it ----
    const expected = new Map<number, Row>();
    let version = 0;
    const writeFile = (file: string) => {
      version++;
      const parts: string[] = ['id,customer_id,amount,status,version\n'];
      let chunk = '';
      const next = new Map<number, Row>();
      for (let i = 0; i < ROWS; i++) {
        const id = 1 + Math.floor(rand() * KEYS);
        const r: Row = {
          customer: 1 + Math.floor(rand() * 5000),
          cents: Math.floor(rand() * 1_000_000),
          status: pick(STATUSES),
          version,
        };
        next.set(id, r); // the last row of a key in the file wins
        chunk += line(id, r) + '\n';
        if (chunk.length > 1 << 20) {
          parts.push(chunk);
          chunk = '';
        }
      }
      parts.push(chunk);
      fs.writeFileSync(file, parts.join(''));
      return () => {
        for (const [id, r] of next) expected.set(id, r);
      };
    };

    // the stream: each round publishes messages (keys repeat and update across rounds); the dataset
    // `events` must hold the last message of each key, in stream order
    const streamExpected = new Map<number, Row>();
    let streamSeq = 0;
    const publish = async (): Promise<() => void> => {
      version++;
      const js = nc!.jetstream();
      const sc = StringCodec();
      const next = new Map<number, Row>();
      const streamKeys = Math.max(10, Math.round(STREAM_MESSAGES * 0.8));
      for (let i = 0; i < STREAM_MESSAGES; i += 500) {
        const acks = [];
        for (let j = i; j < Math.min(STREAM_MESSAGES, i + 500); j++) {
          const id = 1 + Math.floor(rand() * streamKeys);
          const r: Row = {
            customer: 1 + Math.floor(rand() * 5000),
            cents: Math.floor(rand() * 1_000_000),
            status: pick(STATUSES),
            version,
          };
          next.delete(id);
          next.set(id, r);
          const msg = { id, customer_id: r.customer, amount: fmtAmount(r.cents), status: r.status, version };
          acks.push(js.publish(`${subject}.orders`, sc.encode(JSON.stringify(msg))));
        }
        for (const a of await Promise.all(acks)) streamSeq = Math.max(streamSeq, a.seq);
      }
      return () => {
        for (const [id, r] of next) streamExpected.set(id, r);
      };
    };
    /** Runs a worker until the stream source has committed every published message, then stops it (SIGTERM). */
    const consumeAll = async (): Promise<{ ok: boolean; out: string }> => {
      const w = worker(env, await freePort());
      let exitedEarly = false;
      void w.code.then(() => (exitedEarly = true));
      const until = Date.now() + 180_000;
      let ok = false;
      while (!exitedEarly && Date.now() < until) {
        const { rows } = await c.query(
          `SELECT s.watermark, (SELECT count(*)::int FROM ingestion.runs r WHERE r.source_id = s.id AND r.status IN ('queued', 'running')) AS live
             FROM ingestion.sources s WHERE s.name = 'events_stream'`,
        );
        if (rows[0] && Number(rows[0].watermark ?? 0) >= streamSeq && rows[0].live === 0) {
          ok = true;
          break;
        }
        await sleep(100);
      }
      w.kill('SIGTERM');
      const t = setTimeout(() => w.kill('SIGKILL'), 30_000);
      const { signal } = await w.code;
      clearTimeout(t);
      if (signal === 'SIGKILL') return { ok: false, out: `the worker did not stop within 30 s of SIGTERM\n${w.out()}` };
      return { ok, out: w.out() };
    };

    const commands: Record<
      Workload,
      (round: number) => { args: string[]; prepare?: () => (() => void) | Promise<() => void> }
    > = {
      load: (round) => {
        const file = path.join(inbox, `load-${round}.csv`);
        return { args: ['load', file, '--source', 'orders_merge'], prepare: () => writeFile(file) };
      },
      build: () => ({ args: ['build', '--project', 'soak'] }),
      pipeline: (round) => ({
        args: ['pipelines', 'run', 'soak_pipe', '--key', `soak-round-${round}`],
        prepare: () => writeFile(path.join(inbox, 'pipe.csv')),
      }),
      stream: () => ({ args: [], prepare: publish }),
    };

    // a first, complete load, project and build: the state every round starts from, and how long
    // each workload works once its process is up (the kill moments fall within that)
    const durations: Record<Workload, number> = { load: 0, build: 0, pipeline: 0, stream: 0 };
    {
      const apply = writeFile(path.join(inbox, 'load-0.csv'));
      let m = await marks();
      await run(commands.load(0).args, 'first load');
      apply();
      durations.load = await workMs(m);
      await run(['project', 'import', project], 'project import');
      await run(['pipelines', 'apply', project], 'pipelines apply');
      m = await marks();
      await run(commands.build(0).args, 'first build');
      durations.build = await workMs(m);
      durations.pipeline = durations.load + durations.build;
      if (nc) {
        const applyStream = await publish();
        m = await marks();
        const first = await consumeAll();
        if (!first.ok) throw new Error(`first stream consumption did not complete\n${first.out}`);
        applyStream();
        durations.stream = await workMs(m);
      }
      console.log(
        `  setup: first load ${(durations.load / 1000).toFixed(1)} s, first build ${(durations.build / 1000).toFixed(1)} s${nc ? `, first stream consumption ${(durations.stream / 1000).toFixed(1)} s` : ''} of work (process start not counted)`,
      );
      await verify(0, 'setup');
    }

    // ---- rounds ----
    const order: Workload[] = nc ? ['load', 'build', 'pipeline', 'stream'] : ['load', 'build', 'pipeline'];
    for (let round = 1; round <= ROUNDS; round++) {
      const workload = order[(round - 1) % order.length];
      const cmd = commands[workload](round);
      const apply = await cmd.prepare?.();
      const target = pick(PHASES[workload]);
      const fraction = 0.02 + 0.96 * rand();
      let deadline = Infinity;
      const before = await marks();
      const tr = Date.now();
      const proc = workload === 'stream' ? worker(env, await freePort()) : weir(cmd.args, env);
      let exited: { code: number | null; signal: string | null } | undefined;
      void proc.code.then((e) => (exited = e));
      // poll until the target phase shows or the deadline passes
      let observed = 'startup';
      for (;;) {
        if (exited) break;
        // until the child created its run, its statements are its start (the recovery of what a dead
        // process left included); the random moment counts from then
        if (deadline === Infinity && (await newRuns(before)).length) {
          deadline = Date.now() + Math.round(fraction * durations[workload]);
          observed = workload === 'build' ? 'build' : 'reading';
        }
        const ph = deadline === Infinity ? undefined : await phaseNow();
        if (ph) observed = ph;
        if (observed === target || Date.now() >= deadline) break;
        await sleep(5);
      }
      let killedAt: string;
      /** Each new run's status as the dead process left it (read after its exit, before any restart). */
      const atKill = new Map<string, string>();
      /** The pipeline steps the dead process held (running), with their attempt number. */
      let heldSteps: { id: string; attempt: number }[] = [];
      if (exited) {
        killedAt = 'none (it ended first)';
      } else {
        proc.kill();
        await proc.code;
        for (const r of await newRuns(before)) atKill.set(r.id, r.status);
        heldSteps = (
          await c.query(
            `SELECT s.id::text, s.attempt FROM orchestration.step_runs s JOIN orchestration.runs r ON r.id = s.run_id
              WHERE r.created_at >= $1 AND s.status = 'running'`,
            [before.at],
          )
        ).rows;
        killedAt = observed;
      }
      kills[killedAt] = (kills[killedAt] ?? 0) + 1;
      killsByWorkload[workload] = (killsByWorkload[workload] ?? 0) + 1;
      const killedRuns = await newRuns(before);

      // restart: the same command again, until it completes (a pipeline run whose step lease had not
      // yet expired answers with the same run, which fails when the lease is taken back; the next one runs)
      let attempts = 0;
      let ok = false;
      let lastOut = '';
      while (!ok && attempts < 4) {
        attempts++;
        if (workload === 'stream') {
          const r = await consumeAll();
          ok = r.ok;
          lastOut = r.out;
          continue;
        }
        const again = weir(cmd.args, env);
        const { code } = await again.code;
        ok = code === 0;
        lastOut = again.out();
        if (!ok && VERBOSE) console.log(`    restart ${attempts}: exit ${code}: ${lastOut.trim().split('\n').pop()}`);
      }
      restarts += attempts;
      if (!ok) failures.push(`round ${round} (${workload}): the re-run did not complete: ${lastOut.slice(-500)}`);
      apply?.();

      // the killed work: an ingestion run or build the dead process was executing (running at the kill)
      // ends failed, never succeeded. A run still queued at the kill had not started: the restart's
      // worker may take it from the queue and complete it. A pipeline run is the orchestrator's: it
      // may go on and succeed, but only by a new attempt of each step the dead process held (that
      // attempt's own ingestion run or build is a new one), never by the killed attempt.
      const after = await runsById(killedRuns.map((r) => r.id));
      for (const r of killedRuns) {
        const status = after.get(r.id);
        const was = atKill.get(r.id);
        if (status === 'running' || status === 'queued') {
          failures.push(`round ${round} (${workload}): the killed ${r.kind} ${r.id} is still ${status}`);
        } else if (status === 'succeeded' && was === 'running' && r.kind !== 'pipeline run') {
          killedSucceeded++;
          failures.push(
            `round ${round} (${workload}): the killed ${r.kind} ${r.id} (running at the kill) ended succeeded`,
          );
        }
      }
      if (heldSteps.length) {
        const now = new Map(
          (
            await c.query(`SELECT id::text, status, attempt FROM orchestration.step_runs WHERE id::text = ANY($1)`, [
              heldSteps.map((s) => s.id),
            ])
          ).rows.map((s) => [s.id as string, s as { status: string; attempt: number }]),
        );
        for (const h of heldSteps) {
          const s = now.get(h.id);
          if (s && s.status === 'succeeded' && s.attempt <= h.attempt) {
            killedSucceeded++;
            failures.push(
              `round ${round} (${workload}): pipeline step ${h.id} held by the dead process (attempt ${h.attempt}) ended succeeded without a new attempt`,
            );
          }
        }
      }
      const v = await verify(round, workload);
      console.log(
        `  round ${String(round).padStart(2)} ${workload.padEnd(8)} target ${target.padEnd(10)} killed at ${killedAt.padEnd(10)} after ${((Date.now() - tr) / 1000).toFixed(1).padStart(4)} s; killed runs: ${
          killedRuns
            .map((r) => `${r.kind} ${atKill.has(r.id) ? `${atKill.get(r.id)}→` : ''}${after.get(r.id)}`)
            .join(', ') || 'none'
        }; restarts ${attempts}; ${v}`,
      );
    }

    async function marks(): Promise<{ at: string }> {
      const { rows } = await c.query(`SELECT clock_timestamp()::text AS at`);
      return rows[0];
    }

    /** From the first run created since `m` to the last one's end. */
    async function workMs(m: { at: string }): Promise<number> {
      const { rows } = await c.query(
        `SELECT extract(epoch FROM max(f) - min(s)) * 1000 AS ms FROM (
           SELECT created_at AS s, finished_at AS f FROM ingestion.runs WHERE created_at >= $1
           UNION ALL SELECT started_at, finished_at FROM modeling.builds WHERE started_at >= $1) x`,
        [m.at],
      );
      return Math.max(200, Number(rows[0].ms ?? 1000));
    }

    /** Runs, builds and pipeline runs created since `m`. */
    async function newRuns(m: { at: string }): Promise<{ id: string; kind: string; status: string }[]> {
      const { rows } = await c.query(
        `SELECT id::text, 'ingestion run' AS kind, status FROM ingestion.runs WHERE created_at >= $1
         UNION ALL SELECT id::text, 'build', status FROM modeling.builds WHERE started_at >= $1
         UNION ALL SELECT id::text, 'pipeline run', status FROM orchestration.runs WHERE created_at >= $1`,
        [m.at],
      );
      return rows;
    }

    async function runsById(ids: string[]): Promise<Map<string, string>> {
      const { rows } = await c.query(
        `SELECT id::text, status FROM ingestion.runs WHERE id::text = ANY($1)
         UNION ALL SELECT id::text, status FROM modeling.builds WHERE id::text = ANY($1)
         UNION ALL SELECT id::text, status FROM orchestration.runs WHERE id::text = ANY($1)`,
        [ids],
      );
      return new Map(rows.map((r) => [r.id, r.status]));
    }

    /** Where the child is, by its active statements (undefined: none says). */
    async function phaseNow(): Promise<string | undefined> {
      const { rows } = await c.query(
        `SELECT query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
            AND state IN ('active', 'idle in transaction') AND backend_type = 'client backend'`,
      );
      for (const r of rows) {
        const ph = classify(r.query as string);
        if (ph) return ph;
      }
      return undefined;
    }

    /** A table against the rows it must hold: keys lost or stale, rows doubled, count and checksum (one read of the table). */
    async function compare(table: string, want: Map<number, Row>) {
      const exp = expectedChecksum(want);
      const actual = new Map<number, string>();
      const res = await c.query(
        `SELECT id::bigint AS id, id || '|' || customer_id || '|' || amount || '|' || status || '|' || version AS v FROM ${table} ORDER BY id`,
      );
      // the checksum of what the table holds, as expectedChecksum computes it: every row, in id order
      const md5 = crypto.createHash('md5');
      res.rows.forEach((r, i) => {
        actual.set(Number(r.id), r.v as string);
        md5.update(`${i ? ',' : ''}${r.v as string}`);
      });
      const n = res.rows.length;
      let lost = 0;
      let doubled = n - actual.size;
      for (const [id, r] of want) {
        if (actual.get(id) !== `${id}|${r.customer}|${fmtAmount(r.cents)}|${r.status}|${r.version}`) lost++;
      }
      for (const id of actual.keys()) if (!want.has(id)) doubled++;
      return { exp, n, h: md5.digest('hex'), lost, doubled };
    }

    /** The round's checks; returns a summary and records failures. */
    async function verify(round: number, workload: string): Promise<string> {
      const fail = (m: string) => failures.push(`round ${round} (${workload}): ${m}`);
      // raw.orders (and the stream's raw.events) against the harness's own expectation
      const tables: [string, Map<number, Row>][] = [['raw.orders', expected]];
      if (nc) tables.push(['raw.events', streamExpected]);
      let n = 0;
      let h = '';
      let lost = 0;
      let doubled = 0;
      for (const [table, want] of tables) {
        const r = await compare(table, want);
        if (r.lost) fail(`${r.lost} keys of ${table} missing or not their last version`);
        if (r.doubled) fail(`${r.doubled} rows of ${table} doubled or never loaded`);
        if (r.n !== r.exp.n || r.h !== r.exp.md5)
          fail(`${table}: ${r.n} rows md5 ${r.h}, expected ${r.exp.n} rows md5 ${r.exp.md5}`);
        lost += r.lost;
        doubled += r.doubled;
        if (table === 'raw.orders') ({ n, h } = r);
        else if (workload === 'stream') ({ n, h } = r);
      }
      rowsLost += lost;
      rowsDoubled += doubled;

      // the models, after a round that built them: the same SQL on the source
      if (workload === 'build' || workload === 'pipeline') {
        const diff = async (a: string, b: string) =>
          (await c.query(`SELECT count(*)::int AS n FROM ((${a} EXCEPT ALL ${b}) UNION ALL (${b} EXCEPT ALL ${a})) d`))
            .rows[0].n as number;
        const d1 = await diff(
          'SELECT id, customer_id, amount, status, version FROM raw.orders',
          'SELECT id, customer_id, amount, status, version FROM analytics.orders_inc',
        );
        const d2 = await diff(
          'SELECT customer_id, count(*) AS orders, sum(amount) AS total, max(version) AS last_version FROM raw.orders GROUP BY customer_id',
          'SELECT customer_id, orders, total, last_version FROM analytics.customer_totals',
        );
        if (d1) fail(`analytics.orders_inc differs from raw.orders by ${d1} rows`);
        if (d2) fail(`analytics.customer_totals differs from its query on raw.orders by ${d2} rows`);
        rowsLost += d1 + d2;
      }

      // leftovers
      const left: string[] = [];
      const rels = await c.query(
        `SELECT n.nspname || '.' || c.relname AS r FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'v', 'm', 'p') AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
            AND ((n.nspname IN ('raw', 'analytics') AND c.relname NOT IN ('orders', 'events', 'orders_inc', 'customer_totals'))
                 OR c.relname LIKE '%\\_\\_weir%' OR c.relname LIKE '%\\_\\_dbt\\_tmp%' OR c.relname LIKE '%\\_\\_dbt\\_backup%')`,
      );
      left.push(...rels.rows.map((r) => `relation ${r.r}`));
      const locks = await c.query(
        `SELECT l.pid, l.objid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
          WHERE l.locktype = 'advisory' AND d.datname = current_database()`,
      );
      left.push(...locks.rows.map((r) => `advisory lock ${r.objid} held by ${r.pid}`));
      const running = await c.query(
        `SELECT 'ingestion run ' || id AS r FROM ingestion.runs WHERE status IN ('queued', 'running')
         UNION ALL SELECT 'build ' || id FROM modeling.builds WHERE status = 'running'
         UNION ALL SELECT 'pipeline run ' || id FROM orchestration.runs WHERE status IN ('queued', 'running')
         UNION ALL SELECT 'step lease ' || id FROM orchestration.step_runs WHERE status = 'running' OR lease_owner IS NOT NULL`,
      );
      left.push(...running.rows.map((r) => `${r.r} still active`));
      const slots = await c.query(`SELECT slot_name FROM pg_replication_slots WHERE database = current_database()`);
      left.push(...slots.rows.map((r) => `replication slot ${r.slot_name}`));
      if (left.length) fail(`left behind: ${left.join('; ')}`);
      leftovers += left.length;

      // the books: row accounting of succeeded runs, the source's watermark
      const books = await c.query(
        `SELECT id FROM ingestion.runs WHERE status = 'succeeded' AND rows_read <> rows_loaded + rows_rejected + rows_deduplicated`,
      );
      if (books.rowCount) fail(`${books.rowCount} succeeded runs whose rows do not add up`);
      const wm = await c.query(
        `SELECT s.watermark IS NOT DISTINCT FROM (SELECT r.watermark_after FROM ingestion.runs r WHERE r.source_id = s.id AND r.status = 'succeeded'
                 AND r.watermark_after IS NOT NULL ORDER BY r.finished_at DESC LIMIT 1) AS ok
           FROM ingestion.sources s`,
      );
      if (wm.rows.some((r) => !r.ok)) fail(`a source's watermark is not its last succeeded run's`);
      return `${workload === 'stream' ? 'raw.events' : 'raw.orders'} ${n} rows md5 ${h.slice(0, 8)}${lost || doubled ? ` LOST ${lost} DOUBLED ${doubled}` : ''}${left.length ? ` LEFTOVERS ${left.length}` : ''}`;
    }
  } catch (e) {
    failures.push(`the soak stopped: ${(e as Error).stack ?? String(e)}`);
  } finally {
    if (jsm) await jsm.streams.delete(streamName).catch(() => undefined);
    await nc?.close().catch(() => undefined);
    await db.close({ keep: KEEP });
  }
  for (const f of failures) console.log(`FAIL ${f}`);
  console.log(
    `${ROUNDS} rounds in ${((Date.now() - t0) / 1000).toFixed(0)} s; ${failures.length ? `${failures.length} failed checks` : 'every check passed'}`,
  );
  console.log(
    JSON.stringify({
      soak: 'crash',
      rounds: ROUNDS,
      seed: SEED,
      rows_per_file: ROWS,
      kills_by_workload: killsByWorkload,
      kills_by_phase: kills,
      restarts,
      rows_lost: rowsLost,
      rows_doubled: rowsDoubled,
      leftovers,
      killed_runs_succeeded: killedSucceeded,
      failed_checks: failures.length,
      seconds: Math.round((Date.now() - t0) / 1000),
    }),
  );
  if (failures.length) process.exitCode = 1;
}

/**
 * The dataset `orders` and its merge source, and (with NATS) the dataset `events` and its stream
 * source, through the catalog and ingestion services (no HTTP needed).
 */
async function defineSources(url: string, work: string, stream?: { stream: string; subject: string }): Promise<void> {
  const config = loadConfig({ DATABASE_URL: url, WEIR_LOG_LEVEL: 'warn', WEIR_DATA_DIR: work, WEIR_ROLES: 'api' });
  @Module({
    imports: [PlatformModule.forRoot({ config, databaseUrl: url, warehouseUrl: url }), CatalogModule, IngestionModule],
  })
  class SetupModule {}
  const app = await NestFactory.createApplicationContext(SetupModule, { logger: ['error', 'warn'] });
  await app.init();
  const contract = {
    columns: [
      { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
      { name: 'customer_id', type: 'bigint', nullable: false },
      { name: 'amount', type: 'numeric(12,2)', nullable: false },
      { name: 'status', type: 'text', nullable: false, allowed: STATUSES },
      { name: 'version', type: 'integer', nullable: false },
    ],
  };
  const catalog = app.get(CATALOG) as unknown as { create: (i: unknown, by: string) => Promise<unknown> };
  try {
    await catalog.create({ name: 'orders', contract }, 'soak');
    await app.get(SourcesService).create({
      name: 'orders_merge',
      dataset: 'orders',
      format: 'csv',
      strategy: { kind: 'merge' },
      maxRejectedRatio: 0,
    });
    if (stream) {
      await catalog.create({ name: 'events', contract }, 'soak');
      await app.get(SourcesService).create({
        name: 'events_stream',
        dataset: 'events',
        connector: {
          kind: 'nats_jetstream',
          servers: [NATS_URL],
          stream: stream.stream,
          subject: stream.subject,
          batchMessages: 1000,
          batchMs: 200,
          ackWaitMs: 5000,
        },
        strategy: { kind: 'merge' },
        maxRejectedRatio: 0,
      } as Parameters<SourcesService['create']>[0]);
    }
  } finally {
    await app.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
