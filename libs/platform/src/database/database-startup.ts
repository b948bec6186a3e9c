import * as path from 'node:path';
import { WeirConfig } from '../config/weir-config';
import { EmbeddedPostgresHandle, startEmbeddedPostgres } from './embedded-postgres';

/** Connection URLs a process resolved at boot, and how to release what it started. */
export interface ResolvedDatabase {
  url: string;
  warehouseUrl: string;
  embedded?: EmbeddedPostgresHandle;
  close(): Promise<void>;
}

/**
 * Uses `DATABASE_URL` when set; otherwise starts (or reuses) the embedded PostgreSQL in
 * `$WEIR_DATA_DIR/pg` and tells the user where it is and how to connect.
 */
export async function resolveDatabase(
  config: WeirConfig,
  log: (line: string) => void,
  hint: (line: string) => void = log,
): Promise<ResolvedDatabase> {
  if (config.databaseUrl) {
    return {
      url: config.databaseUrl,
      warehouseUrl: config.warehouseUrl ?? config.databaseUrl,
      close: async () => undefined,
    };
  }
  const started = Date.now();
  const embedded = await startEmbeddedPostgres({
    dataDir: path.join(config.dataDir, 'pg'),
    port: config.embeddedPgPort,
    onLog: log,
  });
  log(
    `embedded PostgreSQL 18 ready in ${Date.now() - started} ms: data in ${embedded.dataDir}, listening on 127.0.0.1:${embedded.port}`,
  );
  // plain text, to paste into a shell (never inside a JSON log line, which would escape its quotes)
  hint(`  connect with: ${embedded.psql}`);
  return {
    url: embedded.url,
    warehouseUrl: config.warehouseUrl ?? embedded.url,
    embedded,
    close: () => embedded.stop(),
  };
}
