import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, startEmbeddedPostgres } from '../database/embedded-postgres';
import { TEST_LOG_DIR_ENV } from './test-logs';

/** The parts of Jest's configs this setup reads. */
interface JestConfigs {
  global?: { testPathPatterns?: { patterns?: string[] }; testPathPattern?: string };
  project?: { rootDir?: string };
}

function specFiles(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) specFiles(p, out);
    else if (e.name.endsWith('.spec.ts')) out.push(p);
  }
  return out;
}

/**
 * Whether the run holds an integration or e2e spec (by convention under a `test/` folder: they
 * need PostgreSQL); a run of unit specs only (beside the code, in `src/`) starts no database.
 */
export function runNeedsDatabase(c: JestConfigs): boolean {
  const root = c.project?.rootDir;
  if (!root || !fs.existsSync(root)) return true;
  const patterns =
    c.global?.testPathPatterns?.patterns ?? (c.global?.testPathPattern ? [c.global.testPathPattern] : []);
  const res = patterns.map((p) => new RegExp(p, 'i'));
  const selected = specFiles(root).filter((f) => !res.length || res.some((r) => r.test(f)));
  return selected.some((f) => f.split(path.sep).includes('test'));
}

/**
 * Jest global setup: makes the run's log folder (`WEIR_TEST_LOG_DIR`, see test-logs.ts); when `TEST_DATABASE_URL` is unset and the run holds integration or e2e specs,
 * starts one embedded PostgreSQL for the whole run (throwaway data directory, free port) and
 * exports its URL to the test workers.
 */
export default async function globalSetup(
  globalConfig?: JestConfigs['global'],
  projectConfig?: JestConfigs['project'],
): Promise<void> {
  // the run's log folder: every app a spec starts logs into it, the teardown greps it (test-logs.ts)
  // (one given in WEIR_TEST_LOG_DIR is used, checked and kept)
  const own = !process.env[TEST_LOG_DIR_ENV];
  if (own) process.env[TEST_LOG_DIR_ENV] = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-test-logs-'));
  (globalThis as Record<string, unknown>)['__WEIR_TEST_LOGS__'] = { dir: process.env[TEST_LOG_DIR_ENV], own };
  if (process.env['TEST_DATABASE_URL']) return;
  if (!runNeedsDatabase({ global: globalConfig, project: projectConfig })) {
    process.stderr.write('\n[weir tests] unit specs only: no database started\n');
    return;
  }
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
