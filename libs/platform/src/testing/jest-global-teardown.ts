import * as fs from 'node:fs';
import type { EmbeddedPostgresHandle } from '../database/embedded-postgres';

export default async function globalTeardown(): Promise<void> {
  const started = (globalThis as Record<string, unknown>)['__WEIR_TEST_PG__'] as
    { handle: EmbeddedPostgresHandle; dir: string } | undefined;
  if (!started) return;
  await started.handle.stop();
  fs.rmSync(started.dir, { recursive: true, force: true });
}
