/**
 * The dbt target of an invocation. Weir builds in its own warehouse (WEIR_WAREHOUSE_URL /
 * DATABASE_URL), so a profiles.yml is read only for what a target means to the project: its name,
 * `schema` and `threads` — never for credentials. Looked up as dbt does: `--profiles-dir`, then
 * DBT_PROFILES_DIR, then the project folder, then ~/.dbt; the profile named in dbt_project.yml.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { DbtTarget } from './runtime';

export interface TargetOptions {
  projectDir: string;
  /** The warehouse database name. */
  database: string;
  /** --target. */
  target?: string;
  /** --profiles-dir. */
  profilesDir?: string;
  /** DBT_PROFILES_DIR as the caller read it. */
  envProfilesDir?: string;
  /** The schema when no profile names one (the modeling default, `analytics`). */
  defaultSchema: string;
}

export function resolveTarget(o: TargetOptions): DbtTarget & { source: string } {
  const dirs = [o.profilesDir, o.envProfilesDir, o.projectDir, path.join(os.homedir(), '.dbt')].filter(
    (d): d is string => typeof d === 'string' && d.length > 0,
  );
  let profileName: string | undefined;
  try {
    const proj = parseYaml(fs.readFileSync(path.join(o.projectDir, 'dbt_project.yml'), 'utf8')) as Record<
      string,
      unknown
    >;
    profileName = typeof proj?.['profile'] === 'string' ? proj['profile'] : undefined;
  } catch {
    profileName = undefined;
  }
  for (const d of dirs) {
    const file = path.join(d, 'profiles.yml');
    if (!profileName || !fs.existsSync(file)) continue;
    let doc: Record<string, unknown>;
    try {
      doc = (parseYaml(fs.readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
    } catch {
      continue;
    }
    const profile = doc[profileName] as
      { target?: string; outputs?: Record<string, Record<string, unknown>> } | undefined;
    if (!profile?.outputs) continue;
    const name = o.target ?? profile.target ?? 'default';
    const out = profile.outputs[name];
    if (!out) continue;
    return {
      name,
      schema: String(out['schema'] ?? out['dataset'] ?? o.defaultSchema),
      database: o.database,
      threads: Number(out['threads'] ?? 1),
      type: 'postgres',
      source: file,
    };
  }
  return {
    name: o.target ?? 'default',
    schema: o.defaultSchema,
    database: o.database,
    threads: 1,
    type: 'postgres',
    source: 'defaults',
  };
}
