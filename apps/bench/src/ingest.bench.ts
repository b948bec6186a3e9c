/* eslint-disable no-console -- a command-line report */
/**
 * `npm run bench:ingest -- --rows 2000000`: Weir's ingestion against PostgreSQL's own tools, in
 * one run, on the same machine and database.
 *  1. replace into an empty target with a primary key — baseline: `psql \copy` into an identical table;
 *     Weir: a source with a full contract and the replace strategy (validate, load, audit, swap).
 *  2. merge of a second file (10% updated keys, 10% new keys) into the 2M-row target — baseline:
 *     `psql \copy` into an unlogged staging table + one INSERT … ON CONFLICT DO UPDATE; Weir: merge.
 * Last line: {"bench":"ingest","rows":…,"replace_ratio":…,"merge_ratio":…,"peak_rss_mb":…}.
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { runMigrations } from '@weir/platform';
import { arg, benchDatabase, median } from './support';

const ROWS = Number(arg('rows', '2000000'));
const REPEAT = Number(arg('repeat', '3'));
const PROFILE = arg('profile', '');
const VERBOSE = process.argv.includes('--verbose');

/** Deterministic PRNG (mulberry32). */
function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const STATUSES = ['new', 'paid', 'shipped', 'cancelled', 'refunded'];
const CURRENCIES = ['EUR', 'USD', 'GBP', 'JPY', 'CHF'];
const WORDS = ['café', 'naïve', 'Zoë', 'straße', '東京', 'señor', 'plain', 'order', 'gift', 'rush'];

function row(id: number, r: () => number, variant = 0): string {
  const customer = 1 + Math.floor(r() * 100_000);
  const ts = new Date(Date.UTC(2025, 0, 1) + Math.floor(r() * 365 * 86_400_000) + variant * 1000).toISOString();
  const status = STATUSES[Math.floor(r() * STATUSES.length)];
  const amount = (r() * 10_000 + variant).toFixed(2);
  const currency = CURRENCIES[Math.floor(r() * CURRENCIES.length)];
  const email = `user${customer}@example.com`;
  const k = r();
  const w = WORDS[Math.floor(r() * WORDS.length)];
  const note =
    k < 0.6
      ? `${w} ${id}`
      : k < 0.8
        ? `"${w}, with comma and ""quotes"" ${id}"`
        : k < 0.9
          ? `"line one\nline two ${w}"`
          : '';
  return `${id},${customer},${ts},${status},${amount},${currency},${email},${note}\n`;
}

