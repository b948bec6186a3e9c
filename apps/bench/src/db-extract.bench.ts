/* eslint-disable no-console -- a command-line report */
/**
 * `npm run bench:db-extract -- --rows 2000000`: a table copied from one PostgreSQL database to
 * another through a `postgres_query` source (server-side cursor, contract validation, COPY into a
 * stage, replace), against PostgreSQL's own tools in the same run:
 * `psql -c "\copy (select …) to stdout" | psql -c "\copy … from stdin"` into an identical table
 * with its primary key. Both copies are compared row for row (EXCEPT both ways).
 * Last line: {"bench":"db-extract","rows":…,"baseline_s":…,"weir_s":…,"ratio":…,"peak_rss_mb":…}.
 */
import 'reflect-metadata';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { Client } from 'pg';
import { runMigrations } from '@weir/platform';
import { arg, benchDatabase, median } from './support';

const ROWS = Number(arg('rows', '2000000'));
const REPEAT = Number(arg('repeat', '3'));
const VERBOSE = process.argv.includes('--verbose');

const TABLE_DDL = (t: string) =>
  `CREATE TABLE ${t} (id bigint PRIMARY KEY, customer_id bigint NOT NULL, ordered_at timestamptz NOT NULL, status text NOT NULL, amount numeric(12,2) NOT NULL, currency varchar(3) NOT NULL, email text NOT NULL, note text)`;
const COLUMNS = 'id, customer_id, ordered_at, status, amount, currency, email, note';

/** The source table: ROWS rows made by PostgreSQL (deterministic, varied text, some nulls). */
const FILL = (rows: number) => `INSERT INTO public.orders
  SELECT i, 1 + (i * 7919) % 100000,
         timestamptz '2025-01-01 00:00:00+00' + ((i * 104729) % 31536000) * interval '1 second' + (i % 1000) * interval '1 microsecond',
         (ARRAY['new','paid','shipped','cancelled','refunded'])[1 + i % 5],
         round(((i * 2654435761) % 1000000) / 100.0, 2),
         (ARRAY['EUR','USD','GBP','JPY','CHF'])[1 + i % 5],
         'user' || (1 + (i * 7919) % 100000) || '@example.com',
         CASE WHEN i % 10 = 0 THEN NULL WHEN i % 7 = 0 THEN E'line one\\nline two café ' || i ELSE (ARRAY['café','naïve','Zoë','straße','東京','plain'])[1 + i % 6] || ' ' || i END
    FROM generate_series(1::bigint, ${rows}) AS i`;

