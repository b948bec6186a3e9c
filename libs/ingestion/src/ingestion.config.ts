import * as path from 'node:path';
import { ConfigError, type WeirConfig } from '@weir/platform';

/** Ingestion settings, from the environment (see README). */
export interface IngestionConfig {
  /** Local files may only be read from here (WEIR_INGEST_ROOT, default $WEIR_DATA_DIR/inbox). */
  ingestRoot: string;
  /** Where uploads are streamed before loading. */
  uploadDir: string;
  /** Largest accepted upload, bytes (WEIR_UPLOAD_MAX_BYTES, default 5 GiB). */
  uploadMaxBytes: number;
  /** Tap executables and their config files (singer sources) must be inside (WEIR_TAP_ROOT, default $WEIR_DATA_DIR/taps). */
  tapRoot: string;
  /** The shortest time between two ticks a source's schedule may have (WEIR_MIN_SCHEDULE_INTERVAL_SECONDS, platform's). */
  minScheduleIntervalMs: number;
}

export const INGESTION_CONFIG = Symbol('INGESTION_CONFIG');

export function ingestionConfig(
  config: Pick<WeirConfig, 'dataDir'> & Partial<Pick<WeirConfig, 'minScheduleIntervalMs'>>,
  env: Record<string, string | undefined> = process.env,
): IngestionConfig {
  const max = env['WEIR_UPLOAD_MAX_BYTES']?.trim();
  if (max && (!/^\d+$/.test(max) || Number(max) < 1 || !Number.isSafeInteger(Number(max))))
    throw new ConfigError('WEIR_UPLOAD_MAX_BYTES', `must be a whole number of bytes, at least 1 (got "${max}")`);
  return {
    ingestRoot: path.resolve(env['WEIR_INGEST_ROOT'] || path.join(config.dataDir, 'inbox')),
    uploadDir: path.join(config.dataDir, 'uploads'),
    uploadMaxBytes: max ? Number(max) : 5 * 1024 ** 3,
    tapRoot: path.resolve(env['WEIR_TAP_ROOT'] || path.join(config.dataDir, 'taps')),
    minScheduleIntervalMs: config.minScheduleIntervalMs ?? 60_000,
  };
}
