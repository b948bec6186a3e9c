import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import pino from 'pino';
import {
  ApiKeysService,
  authConfig,
  configOrExit,
  installSafetyNet,
  loadConfigOrExit,
  redactUrl,
  resolveDatabase,
  runMigrations,
} from '@weir/platform';
import { catalogConfig } from '@weir/catalog';
import { ingestionConfig } from '@weir/ingestion';
import { lineageConfig } from '@weir/lineage';
import { modelingConfig } from '@weir/modeling';
import { orchestrationConfig } from '@weir/orchestration';
import { qualityConfig } from '@weir/quality';
import { createApp } from './app.factory';

/**
 * `npm start`: validate config, use DATABASE_URL or start the embedded PostgreSQL, apply
 * migrations (WEIR_MIGRATE=auto), serve HTTP, and on SIGTERM/SIGINT drain in-flight requests,
 * close pools and stop the embedded server.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  // every slice's settings, checked before anything starts: a bad value stops here with one line naming it (exit 78)
  configOrExit(() => {
    authConfig(config.env);
    catalogConfig(config, config.env);
    ingestionConfig(config, config.env);
    qualityConfig(config.env);
    modelingConfig(config, config.env);
    lineageConfig(config.env);
    orchestrationConfig(config.env);
  });
  // JSON lines from the first one on, before Nest (and its pino logger) exists
  const boot = pino({ level: config.logLevel, base: { pid: process.pid, context: 'weir' } });
  const db = await resolveDatabase(
    config,
    (line) => boot.info(line),
    (line) => process.stdout.write(`\n${line}\n\n`),
  );
  try {
    if (config.migrate === 'auto') {
      const { applied } = await runMigrations(db.url);
      boot.info(
        applied.length
          ? `applied ${applied.length} migration(s): ${applied.join(', ')}`
          : 'database schema is up to date',
      );
    } else {
      boot.info('WEIR_MIGRATE=off: not applying migrations');
    }
  } catch (e) {
    await db.close();
    throw e;
  }

  const app = await createApp({ config, databaseUrl: db.url, warehouseUrl: db.warehouseUrl });
  const log = new Logger('weir');
  // a stray stream or socket error (one request's or run's) is logged; it never ends the service
  installSafetyNet({ error: (m) => log.error(m), fatal: (m) => log.fatal(m) });
  let closing: Promise<void> | undefined;
  const shutdown = (signal: string): Promise<void> =>
    (closing ??= (async () => {
      log.log(`${signal} received: no new connections, finishing in-flight requests`);
      const force = setTimeout(() => {
        log.error('shutdown took over 25 s; exiting');
        process.exit(1);
      }, 25_000);
      force.unref();
      await app.close();
      await db.close();
      log.log('shut down cleanly');
      process.exit(0);
    })());
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  const created = await app.get(ApiKeysService).bootstrapAdminKey();
  if (created) {
    // Shown once, on the terminal only (not through the JSON logger), like any freshly created key.
    process.stdout.write(
      `\n  Weir created an admin API key (shown once, store it now):\n\n    ${created.key}\n\n` +
        `  Try: curl -H "Authorization: Bearer ${created.key}" http://localhost:${config.port}/api/platform/api-keys\n` +
        `  Or set WEIR_ADMIN_API_KEY to use your own.\n\n`,
    );
  }

  if (config.roles.has('api')) {
    const server = app.getHttpServer() as import('node:http').Server;
    // idle keep-alive connections outlive the client's and the load balancer's (never Node's 5 s,
    // which a client busy for a few seconds races into "other side closed"); headers time out after
    server.keepAliveTimeout = config.httpKeepAliveMs;
    server.headersTimeout = config.httpKeepAliveMs + 1000;
    await app.listen(config.port, config.host);
    log.log(
      `Weir API listening on http://localhost:${config.port} (docs: /docs, health: /health) database ${redactUrl(db.url)}`,
    );
  } else {
    await app.init();
    log.log(`roles ${[...config.roles].join(',')}: no HTTP listener`);
  }
}

main().catch((e) => {
  process.stderr.write(`weir: failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
