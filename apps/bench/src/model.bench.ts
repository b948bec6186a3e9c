/* eslint-disable no-console -- a command-line report */
/**
 * `npm run bench:model -- --rows 2000000 [--repeat 5]`: an incremental model (merge on id) over
 * an orders table; time the full build, append 1% new rows, time the incremental build, `repeat`
 * times; `ratio` is the median of the pairs' incremental/full ratios.
 * Last line: {"bench":"model","rows":…,"full_s":…,"incremental_s":…,"ratio":…}. Target ratio ≤ 0.05.
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig, PlatformModule, runMigrations } from '@weir/platform';
import { arg, benchDatabase, median } from './support';
import { CatalogModule } from '@weir/catalog';
import { QualityModule } from '@weir/quality';
import { IngestionModule } from '@weir/ingestion';
import { ModelingModule, ModelingService } from '@weir/modeling';

const ROWS = Number(arg('rows', '2000000'));
const REPEAT = Number(arg('repeat', '5'));

async function main(): Promise<void> {
  const db = await benchDatabase('weir_mbench');
  const { work, url, client: c } = db;
  let app: Awaited<ReturnType<typeof NestFactory.createApplicationContext>> | undefined;
  try {
    await runMigrations(url);
    console.log(`bench model: building a ${ROWS}-row source table…`);
    await c.query(
      `CREATE SCHEMA src; CREATE TABLE src.orders (id bigint PRIMARY KEY, customer_id int, status text, amount numeric(12,2), created_at timestamptz)`,
    );
    await c.query(
      `INSERT INTO src.orders SELECT g, 1 + (g * 7919) % 100000, (ARRAY['new','paid','shipped'])[1 + g % 3], (g % 100000) / 100.0, timestamptz '2025-01-01' + g * interval '1 second' FROM generate_series(1, $1::bigint) g`,
      [ROWS],
    );
    await c.query('VACUUM ANALYZE src.orders');
    const projectDir = path.join(work, 'projects', 'bench');
    fs.mkdirSync(path.join(projectDir, 'models'), { recursive: true });
    fs.writeFileSync(path.join(projectDir, 'dbt_project.yml'), 'name: bench\n');
    fs.writeFileSync(
      path.join(projectDir, 'models', 'orders_inc.sql'),
      "{{ config(materialized='incremental', unique_key='id') }}\nselect id, customer_id, status, amount, created_at from src.orders\n{% if is_incremental() %} where id > (select max(id) from {{ this }}) {% endif %}",
    );
    const config = loadConfig({
      DATABASE_URL: url,
      WEIR_LOG_LEVEL: 'warn',
      WEIR_DATA_DIR: work,
      WEIR_ROLES: 'worker',
      WEIR_PROJECTS_ROOT: path.join(work, 'projects'),
    });
    @Module({
      imports: [
        PlatformModule.forRoot({ config, databaseUrl: url, warehouseUrl: url }),
        CatalogModule,
        QualityModule,
        IngestionModule,
        ModelingModule,
      ],
    })
    class BenchModule {}
    app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error', 'warn'] });
    await app.init();
    const modeling = app.get(ModelingService);
    await modeling.register('bench');
    const timeBuild = async (fullRefresh = false) => {
      const t0 = process.hrtime.bigint();
      const b = await modeling.waitForBuild((await modeling.build('bench', undefined, { fullRefresh })).id, 3_600_000);
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      if (b.status !== 'succeeded') throw new Error(`build failed: ${JSON.stringify(b.steps)}`);
      return { secs, rows: b.steps[0].rowsAffected };
    };
    // pairs, as the issue words it: time a full build, append 1% new rows, time the incremental
    // build; the ratio is the median of the pairs' ratios (each pair measured under the same load
    // on a shared machine)
    const extra = Math.max(1, Math.floor(ROWS / 100));
    const fulls: number[] = [];
    const incs: number[] = [];
    const ratios: number[] = [];
    let next = ROWS;
    for (let i = 0; i < REPEAT; i++) {
      const f = await timeBuild(i > 0);
      fulls.push(f.secs);
      await c.query(
        `INSERT INTO src.orders SELECT g, 1 + (g * 7919) % 100000, 'new', (g % 100000) / 100.0, timestamptz '2025-01-01' + g * interval '1 second' FROM generate_series($1::bigint + 1, $1::bigint + $2::bigint) g`,
        [next, extra],
      );
      next += extra;
      const r = await timeBuild();
      if (r.rows !== extra) throw new Error(`incremental build applied ${r.rows} rows, expected ${extra}`);
      incs.push(r.secs);
      ratios.push(r.secs / f.secs);
      console.log(
        `  pair ${i + 1}: full build ${f.secs.toFixed(2)} s (${f.rows} rows), incremental build ${r.secs.toFixed(3)} s (${r.rows} new rows): ${((100 * r.secs) / f.secs).toFixed(2)}%`,
      );
    }
    const total = (await c.query(`SELECT count(*)::int AS n FROM analytics.orders_inc`)).rows[0].n;
    if (total !== next) throw new Error(`unexpected contents: ${total} rows, expected ${next}`);
    const ratio = median(ratios);
    console.log(
      `full build ${median(fulls).toFixed(2)} s, incremental build ${median(incs).toFixed(3)} s (medians of ${REPEAT}); incremental / full = ${ratio.toFixed(4)} (median of the pairs' ratios; target ≤ 0.05)`,
    );
    console.log(
      JSON.stringify({
        bench: 'model',
        rows: ROWS,
        new_rows: extra,
        repeat: REPEAT,
        full_s: +median(fulls).toFixed(3),
        incremental_s: +median(incs).toFixed(3),
        ratio: +ratio.toFixed(4),
      }),
    );
  } finally {
    await app?.close();
    await db.close();
  }
}

main().catch((e) => {
  console.error(`bench model failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
