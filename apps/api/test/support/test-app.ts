import request from 'supertest';
import { INestApplication } from '@nestjs/common';
import { createTestDatabase, registerSensitive, TestDatabase, testLogDestination } from '@weir/platform/testing';
import { loadConfig } from '@weir/platform';
import { createApp } from '../../src/app.factory';

export const ADMIN = 'e2e-admin-key-0123456789abcdef';
export const admin = { Authorization: `Bearer ${ADMIN}` };

/**
 * Where a test app logs: the run's log file at every level (grepped for declared secrets and PII
 * when the run ends: @weir/platform/testing test-logs; the admin key is declared here), or nowhere
 * outside a jest run.
 */
function logging(): { level: string; destination: ReturnType<typeof testLogDestination> } {
  const destination = testLogDestination();
  // the admin key every spec sends: no log line of the run may hold it
  registerSensitive('secret', { WEIR_ADMIN_API_KEY: ADMIN });
  return { level: destination ? 'trace' : 'silent', destination };
}

export interface TestApp {
  app: INestApplication;
  http: ReturnType<typeof request>;
  db: TestDatabase;
  close(): Promise<void>;
}

/** The real app on a fresh database, for one e2e spec file. */
export async function startTestApp(env: Record<string, string> = {}, extraModules: any[] = []): Promise<TestApp> {
  const db = await createTestDatabase();
  const log = logging();
  const config = loadConfig({ DATABASE_URL: db.url, WEIR_ADMIN_API_KEY: ADMIN, WEIR_LOG_LEVEL: log.level, ...env });
  const app = await createApp(
    { config, databaseUrl: db.url, warehouseUrl: db.url, logDestination: log.destination },
    extraModules,
  );
  await app.init();
  return {
    app,
    db,
    http: request(app.getHttpServer()),
    async close() {
      await app.close();
      await db.drop();
    },
  };
}

/** An app (not listening) on an existing test database with its own data directory and roles: one of several instances. */
export async function appOn(
  db: TestDatabase,
  dataDir: string,
  roles = 'api,scheduler,worker',
  env: Record<string, string> = {},
): Promise<INestApplication> {
  const log = logging();
  const config = loadConfig({
    DATABASE_URL: db.url,
    WEIR_ADMIN_API_KEY: ADMIN,
    WEIR_LOG_LEVEL: log.level,
    WEIR_DATA_DIR: dataDir,
    WEIR_ROLES: roles,
    ...env,
  });
  const app = await createApp({ config, databaseUrl: db.url, warehouseUrl: db.url, logDestination: log.destination });
  await app.init();
  return app;
}
