import * as path from 'node:path';
import type { WeirConfig } from '@weir/platform';

/** Catalog settings, from the environment (see README). */
export interface CatalogConfig {
  /** Local exports may only be written here (WEIR_EXPORT_ROOT, default $WEIR_DATA_DIR/exports). */
  exportRoot: string;
}

export const CATALOG_CONFIG = Symbol('CATALOG_CONFIG');

export function catalogConfig(
  config: Pick<WeirConfig, 'dataDir'>,
  env: Record<string, string | undefined> = process.env,
): CatalogConfig {
  return { exportRoot: path.resolve(env['WEIR_EXPORT_ROOT'] || path.join(config.dataDir, 'exports')) };
}
