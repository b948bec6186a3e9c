/* eslint-disable no-console -- a command-line report */
/**
 * `npm run bench:quality -- --rows 2000000`: in one run, on the same table,
 *  (a) one hand-written query computing the 10 metrics in a single scan,
 *  (b) the same 10 checks as one query each (the GX way),
 *  (c) Weir's suite run (compiled to one scan, results built).
 * Last line: {"bench":"quality","rows":…,"single_scan_s":…,"per_check_s":…,"weir_s":…,"ratio":<c/a>}.
 */
import 'reflect-metadata';
import { arg, benchDatabase, median } from './support';
import { runSuite } from '@weir/quality';

const ROWS = Number(arg('rows', '2000000'));
const REPEAT = Number(arg('repeat', '3'));

const STATUSES = ['new', 'paid', 'shipped', 'cancelled', 'refunded'];
const EXPECTATIONS = [
  { type: 'expect_column_values_to_not_be_null', kwargs: { column: 'customer_id' } },
  { type: 'expect_column_values_to_be_in_set', kwargs: { column: 'status', value_set: STATUSES } },
  { type: 'expect_column_values_to_not_be_in_set', kwargs: { column: 'status', value_set: ['deleted'] } },
  { type: 'expect_column_values_to_be_between', kwargs: { column: 'amount', min_value: 0, max_value: 10000 } },
  { type: 'expect_column_value_lengths_to_be_between', kwargs: { column: 'email', min_value: 5, max_value: 100 } },
  { type: 'expect_column_values_to_match_regex', kwargs: { column: 'email', regex: '@' } },
  { type: 'expect_column_mean_to_be_between', kwargs: { column: 'amount', min_value: 0, max_value: 10000 } },
  { type: 'expect_column_min_to_be_between', kwargs: { column: 'created_at', min_value: '2000-01-01' } },
  { type: 'expect_column_max_to_be_between', kwargs: { column: 'score', max_value: 1 } },
  { type: 'expect_table_row_count_to_be_between', kwargs: { min_value: 1 } },
];

// (b): one query per check, as GX runs them (counts of unexpected values, or the aggregate)
const PER_CHECK = [
  `SELECT count(*) FILTER (WHERE customer_id IS NULL) FROM bench.orders`,
  `SELECT count(*) FILTER (WHERE status IS NOT NULL AND status NOT IN ('new','paid','shipped','cancelled','refunded')) FROM bench.orders`,
  `SELECT count(*) FILTER (WHERE status IN ('deleted')) FROM bench.orders`,
  `SELECT count(*) FILTER (WHERE amount IS NOT NULL AND NOT (amount >= 0 AND amount <= 10000)) FROM bench.orders`,
  `SELECT count(*) FILTER (WHERE email IS NOT NULL AND NOT (char_length(email) BETWEEN 5 AND 100)) FROM bench.orders`,
  `SELECT count(*) FILTER (WHERE email IS NOT NULL AND NOT (email ~ '@')) FROM bench.orders`,
  `SELECT avg(amount) FROM bench.orders`,
  `SELECT min(created_at) FROM bench.orders`,
  `SELECT max(score) FROM bench.orders`,
  `SELECT count(*) FROM bench.orders`,
];

// (a): the same 10 metrics, written by hand as one scan
const SINGLE = `SELECT count(*) FILTER (WHERE customer_id IS NULL) AS m1,
  count(*) FILTER (WHERE status IS NOT NULL AND status NOT IN ('new','paid','shipped','cancelled','refunded')) AS m2,
  count(*) FILTER (WHERE status IN ('deleted')) AS m3,
  count(*) FILTER (WHERE amount IS NOT NULL AND NOT (amount >= 0 AND amount <= 10000)) AS m4,
  count(*) FILTER (WHERE email IS NOT NULL AND NOT (char_length(email) BETWEEN 5 AND 100)) AS m5,
  count(*) FILTER (WHERE email IS NOT NULL AND NOT (email ~ '@')) AS m6,
  avg(amount) AS m7, min(created_at) AS m8, max(score) AS m9, count(*) AS m10
  FROM bench.orders`;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function main(): Promise<void> {
  const db = await benchDatabase('weir_qbench');
  const { client: c } = db;
  try {
    console.log(`bench quality: building a ${ROWS}-row table…`);
    await c.query(
      `CREATE SCHEMA bench; CREATE TABLE bench.orders (id bigint, customer_id int, status text, amount numeric(12,2), email text, created_at timestamptz, score double precision)`,
    );
    await c.query(
      `INSERT INTO bench.orders SELECT g, 1 + (g * 7919) % 100000, (ARRAY['new','paid','shipped','cancelled','refunded'])[1 + g % 5],
              ((g * 104729) % 1000000) / 100.0, 'user' || (g % 100000) || '@example.com', timestamptz '2025-01-01' + (g % 31536000) * interval '1 second', ((g * 31) % 1000) / 1000.0
         FROM generate_series(1, $1::bigint) g`,
      [ROWS],
    );
    await c.query('VACUUM ANALYZE bench.orders');
    await c.query(`SELECT count(*) FROM bench.orders`); // warm the cache for everyone
    const t = { single: [] as number[], per: [] as number[], weir: [] as number[] };
    let lastStatus = '';
    for (let i = 0; i < REPEAT; i++) {
      t.single.push(await time(() => c.query(SINGLE)));
      t.per.push(
        await time(async () => {
          for (const q of PER_CHECK) await c.query(q);
        }),
      );
      t.weir.push(
        await time(async () => {
          const r = await runSuite(c, { schema: 'bench', table: 'orders' }, EXPECTATIONS, { resultFormat: 'BASIC' });
          lastStatus = r.results.every((x) => x.success)
            ? 'all passed'
            : `failed: ${r.results
                .filter((x) => !x.success)
                .map((x) => x.expectation.type)
                .join(', ')}`;
        }),
      );
      console.log(
        `  iteration ${i + 1}: single scan ${t.single[i].toFixed(3)} s, per check ${t.per[i].toFixed(3)} s, weir ${t.weir[i].toFixed(3)} s`,
      );
    }
    const a = median(t.single);
    const b = median(t.per);
    const w = median(t.weir);
    console.log(`weir suite: ${lastStatus}`);
    console.log(
      `single scan (hand-written): ${a.toFixed(3)} s; one query per check: ${b.toFixed(3)} s; weir: ${w.toFixed(3)} s (medians of ${REPEAT})`,
    );
    console.log(`weir / single scan = ${(w / a).toFixed(3)}; per check / weir = ${(b / w).toFixed(2)}`);
    console.log(
      JSON.stringify({
        bench: 'quality',
        rows: ROWS,
        repeat: REPEAT,
        single_scan_s: +a.toFixed(3),
        per_check_s: +b.toFixed(3),
        weir_s: +w.toFixed(3),
        ratio: +(w / a).toFixed(3),
        per_check_over_weir: +(b / w).toFixed(2),
      }),
    );
  } finally {
    await db.close();
  }
}

main().catch((e) => {
  console.error(`bench quality failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
