import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { runMigrations } from '../database/data-source';

/** A database made for one test file. */
export interface TestDatabase {
  url: string;
  name: string;
  /** Drops the database (terminating its connections). */
  drop(): Promise<void>;
}

/** The server tests run against: `TEST_DATABASE_URL` (set by the jest global setup if it started an embedded one). */
export function testServerUrl(): string {
  const url = process.env['TEST_DATABASE_URL'];
  if (!url) {
    throw new Error(
      'TEST_DATABASE_URL is not set: run tests through jest (its global setup starts an embedded PostgreSQL) or point it at a server',
    );
  }
  return url;
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/**
 * Creates a fresh, uniquely named database on the test server and (by default) applies every
 * migration to it, so each integration test file runs isolated and files can run in parallel.
 */
export async function createTestDatabase(opts: { migrate?: boolean; prefix?: string } = {}): Promise<TestDatabase> {
  const server = testServerUrl();
  const name = `${opts.prefix ?? 'weir_test'}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(server, name);
  if (opts.migrate !== false) await runMigrations(url);
  return {
    url,
    name,
    async drop() {
      const c = new Client({ connectionString: server });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
