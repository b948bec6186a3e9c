/* eslint-disable no-console -- prints one JSON line for the bench */
/**
 * One Weir process doing one load, as the service would (compiled JS, no TypeScript compiler in
 * the process): `node dist/apps/bench/src/ingest-runner.js setup|load <source> <file> <key>`.
 * Prints {"seconds":…,"maxRssMb":…,"run":{…}} where seconds runs from trigger to finished run.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig, PlatformModule } from '@weir/platform';
import { CATALOG, CatalogModule, DatasetContract } from '@weir/catalog';
import { IngestionModule, RunsService, SourcesService } from '@weir/ingestion';

export const BENCH_CONTRACT: DatasetContract = {
  columns: [
    { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
    { name: 'customer_id', type: 'bigint', nullable: false },
    { name: 'ordered_at', type: 'timestamptz', nullable: false },
    { name: 'status', type: 'text', nullable: false, allowed: ['new', 'paid', 'shipped', 'cancelled', 'refunded'] },
    { name: 'amount', type: 'numeric(12,2)', nullable: false },
    { name: 'currency', type: 'text', nullable: false, maxLength: 3, pattern: '^[A-Z]{3}$' },
    { name: 'email', type: 'text', nullable: false, pii: true },
    { name: 'note', type: 'text', nullable: true },
  ],
};

async function main(): Promise<void> {
  const [mode, source, file, key] = process.argv.slice(2);
  const url = process.env['DATABASE_URL']!;
  const config = loadConfig({
    DATABASE_URL: url,
    WEIR_LOG_LEVEL: process.env['WEIR_BENCH_VERBOSE'] === '1' ? 'info' : 'warn',
    WEIR_DATA_DIR: process.env['WEIR_DATA_DIR'],
    WEIR_INGEST_ROOT: process.env['WEIR_INGEST_ROOT'],
    WEIR_ROLES: 'worker',
  });
  @Module({
    imports: [PlatformModule.forRoot({ config, databaseUrl: url, warehouseUrl: url }), CatalogModule, IngestionModule],
  })
  class RunnerModule {}
  // --verbose (WEIR_BENCH_VERBOSE=1): the run's own log lines too (phases: stream, settle, publish)
  const verbose = process.env['WEIR_BENCH_VERBOSE'] === '1';
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
      const sources = app.get(SourcesService);
      await sources.create({
        name: 'orders_replace',
        dataset: 'orders',
        format: 'csv',
        strategy: { kind: 'replace' },
        maxRejectedRatio: 0,
      });
      await sources.create({
        name: 'orders_merge',
        dataset: 'orders',
        format: 'csv',
        strategy: { kind: 'merge' },
        maxRejectedRatio: 0,
      });
      console.log(JSON.stringify({ setup: true }));
      return;
    }
    const runs = app.get(RunsService);
    const t0 = process.hrtime.bigint();
    const { run } = await runs.trigger(source, { trigger: 'cli', trustedPath: file, idempotencyKey: key });
    const done = await runs.waitFor(run.id, 3_600_000);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(JSON.stringify({ seconds, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024), run: done }));
  } finally {
    await app.close();
  }
}

if (require.main === module)
  main().catch((e) => {
    console.error(`ingest-runner: ${e instanceof Error ? e.stack : e}`);
    process.exit(1);
  });
