/**
 * The parsed project: nodes (models, seeds, snapshots, tests, hooks), sources and macros with
 * dbt's unique ids, fqns, resolved configs and dependencies — the manifest dbt builds.
 */
export type ResourceType = 'model' | 'seed' | 'snapshot' | 'test' | 'operation' | 'analysis';

export interface ColumnInfo {
  name: string;
  description: string;
  meta: Record<string, unknown>;
  data_type: string | null;
  constraints: unknown[];
  quote: boolean | null;
  tags: string[];
}

export interface TestMetadata {
  name: string;
  kwargs: Record<string, unknown>;
  namespace: string | null;
}

export interface ManifestNode {
  unique_id: string;
  resource_type: ResourceType;
  package_name: string;
  name: string;
  /** Relative to its resource path (`staging/x.sql`). */
  path: string;
  /** Relative to the package root (`models/staging/x.sql`). */
  original_file_path: string;
  fqn: string[];
  raw_code: string;
  language: 'sql';
  config: Record<string, unknown>;
  /** Configs set in the file or YAML (not inherited from dbt_project.yml). */
  unrendered_config: Record<string, unknown>;
  tags: string[];
  description: string;
  meta: Record<string, unknown>;
  columns: Record<string, ColumnInfo>;
  database: string;
  schema: string;
  alias: string;
  /** `ref()` calls: name, package, version. */
  refs: { name: string; package: string | null; version: string | number | null }[];
  /** `source()` calls: [source, table]. */
  sources: [string, string][];
  depends_on: { macros: string[]; nodes: string[] };
  checksum: { name: string; checksum: string };
  patch_path: string | null;
  /** Tests: the generic test call and the column it is on. */
  test_metadata?: TestMetadata;
  column_name?: string | null;
  attached_node?: string | null;
  file_key_name?: string | null;
  /** Hooks: their position. */
  index?: number;
  version?: string | number | null;
  compiled_code?: string;
  relation_name: string | null;
}

export interface SourceDefinition {
  unique_id: string;
  resource_type: 'source';
  package_name: string;
  source_name: string;
  name: string;
  identifier: string;
  database: string;
  schema: string;
  fqn: string[];
  path: string;
  original_file_path: string;
  description: string;
  source_description: string;
  loader: string;
  loaded_at_field: string | null;
  freshness: unknown;
  columns: Record<string, ColumnInfo>;
  meta: Record<string, unknown>;
  source_meta: Record<string, unknown>;
  tags: string[];
  config: Record<string, unknown>;
  quoting: Record<string, unknown>;
  relation_name: string;
  /** The tests declared on it (`tests:`/`data_tests:`), with their column. */
  tests: { column: string | null; test: unknown }[];
}

export interface MacroInfo {
  unique_id: string;
  name: string;
  package_name: string;
  path: string;
  original_file_path: string;
  macro_sql: string;
  depends_on: { macros: string[] };
  description: string;
  meta: Record<string, unknown>;
  arguments: unknown[];
  resource_type: 'macro';
}

export interface Manifest {
  nodes: Map<string, ManifestNode>;
  sources: Map<string, SourceDefinition>;
  macros: Map<string, MacroInfo>;
  docs: Map<string, string>;
  disabled: Map<string, ManifestNode>;
}

export const DICT_CONFIGS = new Set([
  'meta',
  'grants',
  'persist_docs',
  'docs',
  'contract',
  'snapshot_meta_column_names',
]);
export const LIST_CONFIGS = new Set(['tags', 'pre-hook', 'post-hook', 'packages']);

/** `pre_hook` → `pre-hook` (dbt keeps the dashed name), `data_tests`… unchanged. */
export function configKey(k: string): string {
  const key = k.startsWith('+') ? k.slice(1) : k;
  if (key === 'pre_hook') return 'pre-hook';
  if (key === 'post_hook') return 'post-hook';
  return key;
}

const asList = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

/** Merges configs as dbt does: tags and hooks add up, dict configs merge, the rest replace. */
export function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k0, v] of Object.entries(over)) {
    const k = configKey(k0);
    if (LIST_CONFIGS.has(k)) {
      const add = asList(v);
      out[k] =
        k === 'tags'
          ? [...new Set([...(asList(out[k]) as string[]), ...(add as string[])])]
          : [...asList(out[k]), ...add];
    } else if (DICT_CONFIGS.has(k) && v && typeof v === 'object' && !Array.isArray(v)) {
      out[k] = { ...((out[k] as Record<string, unknown>) ?? {}), ...(v as Record<string, unknown>) };
    } else out[k] = v;
  }
  return out;
}

/**
 * dbt_project.yml's hierarchical configs for a node: `models: {<package>: {+materialized: table,
 * staging: {+schema: stg}}}` applies to `<package>/staging/…`; deeper levels win. Keys without `+`
 * whose value is a mapping are sub-folders unless they are dict-valued configs.
 */
export function folderConfig(tree: unknown, fqn: string[]): Record<string, unknown> {
  let out: Record<string, unknown> = {};
  const levelConfig = (level: unknown) => {
    const cfg: Record<string, unknown> = {};
    if (!level || typeof level !== 'object' || Array.isArray(level)) return cfg;
    for (const [k, v] of Object.entries(level as Record<string, unknown>)) {
      const plus = k.startsWith('+');
      const key = configKey(k);
      if (!plus && v && typeof v === 'object' && !Array.isArray(v) && !DICT_CONFIGS.has(key)) continue;
      cfg[key] = v;
    }
    return cfg;
  };
  // the top level (no package key) applies to every package
  out = mergeConfig(out, levelConfig(tree));
  let level = tree as Record<string, unknown> | undefined;
  for (const part of fqn.slice(0, -1)) {
    level = level?.[part] as Record<string, unknown> | undefined;
    if (!level || typeof level !== 'object') break;
    out = mergeConfig(out, levelConfig(level));
  }
  // a node's own name may carry configs too (`models: {pkg: {my_model: {+enabled: false}}}`)
  const own = level?.[fqn[fqn.length - 1]];
  if (own && typeof own === 'object') out = mergeConfig(out, levelConfig(own));
  return out;
}
