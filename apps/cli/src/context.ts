import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit, PlatformModule, resolveDatabase, runMigrations, WeirRole } from '@weir/platform';
import { DataSource } from 'typeorm';
import { say, StderrLogger } from './output';
import { recordCommand } from './audit';

/**
 * Runs `fn` inside a NestJS application context of the kernel plus `modules`, on DATABASE_URL or
 * the embedded PostgreSQL (migrated when WEIR_MIGRATE=auto), then closes everything. A command that
 * changes something (see ./audit.ts) records its row in platform.audit_log here.
 */
export async function withContext<T>(
  opts: { modules?: unknown[]; roles?: WeirRole[] },
  fn: (ctx: INestApplicationContext) => Promise<T>,
): Promise<T> {
  const base = loadConfigOrExit();
  const config = { ...base, roles: new Set(opts.roles ?? []), logLevel: 'warn' as const };
  const db = await resolveDatabase(config, say);
  try {
    if (config.migrate === 'auto') await runMigrations(db.url);
    @Module({
      imports: [
        PlatformModule.forRoot({ config, databaseUrl: db.url, warehouseUrl: db.warehouseUrl }),
        ...((opts.modules ?? []) as never[]),
      ],
    })
    class CliModule {}
    // logs on stderr (warn and above; --verbose for more): stdout carries the result alone
    const ctx = await NestFactory.createApplicationContext(CliModule, { logger: new StderrLogger() });
    await ctx.init();
    try {
      const result = await fn(ctx);
      await recordCommand(ctx.get(DataSource), { result });
      return result;
    } catch (e) {
      // a command that changes something records one audit row, failed ones included
      await recordCommand(ctx.get(DataSource), { error: e });
      throw e;
    } finally {
      await ctx.close();
    }
  } finally {
    await db.close();
  }
}
