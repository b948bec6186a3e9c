import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';

/** A dbt-layout project read from disk (dbt_project.yml, models, properties YAML, seeds, snapshots, docs). */
export interface Project {
  name: string;
  root: string;
  /** The `models:` tree of dbt_project.yml (hierarchical configs). */
  modelConfigTree: Record<string, unknown>;
  seedConfigTree: Record<string, unknown>;
  vars: Record<string, unknown>;
  models: ModelFile[];
  seeds: SeedFile[];
  snapshots: { name: string; path: string; sql: string }[];
  /** Model properties from YAML (`models:` entries), by model name. */
  properties: Map<string, ModelProperties>;
  sources: SourceDefinition[];
  /** `{% docs name %}` blocks from .md files. */
  docs: Map<string, string>;
}

export interface ModelFile {
  name: string;
  /** Path relative to the project root (for messages). */
  path: string;
  /** Folders between the model path and the file (config hierarchy). */
  folders: string[];
  sql: string;
}

export interface SeedFile {
  name: string;
  path: string;
  folders: string[];
}

export interface ColumnProperties {
  name: string;
  description?: string;
  tests?: unknown[];
  data_tests?: unknown[];
  data_type?: string;
}

export interface ModelProperties {
  name: string;
  description?: string;
  config?: Record<string, unknown>;
  columns?: ColumnProperties[];
  tests?: unknown[];
  file: string;
}

export interface SourceDefinition {
  name: string;
  schema?: string;
  tables: { name: string; identifier?: string }[];
}

/** A project that cannot be read as a dbt project: the message names the file. */
export class ProjectError extends Error {}

function walk(dir: string, ext: string[], acc: string[] = []): string[] {
  if (!fs.existsSync(dir)) return acc;
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, ext, acc);
    else if (ext.some((x) => e.name.endsWith(x))) acc.push(p);
  }
  return acc;
}

const list = (v: unknown, dflt: string[]): string[] =>
  Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : dflt;

