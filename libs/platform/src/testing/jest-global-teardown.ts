import * as fs from 'node:fs';
import type { EmbeddedPostgresHandle } from '../database/embedded-postgres';
import { describeLeaks, findLeaks, sensitiveValues } from './test-logs';

/**
 * Jest global teardown: greps every log the run wrote for every value a spec declared sensitive
 * (secrets, PII; see test-logs.ts) and fails the run naming each leak (never the value); removes
 * the run's log folder when none leaked and the setup made it (keeps it to look into otherwise); stops the embedded
 * PostgreSQL the setup started.
 */
export default async function globalTeardown(): Promise<void> {
  const started = (globalThis as Record<string, unknown>)['__WEIR_TEST_PG__'] as
    { handle: EmbeddedPostgresHandle; dir: string } | undefined;
  if (started) {
    await started.handle.stop();
    fs.rmSync(started.dir, { recursive: true, force: true });
  }
  const run = (globalThis as Record<string, unknown>)['__WEIR_TEST_LOGS__'] as
    { dir: string; own: boolean } | undefined;
  if (!run) return;
  const logs = run.dir;
  const values = sensitiveValues(logs);
  const leaks = findLeaks(values, logs);
  if (leaks.length)
    throw new Error(
      `${leaks.length} sensitive value(s) declared by specs reached the logs of this test run (kept in ${logs}):\n${describeLeaks(leaks)}`,
    );
  if (values.length)
    process.stderr.write(`\n[weir tests] logs checked: none of ${values.length} sensitive value(s) in them\n`);
  if (run.own) fs.rmSync(logs, { recursive: true, force: true });
}