async function writeFile(file: string, ids: Iterable<[number, number]>, seed: number): Promise<number> {
  const out = fs.createWriteStream(file);
  const r = rng(seed);
  out.write('id,customer_id,ordered_at,status,amount,currency,email,note\n');
  let buf = '';
  let n = 0;
  for (const [id, variant] of ids) {
    buf += row(id, r, variant);
    n++;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.write(buf);
  out.end();
  await once(out, 'finish');
  return n;
}

function* range(from: number, to: number, variant = 0): Generator<[number, number]> {
  for (let i = from; i <= to; i++) yield [i, variant];
}

const TABLE_DDL = (t: string, unlogged = false) =>
  `CREATE ${unlogged ? 'UNLOGGED ' : ''}TABLE ${t} (id bigint ${unlogged ? '' : 'PRIMARY KEY'}, customer_id bigint NOT NULL, ordered_at timestamptz NOT NULL, status text NOT NULL, amount numeric(12,2) NOT NULL, currency varchar(3) NOT NULL, email text NOT NULL, note text)`;

function psql(url: string, command: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-q', '-c', command], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function main(): Promise<void> {
  try {
    execFileSync('psql', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('psql is needed for the baseline (apt-get install postgresql-client)');
  }
  const db = await benchDatabase('weir_bench');
  const { work, url, client: c } = db;
  try {
    const inbox = path.join(work, 'inbox');
    fs.mkdirSync(inbox);
    const file1 = path.join(inbox, 'orders.csv');
    const file2 = path.join(inbox, 'orders-merge.csv');
    console.log(`bench ingest: generating ${ROWS} rows…`);
    await writeFile(file1, range(1, ROWS), 42);
    const tenth = Math.floor(ROWS / 10);
    const mergeIds = function* (): Generator<[number, number]> {
      for (let i = 0; i < tenth; i++) yield [1 + Math.floor((i * ROWS) / tenth), 1];
      yield* range(ROWS + 1, ROWS + tenth);
    };
    const mergeRows = await writeFile(file2, mergeIds(), 7);
    console.log(
      `  ${path.basename(file1)}: ${(fs.statSync(file1).size / 1048576).toFixed(0)} MiB; ${path.basename(file2)}: ${mergeRows} rows`,
    );

    await runMigrations(url);
    await c.query(`CREATE SCHEMA baseline; ${TABLE_DDL('baseline.orders')}; ${TABLE_DDL('baseline.stage', true)}`);
    await c.query('CHECKPOINT').catch(() => undefined);

    // Weir runs in its own process, compiled (as `npm start` runs it), one load per process.
    const root = path.resolve(__dirname, '..', '..', '..');
    execFileSync(process.execPath, [path.join(root, 'tools/build.js'), '--quiet'], { stdio: 'inherit' });
    const runner = path.join(root, 'dist/apps/bench/src/ingest-runner.js');
    const env = {
      ...process.env,
      DATABASE_URL: url,
      WEIR_DATA_DIR: work,
      WEIR_INGEST_ROOT: inbox,
      ...(VERBOSE ? { WEIR_BENCH_VERBOSE: '1' } : {}),
    };
    const weir = (...args: string[]) => {
      // --profile <dir>: each load's process writes a V8 CPU profile there (open it in Chrome DevTools)
      const prof = PROFILE ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(PROFILE)] : [];
      const r = spawnSync(process.execPath, [...prof, runner, ...args], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
      if (r.status !== 0) throw new Error(`weir runner failed: ${r.stderr}`);
      // the figures are the runner's last JSON line; anything else it printed (a stray log line) is shown, not parsed
      const lines = r.stdout.trim().split('\n');
      const last = [...lines].reverse().find((l) => l.startsWith('{'));
      const other = lines.filter((l) => l !== last && l.trim());
      if (other.length) {
        const shown = VERBOSE ? other.filter((l) => / succeeded: /.test(l)) : other;
        console.log(`  weir runner said: ${shown.join('\n  ').slice(0, 2000)}`);
      }
      if (!last) throw new Error(`weir runner printed no result: ${r.stdout.slice(-2000)} ${r.stderr.slice(-2000)}`);
      return JSON.parse(last);
    };
    weir('setup');

    let peak = 0;
    const t: Record<'base1' | 'weir1' | 'base2' | 'weir2', number[]> = { base1: [], weir1: [], base2: [], weir2: [] };
    const weirRun = async (source: string, file: string, rows: number, key: string): Promise<number> => {
      const r = weir('load', source, file, key);
      if (r.run.status !== 'succeeded' || r.run.rowsLoaded !== rows)
        throw new Error(`${source} run: ${JSON.stringify(r.run)}`);
      peak = Math.max(peak, r.maxRssMb);
      return r.seconds;
    };
    for (let it = 1; it <= REPEAT; it++) {
      await c.query('TRUNCATE baseline.orders, baseline.stage');
      await c.query('CHECKPOINT').catch(() => undefined);
      // 1. replace: psql \copy into an empty table with a primary key, vs Weir replace
      t.base1.push(psql(url, `\\copy baseline.orders FROM '${file1}' WITH (FORMAT csv, HEADER true)`));
      await c.query('CHECKPOINT').catch(() => undefined);
      t.weir1.push(await weirRun('orders_replace', file1, ROWS, `replace-${it}`));
      // 2. merge: \copy into unlogged staging + INSERT … ON CONFLICT, vs Weir merge
      await c.query('CHECKPOINT').catch(() => undefined);
      const t2 = process.hrtime.bigint();
      psql(url, `\\copy baseline.stage FROM '${file2}' WITH (FORMAT csv, HEADER true)`);
      psql(
        url,
        `INSERT INTO baseline.orders SELECT * FROM baseline.stage ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, ordered_at = EXCLUDED.ordered_at, status = EXCLUDED.status, amount = EXCLUDED.amount, currency = EXCLUDED.currency, email = EXCLUDED.email, note = EXCLUDED.note`,
      );
      t.base2.push(Number(process.hrtime.bigint() - t2) / 1e9);
      await c.query('CHECKPOINT').catch(() => undefined);
      t.weir2.push(await weirRun('orders_merge', file2, mergeRows, `merge-${it}`));
      console.log(
        `  iteration ${it}: replace baseline ${t.base1[it - 1].toFixed(2)} s / weir ${t.weir1[it - 1].toFixed(2)} s; merge baseline ${t.base2[it - 1].toFixed(2)} s / weir ${t.weir2[it - 1].toFixed(2)} s; weir peak RSS ${peak} MB`,
      );
    }
    const base1 = median(t.base1);
    const weir1 = median(t.weir1);
    const base2 = median(t.base2);
    const weir2 = median(t.weir2);
    console.log(
      `baseline replace (psql \\copy): ${base1.toFixed(2)} s, ${Math.round(ROWS / base1)} rows/s (median of ${REPEAT})`,
    );
    console.log(`weir replace: ${weir1.toFixed(2)} s, ${Math.round(ROWS / weir1)} rows/s`);
    console.log(
      `baseline merge (\\copy + INSERT … ON CONFLICT): ${base2.toFixed(2)} s, ${Math.round(mergeRows / base2)} rows/s`,
    );
    console.log(`weir merge: ${weir2.toFixed(2)} s, ${Math.round(mergeRows / weir2)} rows/s`);

    const same = await c.query(
      `SELECT (SELECT count(*) FROM raw.orders) AS weir, (SELECT count(*) FROM baseline.orders) AS base,
              (SELECT count(*) FROM (SELECT * FROM raw.orders EXCEPT SELECT * FROM baseline.orders) d) AS diff`,
    );
    console.log(
      `check: weir ${same.rows[0].weir} rows, baseline ${same.rows[0].base} rows, ${same.rows[0].diff} differing`,
    );
    if (Number(same.rows[0].diff) !== 0 || same.rows[0].weir !== same.rows[0].base)
      throw new Error('Weir and the baseline disagree on the data');
    await c.end();

    const result = {
      bench: 'ingest',
      rows: ROWS,
      merge_rows: mergeRows,
      repeat: REPEAT,
      baseline_replace_s: +base1.toFixed(3),
      weir_replace_s: +weir1.toFixed(3),
      replace_rows_per_s: Math.round(ROWS / weir1),
      baseline_merge_s: +base2.toFixed(3),
      weir_merge_s: +weir2.toFixed(3),
      merge_rows_per_s: Math.round(mergeRows / weir2),
      replace_ratio: +(weir1 / base1).toFixed(3),
      merge_ratio: +(weir2 / base2).toFixed(3),
      peak_rss_mb: peak,
    };
    console.log(
      `replace ratio ${result.replace_ratio}, merge ratio ${result.merge_ratio}, peak RSS ${result.peak_rss_mb} MB`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await db.close();
  }
}

main().catch((e) => {
  console.error(`bench ingest failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
