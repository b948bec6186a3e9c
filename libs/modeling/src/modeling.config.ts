import * as path from 'node:path';
import { ConfigError, type WeirConfig } from '@weir/platform';

/** Limits for uploaded project archives. */
export interface ArchiveLimits {
  maxBytes: number;
  maxExtractedBytes: number;
  maxFiles: number;
}

/** Modeling settings, from the environment (see README). */
export interface ModelingConfig {
  /** Where projects are registered from and archives unpacked (WEIR_PROJECTS_ROOT, default $WEIR_DATA_DIR/projects). */
  projectsRoot: string;
  /**
   * Project archives: WEIR_PROJECT_ARCHIVE_MAX_BYTES (default 50 MiB), …_MAX_EXTRACTED_BYTES
   * (200 MiB) and …_MAX_FILES (20000).
   */
  archive: ArchiveLimits;
  /** What dbt's `env_var()` reads: the process environment at start. */
  templateEnv: Readonly<Record<string, string>>;
  /** DBT_PROFILES_DIR: where `weir dbt` looks for profiles.yml (for the target's schema and threads). */
  dbtProfilesDir?: string;
}

export const MODELING_CONFIG = Symbol('MODELING_CONFIG');

/** Reads and checks the modeling slice's variables; a bad value throws {@link ConfigError} naming it. */
export function modelingConfig(
  config: Pick<WeirConfig, 'dataDir'>,
  env: Record<string, string | undefined> = process.env,
): ModelingConfig {
  const positive = (k: string, d: number) => {
    const v = env[k]?.trim();
    if (v === undefined || v === '') return d;
    if (!/^\d+$/.test(v) || Number(v) <= 0) throw new ConfigError(k, `must be a positive whole number (got "${v}")`);
    return Number(v);
  };
  return {
    projectsRoot: path.resolve(env['WEIR_PROJECTS_ROOT'] || path.join(config.dataDir, 'projects')),
    archive: {
      maxBytes: positive('WEIR_PROJECT_ARCHIVE_MAX_BYTES', 50 * 1048576),
      maxExtractedBytes: positive('WEIR_PROJECT_ARCHIVE_MAX_EXTRACTED_BYTES', 200 * 1048576),
      maxFiles: positive('WEIR_PROJECT_ARCHIVE_MAX_FILES', 20000),
    },
    dbtProfilesDir: env['DBT_PROFILES_DIR'] || undefined,
    templateEnv: Object.freeze(
      Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string')),
    ),
  };
}