async function main(): Promise<void> {
  try {
    execFileSync('psql', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('psql is needed for the baseline (apt-get install postgresql-client)');
  }
  const db = await benchDatabase('weir_dbx');
  const { work, url, client: c } = db;
  // the source: another database on the same server
  const srcName = `${db.name}_src`;
  const srcUrl = (() => {
    const u = new URL(url);
    u.pathname = `/${srcName}`;
    return u.toString();
  })();
  await c.query(`CREATE DATABASE ${srcName}`);
  const src = new Client({ connectionString: srcUrl });
  await src.connect();
  try {
    console.log(`bench db-extract: ${ROWS} rows in the source table…`);
    await src.query(TABLE_DDL('public.orders'));
    await src.query(FILL(ROWS));
    await src.query('VACUUM ANALYZE public.orders');
    const size = (await src.query(`SELECT pg_size_pretty(pg_total_relation_size('public.orders')) AS s`)).rows[0].s;
    console.log(`  source table: ${size}`);

    await runMigrations(url);
    await c.query(`CREATE SCHEMA baseline; ${TABLE_DDL('baseline.orders')}`);

    const root = path.resolve(__dirname, '..', '..', '..');
    execFileSync(process.execPath, [path.join(root, 'tools/build.js'), '--quiet'], { stdio: 'inherit' });
    const runner = path.join(root, 'dist/apps/bench/src/db-extract-runner.js');
    const env = {
      ...process.env,
      DATABASE_URL: url,
      WEIR_DATA_DIR: work,
      WEIR_BENCH_SRC_URL: srcUrl,
      ...(VERBOSE ? { WEIR_BENCH_VERBOSE: '1' } : {}),
    };
    const weir = (...args: string[]) => {
      const r = spawnSync(process.execPath, [runner, ...args], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
      if (r.status !== 0) throw new Error(`weir runner failed: ${r.stderr}`);
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

    const baseline = (): number => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(
        'bash',
        [
          '-o',
          'pipefail',
          '-c',
          `psql "$SRC" -v ON_ERROR_STOP=1 -q -c "\\copy (SELECT ${COLUMNS} FROM public.orders) TO STDOUT" | psql "$DST" -v ON_ERROR_STOP=1 -q -c "\\copy baseline.orders (${COLUMNS}) FROM STDIN"`,
        ],
        { env: { ...process.env, SRC: srcUrl, DST: url }, encoding: 'utf8' },
      );
      if (r.status !== 0) throw new Error(`baseline failed: ${r.stderr}`);
      return Number(process.hrtime.bigint() - t0) / 1e9;
    };

    let peak = 0;
    const tb: number[] = [];
    const tw: number[] = [];
    for (let it = 1; it <= REPEAT; it++) {
      await c.query('TRUNCATE baseline.orders');
      await c.query('CHECKPOINT').catch(() => undefined);
      tb.push(baseline());
      await c.query('CHECKPOINT').catch(() => undefined);
      const r = weir('load', `extract-${it}`);
      if (r.run.status !== 'succeeded' || r.run.rowsLoaded !== ROWS)
        throw new Error(`weir run: ${JSON.stringify(r.run)}`);
      peak = Math.max(peak, r.maxRssMb);
      tw.push(r.seconds);
      console.log(
        `  iteration ${it}: baseline ${tb[it - 1].toFixed(2)} s / weir ${tw[it - 1].toFixed(2)} s; weir peak RSS ${peak} MB`,
      );
    }
    const base = median(tb);
    const w = median(tw);
    console.log(
      `baseline (psql \\copy to stdout | psql \\copy from stdin): ${base.toFixed(2)} s, ${Math.round(ROWS / base)} rows/s (median of ${REPEAT})`,
    );
    console.log(`weir postgres_query → replace: ${w.toFixed(2)} s, ${Math.round(ROWS / w)} rows/s`);
    const same = await c.query(
      `SELECT (SELECT count(*) FROM raw.orders) AS weir, (SELECT count(*) FROM baseline.orders) AS base,
              (SELECT count(*) FROM (SELECT ${COLUMNS} FROM raw.orders EXCEPT SELECT ${COLUMNS} FROM baseline.orders) d) AS d1,
              (SELECT count(*) FROM (SELECT ${COLUMNS} FROM baseline.orders EXCEPT SELECT ${COLUMNS} FROM raw.orders) d) AS d2`,
    );
    const s = same.rows[0];
    console.log(`check: weir ${s.weir} rows, baseline ${s.base} rows, ${s.d1} + ${s.d2} differing`);
    if (Number(s.d1) !== 0 || Number(s.d2) !== 0 || s.weir !== s.base)
      throw new Error('Weir and the baseline disagree on the data');
    const result = {
      bench: 'db-extract',
      rows: ROWS,
      repeat: REPEAT,
      baseline_s: +base.toFixed(3),
      weir_s: +w.toFixed(3),
      rows_per_s: Math.round(ROWS / w),
      peak_rss_mb: peak,
      ratio: +(w / base).toFixed(3),
    };
    console.log(JSON.stringify(result));
  } finally {
    await src.end().catch(() => undefined);
    await c.query(`DROP DATABASE IF EXISTS ${srcName} WITH (FORCE)`).catch(() => undefined);
    await db.close();
  }
}

main().catch((e) => {
  console.error(`bench db-extract failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
