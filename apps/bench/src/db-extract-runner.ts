/* eslint-disable no-console -- prints one JSON line for the bench */
/**
 * One Weir process doing one database extract, as the service would (compiled JS):
 * `node dist/apps/bench/src/db-extract-runner.js setup|load <key>`. The source database's URL is a
 * secret read from WEIR_BENCH_SRC_URL (the source stores only its name). Prints
 * {"seconds":…,"maxRssMb":…,"run":{…}} where seconds runs from trigger to finished run.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig, PlatformModule } from '@weir/platform';
import { CATALOG, CatalogModule } from '@weir/catalog';
import { IngestionModule, RunsService, SourcesService } from '@weir/ingestion';
import { BENCH_CONTRACT } from './ingest-runner';

async function main(): Promise<void> {
  const [mode, key] = process.argv.slice(2);
  const url = process.env['DATABASE_URL']!;
  const verbose = process.env['WEIR_BENCH_VERBOSE'] === '1';
  const config = loadConfig({
    DATABASE_URL: url,
    WEIR_LOG_LEVEL: verbose ? 'info' : 'warn',
    WEIR_DATA_DIR: process.env['WEIR_DATA_DIR'],
    WEIR_ROLES: 'worker',
  });
  @Module({
    imports: [PlatformModule.forRoot({ config, databaseUrl: url, warehouseUrl: url }), CatalogModule, IngestionModule],
  })
  class RunnerModule {}
  const app = await NestFactory.createApplicationContext(RunnerModule, {
    logger: verbose ? ['error', 'warn', 'log'] : ['error', 'warn'],
  });
  await app.init();
  try {
    if (mode === 'setup') {
      await (app.get(CATALOG) as unknown as { create: (i: unknown, by: string) => Promise<unknown> }).create(
        { name: 'orders', contract: BENCH_CONTRACT },
        'bench',
      );
      await app.get(SourcesService).create({
        name: 'orders_db',
        dataset: 'orders',
        connector: {
          kind: 'postgres_query',
          connection: { url: { env: 'WEIR_BENCH_SRC_URL' } },
          table: 'public.orders',
          mode: 'full',
        },
        strategy: { kind: 'replace' },
        maxRejectedRatio: 0,
      });
      console.log(JSON.stringify({ setup: true }));
      return;
    }
    const runs = app.get(RunsService);
    const t0 = process.hrtime.bigint();
    const { run } = await runs.trigger('orders_db', { trigger: 'cli', idempotencyKey: key });
    const done = await runs.waitFor(run.id, 3_600_000);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(JSON.stringify({ seconds, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024), run: done }));
  } finally {
    await app.close();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
