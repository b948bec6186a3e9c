/* eslint-disable no-console -- a command-line report */
/**
 * `npm run bench:export -- --rows 2000000 [--repeat 3] [--compression snappy]`: the orders dataset
 * exported to Parquet by Weir (streamed from PostgreSQL as the reader, written with
 * hyparquet-writer, one file) against DuckDB's own `COPY (SELECT * FROM read_csv(…)) TO 'x.parquet'`
 * of the same rows from a CSV written in the same run. Both outputs are read back by DuckDB and
 * compared (count, sum of amounts). `ratio` = Weir's median seconds / DuckDB's.
 * Last line: {"bench":"export","rows":…,"weir_s":…,"weir_cpu_s":…,"duckdb_s":…,"ratio":…} (`weir_cpu_s`: the
 * Node.js process's CPU seconds during Weir's export, PostgreSQL's not counted; steadier than wall
 * clock on a busy machine).
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { to as copyTo } from 'pg-copy-streams';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig, PlatformModule, runMigrations } from '@weir/platform';
import { CATALOG, CatalogModule, CatalogPort, LakeExportService } from '@weir/catalog';
import { arg, benchDatabase, median } from './support';

const ROWS = Number(arg('rows', '2000000'));
const REPEAT = Number(arg('repeat', '3'));
const COMPRESSION = arg('compression', 'snappy');

async function main(): Promise<void> {
  const db = await benchDatabase('weir_xbench');
  const { work, url, client: c } = db;
  let app: Awaited<ReturnType<typeof NestFactory.createApplicationContext>> | undefined;
  try {
    await runMigrations(url);
    console.log(`bench export: building a ${ROWS}-row orders table…`);
    await c.query(`CREATE SCHEMA IF NOT EXISTS raw`);
    await c.query(
      `CREATE TABLE raw.orders (id bigint PRIMARY KEY, customer_id integer, status text, amount numeric(12,2), created_at timestamptz, order_date date)`,
    );
    await c.query(
      `INSERT INTO raw.orders SELECT g, 1 + (g * 7919) % 100000, (ARRAY['new','paid','shipped'])[1 + g % 3], (g % 100000) / 100.0,
              timestamptz '2025-01-01' + g * interval '1 second', date '2025-01-01' + (g / 86400)::int FROM generate_series(1, $1::bigint) g`,
      [ROWS],
    );
    await c.query('VACUUM ANALYZE raw.orders');
    const csv = path.join(work, 'orders.csv');
    await pipeline(
      c.query(copyTo(`COPY raw.orders TO STDOUT WITH (FORMAT csv, HEADER true)`)),
      fs.createWriteStream(csv),
    );

    const config = loadConfig({
      DATABASE_URL: url,
      WEIR_LOG_LEVEL: 'warn',
      WEIR_DATA_DIR: work,
      WEIR_ROLES: 'worker',
    });
    @Module({ imports: [PlatformModule.forRoot({ config, databaseUrl: url, warehouseUrl: url }), CatalogModule] })
    class BenchModule {}
    app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error', 'warn'] });
    await app.init();
    await app.get<CatalogPort>(CATALOG).ensureDataset(
      {
        name: 'orders',
        schema: 'raw',
        table: 'orders',
        managedBy: 'bench',
        contract: {
          columns: [
            { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
            { name: 'customer_id', type: 'integer', nullable: true },
            { name: 'status', type: 'text', nullable: true },
            { name: 'amount', type: 'numeric(12,2)', nullable: true },
            { name: 'created_at', type: 'timestamptz', nullable: true },
            { name: 'order_date', type: 'date', nullable: true },
          ],
        },
      },
      'bench',
    );
    const lake = app.get(LakeExportService);
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    await duck.run(`SET threads = 1`);
    const check = async (glob: string) =>
      (
        await duck.runAndReadAll(
          `SELECT count(*)::BIGINT::VARCHAR AS n, sum(amount)::VARCHAR AS s FROM read_parquet('${glob}')`,
        )
      ).getRowObjectsJS()[0];
    const want = (await c.query(`SELECT count(*)::text AS n, sum(amount)::text AS s FROM raw.orders`)).rows[0];

    const weir: number[] = [];
    const weirCpu: number[] = [];
    const ddb: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < REPEAT; i++) {
      let t0 = process.hrtime.bigint();
      const cpu0 = process.cpuUsage();
      const r = await lake.export(
        'orders',
        { target: `bench-${i}`, compression: COMPRESSION, maxRowsPerFile: 100_000_000 },
        { unmasked: true }, // the operator's own run
      );
      const w = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu = process.cpuUsage(cpu0);
      const wc = (cpu.user + cpu.system) / 1e6;
      if (r.rows !== ROWS) throw new Error(`Weir exported ${r.rows} rows, expected ${ROWS}`);
      const gotW = await check(path.join(work, 'exports', `bench-${i}`, '*.parquet'));
      if (gotW['n'] !== want.n || gotW['s'] !== want.s)
        throw new Error(`Weir's file reads back as ${JSON.stringify(gotW)}, expected ${JSON.stringify(want)}`);

      const out = path.join(work, `duckdb-${i}.parquet`);
      t0 = process.hrtime.bigint();
      await duck.run(
        `COPY (SELECT * FROM read_csv('${csv}', header = true, columns = {'id': 'BIGINT', 'customer_id': 'INTEGER', 'status': 'VARCHAR', 'amount': 'DECIMAL(12,2)', 'created_at': 'TIMESTAMPTZ', 'order_date': 'DATE'}))
           TO '${out}' (FORMAT parquet, COMPRESSION ${COMPRESSION === 'none' ? 'uncompressed' : COMPRESSION})`,
      );
      const d = Number(process.hrtime.bigint() - t0) / 1e9;
      const gotD = await check(out);
      if (gotD['n'] !== want.n || gotD['s'] !== want.s)
        throw new Error(`DuckDB's file reads back as ${JSON.stringify(gotD)}, expected ${JSON.stringify(want)}`);
      const wBytes = r.written.reduce((n, p) => n + p.files.reduce((m, f) => m + f.bytes, 0), 0);
      console.log(
        `  run ${i + 1}: Weir ${w.toFixed(2)} s (CPU ${wc.toFixed(2)} s, ${(wBytes / 1e6).toFixed(1)} MB), DuckDB CSV→Parquet ${d.toFixed(2)} s (${(fs.statSync(out).size / 1e6).toFixed(1)} MB): ${(w / d).toFixed(2)}×`,
      );
      weir.push(w);
      weirCpu.push(wc);
      ddb.push(d);
      ratios.push(w / d);
      fs.rmSync(path.join(work, 'exports', `bench-${i}`), { recursive: true, force: true });
      fs.rmSync(out, { force: true });
    }
    const ratio = median(ratios);
    console.log(
      `Weir ${median(weir).toFixed(2)} s, DuckDB ${median(ddb).toFixed(2)} s (medians of ${REPEAT}, DuckDB on 1 thread); Weir / DuckDB = ${ratio.toFixed(2)}`,
    );
    console.log(
      JSON.stringify({
        bench: 'export',
        rows: ROWS,
        compression: COMPRESSION,
        repeat: REPEAT,
        weir_s: +median(weir).toFixed(3),
        weir_cpu_s: +median(weirCpu).toFixed(3),
        duckdb_s: +median(ddb).toFixed(3),
        ratio: +ratio.toFixed(3),
      }),
    );
  } finally {
    await app?.close();
    await db.close();
  }
}

main().catch((e) => {
  console.error(`bench export failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
