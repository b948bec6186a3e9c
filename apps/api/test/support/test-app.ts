import request from 'supertest';
import { INestApplication } from '@nestjs/common';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';
import { loadConfig } from '@weir/platform';
import { createApp } from '../../src/app.factory';

export const ADMIN = 'e2e-admin-key-0123456789abcdef';
export const admin = { Authorization: `Bearer ${ADMIN}` };

export interface TestApp {
  app: INestApplication;
  http: ReturnType<typeof request>;
  db: TestDatabase;
  close(): Promise<void>;
}

/** The real app on a fresh database, for one e2e spec file. */
export async function startTestApp(env: Record<string, string> = {}, extraModules: any[] = []): Promise<TestApp> {
  const db = await createTestDatabase();
  const config = loadConfig({ DATABASE_URL: db.url, WEIR_ADMIN_API_KEY: ADMIN, WEIR_LOG_LEVEL: 'silent', ...env });
  const app = await createApp({ config, databaseUrl: db.url, warehouseUrl: db.url }, extraModules);
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
  const config = loadConfig({
    DATABASE_URL: db.url,
    WEIR_ADMIN_API_KEY: ADMIN,
    WEIR_LOG_LEVEL: 'silent',
    WEIR_DATA_DIR: dataDir,
    WEIR_ROLES: roles,
    ...env,
  });
  const app = await createApp({ config, databaseUrl: db.url, warehouseUrl: db.url });
  await app.init();
  return app;
}
