/* eslint-disable no-console -- a command-line report */
/**
 * `npm run bench:lineage-parse -- --models 200`: the column lineage of a generated 200-model project
 * (staging views, CTE-heavy marts with joins, aggregates, CASE, window functions, unions), against
 * the baseline of parsing the same SQL with libpg-query alone, in the same run. Target: < 2 s.
 * (`bench:lineage` is reserved for issue 6's graph benchmark: 100k datasets, p95 of traversals.)
 * Last line: {"bench":"lineage-parse","models":…,"lineage_s":…,"parse_only_s":…,"ratio":…,"edges":…}.
 */
import { parse } from 'libpg-query';
import { sqlLineage } from '@weir/lineage';
import { arg, median } from './support';

const MODELS = Number(arg('models', '200'));
const REPEAT = Number(arg('repeat', '3'));

function model(i: number): string {
  const src = `raw.src_${i % 20}`;
  const up = i >= 20 ? `mart.m_${i - 20}` : `raw.src_${(i + 1) % 20}`;
  if (i % 4 === 0)
    return `CREATE VIEW staging.v_${i} AS SELECT id, customer_id, lower(status) AS status, amount::numeric(12,2) AS amount, created_at FROM ${src} WHERE id IS NOT NULL`;
  return `CREATE TABLE mart.m_${i} AS
WITH base AS (
  SELECT s.id, s.customer_id, s.status, s.amount, s.created_at, u.segment
  FROM ${src} s LEFT JOIN ${up} u ON u.customer_id = s.customer_id
  WHERE s.created_at >= date '2025-01-01'
), ranked AS (
  SELECT b.*, row_number() OVER (PARTITION BY customer_id ORDER BY created_at DESC) AS rn,
         CASE WHEN amount > 100 THEN 'large' WHEN amount > 10 THEN 'medium' ELSE 'small' END AS size
  FROM base b
), totals AS (
  SELECT customer_id, segment, count(*) AS orders, sum(amount) AS revenue, max(created_at) AS last_order
  FROM ranked GROUP BY customer_id, segment
)
SELECT t.customer_id, t.segment, t.orders, t.revenue, t.last_order, r.size AS latest_size,
       coalesce(t.revenue / nullif(t.orders, 0), 0) AS avg_order,
       (SELECT count(*) FROM ${src} x WHERE x.customer_id = t.customer_id AND x.status = 'refunded') AS refunds
FROM totals t JOIN ranked r ON r.customer_id = t.customer_id AND r.rn = 1
UNION ALL
SELECT customer_id, 'unknown', 0, 0, NULL, NULL, 0, 0 FROM ${src} WHERE customer_id IS NULL
ORDER BY revenue DESC`;
}

async function main(): Promise<void> {
  const sqls = Array.from({ length: MODELS }, (_, i) => model(i));
  await parse('select 1'); // load the WASM module once, outside the timings
  const base: number[] = [];
  const lin: number[] = [];
  let edges = 0;
  for (let r = 0; r < REPEAT; r++) {
    let t0 = process.hrtime.bigint();
    for (const s of sqls) await parse(s);
    base.push(Number(process.hrtime.bigint() - t0) / 1e9);
    t0 = process.hrtime.bigint();
    edges = 0;
    for (const s of sqls) edges += (await sqlLineage(s)).columnLineage.length;
    lin.push(Number(process.hrtime.bigint() - t0) / 1e9);
    console.log(
      `  round ${r + 1}: parse only ${base[r].toFixed(3)} s, lineage ${lin[r].toFixed(3)} s (${edges} edges)`,
    );
  }
  const b = median(base);
  const l = median(lin);
  console.log(
    `${MODELS} models: lineage ${l.toFixed(3)} s (target < 2 s), parse only ${b.toFixed(3)} s, ratio ${(l / b).toFixed(2)}`,
  );
  console.log(
    JSON.stringify({
      bench: 'lineage-parse',
      models: MODELS,
      repeat: REPEAT,
      lineage_s: +l.toFixed(3),
      parse_only_s: +b.toFixed(3),
      ratio: +(l / b).toFixed(3),
      edges,
      target_met: l < 2,
    }),
  );
}

main().catch((e) => {
  console.error(`bench lineage-parse failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