/** Reads a project directory in dbt's layout. Throws {@link ProjectError} naming the bad file. */
export function loadProject(root: string): Project {
  const projectFile = path.join(root, 'dbt_project.yml');
  if (!fs.existsSync(projectFile)) throw new ProjectError(`${root} has no dbt_project.yml`);
  let cfg: Record<string, unknown>;
  try {
    cfg = (parseYaml(fs.readFileSync(projectFile, 'utf8')) ?? {}) as Record<string, unknown>;
  } catch (e) {
    throw new ProjectError(`dbt_project.yml: ${(e as Error).message}`);
  }
  const name = String(cfg['name'] ?? '');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new ProjectError(`dbt_project.yml: name must be an identifier (got ${JSON.stringify(cfg['name'])})`);
  const rel = (p: string) => path.relative(root, p).split(path.sep).join('/');
  /** A configured folder, which must stay inside the project (no absolute paths, no `..` out). */
  const inside = (key: string, p: string) => {
    const full = path.resolve(root, p);
    const r = path.relative(root, full);
    if (r.startsWith('..') || path.isAbsolute(r))
      throw new ProjectError(`dbt_project.yml: ${key} ${JSON.stringify(p)} is outside the project`);
    if (fs.existsSync(full) && path.relative(fs.realpathSync(root), fs.realpathSync(full)).startsWith('..'))
      throw new ProjectError(`dbt_project.yml: ${key} ${JSON.stringify(p)} leads outside the project`);
    return full;
  };
  const models: ModelFile[] = [];
  const properties = new Map<string, ModelProperties>();
  const sources: SourceDefinition[] = [];
  const docs = new Map<string, string>();
  for (const mp of list(cfg['model-paths'] ?? cfg['source-paths'], ['models'])) {
    const base = inside('model-paths', mp);
    for (const f of walk(base, ['.sql'])) {
      const folders = path
        .relative(base, path.dirname(f))
        .split(path.sep)
        .filter((x) => x && x !== '.');
      models.push({ name: path.basename(f, '.sql'), path: rel(f), folders, sql: fs.readFileSync(f, 'utf8') });
    }
    for (const f of walk(base, ['.yml', '.yaml'])) {
      let doc: Record<string, unknown>;
      try {
        doc = (parseYaml(fs.readFileSync(f, 'utf8')) ?? {}) as Record<string, unknown>;
      } catch (e) {
        throw new ProjectError(`${rel(f)}: ${(e as Error).message}`);
      }
      for (const m of (doc['models'] as Record<string, unknown>[] | undefined) ?? []) {
        if (typeof m?.['name'] !== 'string') throw new ProjectError(`${rel(f)}: every model entry needs a name`);
        properties.set(m['name'], { ...(m as unknown as ModelProperties), file: rel(f) });
      }
      for (const s of (doc['sources'] as Record<string, unknown>[] | undefined) ?? []) {
        sources.push({
          name: String(s['name']),
          schema: s['schema'] as string | undefined,
          tables: ((s['tables'] as { name: string; identifier?: string }[]) ?? []).map((t) => ({
            name: t.name,
            identifier: t.identifier,
          })),
        });
      }
    }
    for (const f of walk(base, ['.md'])) {
      const text = fs.readFileSync(f, 'utf8');
      for (const m of text.matchAll(/{%-?\s*docs\s+([A-Za-z_][A-Za-z0-9_]*)\s*-?%}([\s\S]*?){%-?\s*enddocs\s*-?%}/g))
        docs.set(m[1], m[2].trim());
    }
  }
  const seeds: SeedFile[] = [];
  for (const sp of list(cfg['seed-paths'] ?? cfg['data-paths'], ['seeds'])) {
    const base = inside('seed-paths', sp);
    for (const f of walk(base, ['.csv'])) {
      seeds.push({
        name: path.basename(f, '.csv'),
        path: rel(f),
        folders: path
          .relative(base, path.dirname(f))
          .split(path.sep)
          .filter((x) => x && x !== '.'),
      });
    }
  }
  const snapshots: Project['snapshots'] = [];
  for (const sp of list(cfg['snapshot-paths'], ['snapshots'])) {
    for (const f of walk(inside('snapshot-paths', sp), ['.sql']))
      snapshots.push({ name: path.basename(f, '.sql'), path: rel(f), sql: fs.readFileSync(f, 'utf8') });
  }
  const names = new Map<string, string>();
  for (const n of [...models.map((m) => [m.name, m.path]), ...seeds.map((s) => [s.name, s.path])]) {
    if (names.has(n[0])) throw new ProjectError(`two nodes are named "${n[0]}": ${names.get(n[0])} and ${n[1]}`);
    names.set(n[0], n[1]);
  }
  return {
    name,
    root,
    modelConfigTree: (cfg['models'] as Record<string, unknown>) ?? {},
    seedConfigTree: (cfg['seeds'] as Record<string, unknown>) ?? {},
    vars: (cfg['vars'] as Record<string, unknown>) ?? {},
    models,
    seeds,
    snapshots,
    properties,
    sources,
    docs,
  };
}

/**
 * dbt's hierarchical config: `models: { <project>: { materialized: table, staging: { +materialized: view } } }`
 * applies to models/staging/*. Keys may carry dbt 1.x's `+` prefix. Deeper levels win.
 */
export function folderConfig(
  tree: Record<string, unknown>,
  projectName: string,
  folders: string[],
): Record<string, unknown> {
  const DICT_CONFIGS = new Set(['meta', 'contract', 'persist_docs', 'grants', 'docs', 'post_hook', 'pre_hook']);
  const out: Record<string, unknown> = {};
  const apply = (level: unknown) => {
    if (!level || typeof level !== 'object') return;
    for (const [k, v] of Object.entries(level as Record<string, unknown>)) {
      const plus = k.startsWith('+');
      const key = plus ? k.slice(1) : k;
      // a nested plain object without "+" is a sub-folder (unless it is a dict-valued config)
      if (!plus && v && typeof v === 'object' && !Array.isArray(v) && !DICT_CONFIGS.has(key)) continue;
      out[key] = v;
    }
  };
  let level = tree[projectName] as Record<string, unknown> | undefined;
  apply(level);
  for (const f of folders) {
    level = level?.[f] as Record<string, unknown> | undefined;
    apply(level);
  }
  return out;
}
