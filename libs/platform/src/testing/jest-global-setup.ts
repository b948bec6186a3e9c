import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, startEmbeddedPostgres } from '../database/embedded-postgres';

/**
 * Jest global setup: when `TEST_DATABASE_URL` is unset, starts one embedded PostgreSQL for the
 * whole run (throwaway data directory, free port) and exports its URL to the test workers.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env['TEST_DATABASE_URL']) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-test-pg-'));
  fs.chmodSync(dir, 0o755);
  const handle = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'pg'),
    port: await freePort(),
    database: 'weir_test',
    ephemeral: true,
  });
  process.env['TEST_DATABASE_URL'] = handle.url;
  (globalThis as Record<string, unknown>)['__WEIR_TEST_PG__'] = { handle, dir };
  process.stderr.write(
    `\n[weir tests] TEST_DATABASE_URL not set: started an embedded PostgreSQL on port ${handle.port}\n`,
  );
}
