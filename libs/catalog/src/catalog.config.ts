import * as path from 'node:path';
import { ConfigError, type WeirConfig } from '@weir/platform';

/** Catalog settings, from the environment (see README). */
export interface CatalogConfig {
  /** Local exports may only be written here (WEIR_EXPORT_ROOT, default $WEIR_DATA_DIR/exports). */
  exportRoot: string;
  /**
   * Most rows one preview may ask for (WEIR_PREVIEW_MAX_ROWS, default 1000): a larger `limit` is
   * refused with 400 `CATALOG.PREVIEW_LIMIT_TOO_LARGE`, never quietly cut.
   */
  previewMaxRows: number;
}

export const CATALOG_CONFIG = Symbol('CATALOG_CONFIG');

/** The largest WEIR_PREVIEW_MAX_ROWS accepted: a preview is one JSON answer, held in memory. */
export const PREVIEW_MAX_ROWS_CEILING = 100_000;

/** Reads and checks the catalog slice's variables; a bad value throws {@link ConfigError} naming it. */
export function catalogConfig(
  config: Pick<WeirConfig, 'dataDir'>,
  env: Record<string, string | undefined> = process.env,
): CatalogConfig {
  const raw = env['WEIR_PREVIEW_MAX_ROWS']?.trim();
  if (raw && (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > PREVIEW_MAX_ROWS_CEILING))
    throw new ConfigError(
      'WEIR_PREVIEW_MAX_ROWS',
      `must be a whole number of rows, from 1 to ${PREVIEW_MAX_ROWS_CEILING} (got "${raw}")`,
    );
  return {
    exportRoot: path.resolve(env['WEIR_EXPORT_ROOT'] || path.join(config.dataDir, 'exports')),
    previewMaxRows: raw ? Number(raw) : 1000,
  };
}
