/**
 * A project compiled by the dbt runtime, in the shape Weir's own builds use (CompiledProject):
 * the projects Weir's first compiler cannot read — macros, packages, dbt's cross-database macros,
 * `adapter.dispatch`, Jinja it did not have — still register, list their nodes and build. Parsed
 * with `execute` false (no warehouse connection): SQL that only exists when dbt executes
 * (`{% if execute %}` branches, `run_query` results) is what a dbt build (`command`) renders.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CompiledNode, CompiledProject, DbtTestSql } from '../domain/compile';
import { compileGenericTest } from './invocation';
import { DagCycleError } from '../domain/compile';
import type { ManifestNode } from './manifest';
import { ProjectParser } from './parse';
import { loadProject } from './project';
import { DbtError, DbtRuntime } from './runtime';
import { readSeed } from './seed-file';
import { SyncSql } from './sync-sql';

const q = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** A node's SQL rendered with `execute` false, its ephemeral models injected as CTEs (each rendered once). */
function parseTimeRenderer(rt: DbtRuntime): (n: ManifestNode) => string {
  const rendered = new Map<string, { sql: string; ephemerals: Set<string> }>();
  const render = (n: ManifestNode): string => {
    let r = rendered.get(n.unique_id);
    if (!r) {
      const out = rt.render(n.raw_code, n.original_file_path, { node: n, execute: false });
      r = { sql: out.sql, ephemerals: out.ephemerals };
      rendered.set(n.unique_id, r);
      for (const e of out.ephemerals) render(rt.manifest.nodes.get(e)!);
    }
    return rt.injectCtes(r.sql, r.ephemerals, rendered);
  };
  return render;
}

/** The project parsed by the dbt runtime, `execute` false (it never connects). */
function parsed(root: string, modelSchema: string, env: Record<string, string>): DbtRuntime {
  const project = loadProject(root);
  const rt = new DbtRuntime(project, {
    target: { name: 'weir', schema: modelSchema, database: '', threads: 1, type: 'postgres' },
    cliVars: {},
    env,
    sql: new SyncSql('postgres://127.0.0.1:1/unused'),
    flags: {},
    log: () => undefined,
  });
  new ProjectParser(rt).parse();
  return rt;
}

/**
 * The generic tests of the root project's models, compiled with `{table}` for the relation under
 * test (the audit of Weir's builds runs them as `custom_sql` on the relation built beside the live one).
 */
export function compileDbtTests(
  root: string,
  modelSchema: string,
  env: Record<string, string>,
): Record<string, DbtTestSql[]> {
  const rt = parsed(root, modelSchema, env);
  const out: Record<string, DbtTestSql[]> = {};
  for (const n of rt.manifest.nodes.values()) {
    if (n.resource_type !== 'test' || !n.test_metadata || !n.attached_node) continue;
    const parent = rt.manifest.nodes.get(n.attached_node);
    if (!parent || parent.resource_type !== 'model' || parent.package_name !== rt.rootName) continue;
    let sql: string;
    try {
      sql = compileGenericTest(rt, n, { execute: false, model: '{table}' });
    } catch {
      continue;
    }
    (out[parent.name] ??= []).push({
      test: n.test_metadata.name,
      column: n.column_name ?? null,
      sql,
      severity: String(n.config['severity'] ?? 'error').toLowerCase() === 'warn' ? 'warn' : 'error',
    });
  }
  return out;
}

export function compileWithDbtRuntime(root: string, modelSchema: string, env: Record<string, string>): CompiledProject {
  const rt = parsed(root, modelSchema, env);
  const project = rt.project;
  const legacyId = (id: string): string | undefined => {
    const n = rt.manifest.nodes.get(id);
    if (n)
      return n.resource_type === 'model' || n.resource_type === 'seed' || n.resource_type === 'snapshot'
        ? `${n.resource_type}.${n.name}`
        : undefined;
    const s = rt.manifest.sources.get(id);
    return s ? `source.${s.source_name}.${s.name}` : undefined;
  };
  const nodes = new Map<string, CompiledNode>();
  const render = parseTimeRenderer(rt);
  for (const s of rt.manifest.sources.values()) {
    const id = `source.${s.source_name}.${s.name}`;
    nodes.set(id, {
      id,
      kind: 'source',
      name: `${s.source_name}.${s.name}`,
      schema: s.schema,
      table: s.identifier,
      relation: `${q(s.schema)}.${q(s.identifier)}`,
      config: {},
      tags: s.tags,
      dependsOn: [],
    });
  }
  for (const n of rt.manifest.nodes.values()) {
    const id = legacyId(n.unique_id);
    if (!id) continue;
    const kind = n.resource_type as 'model' | 'seed' | 'snapshot';
    nodes.set(id, {
      id,
      kind,
      name: n.name,
      path: n.original_file_path,
      schema: n.schema,
      table: n.alias,
      relation: `${q(n.schema)}.${q(n.alias)}`,
      // dbt's defaults left out (null): Weir's materializers read what the project set
      config: {
        ...Object.fromEntries(Object.entries(n.config).filter(([, v]) => v !== null && v !== undefined)),
        ...(n.config['pre-hook'] ? { pre_hook: n.config['pre-hook'] } : {}),
        ...(n.config['post-hook'] ? { post_hook: n.config['post-hook'] } : {}),
      },
      ...(kind === 'model' ? { materialized: String(n.config['materialized'] ?? 'view') } : {}),
      tags: n.tags,
      dependsOn: n.depends_on.nodes.map(legacyId).filter((x): x is string => !!x),
      ...(kind !== 'seed' ? { compiledSql: render(n) } : {}),
    });
  }
  // dependencies first
  const order: string[] = [];
  const state = new Map<string, number>();
  const visit = (id: string, trail: string[]) => {
    if (state.get(id) === 2) return;
    if (state.get(id) === 1) throw new DagCycleError([...trail, id]);
    state.set(id, 1);
    for (const d of nodes.get(id)?.dependsOn ?? []) visit(d, [...trail, id]);
    state.set(id, 2);
    order.push(id);
  };
  for (const id of [...nodes.keys()].sort()) visit(id, []);
  return { name: project.root.name, nodes, order };
}

/** A relation a model reads (directly, or through ephemeral models), for its column lineage. */
export interface ModelUpstream {
  /** `schema.table`, as the compiled SQL names it. */
  relation: string;
  kind: 'model' | 'snapshot' | 'seed' | 'source';
  /** A model's SQL as compiled here (a snapshot's columns are left unknown: its meta columns are the materialization's). */
  sql?: string;
  /** A seed's columns (its CSV header); a source's columns as its YAML declares them (when it does). */
  columns?: string[];
}

/**
 * One model's SQL as the dbt runtime compiles it without a warehouse (`execute` false): by model
 * name, or by its file (a path inside the project). For lineage of a model file with Jinja:
 * `relation` is what it builds, `upstream` every relation it reads, dependencies first (an
 * ephemeral model is in its SQL as a CTE, what the ephemeral model reads is upstream).
 */
export function compileModelSql(
  root: string,
  modelOrFile: string,
  modelSchema = 'analytics',
  env: Record<string, string> = {},
): { model: string; relation: string; sql: string; upstream: ModelUpstream[] } {
  const rt = parsed(root, modelSchema, env);
  const rel = path.isAbsolute(modelOrFile) ? path.relative(root, modelOrFile).split(path.sep).join('/') : modelOrFile;
  const n = [...rt.manifest.nodes.values()].find(
    (x) =>
      (x.resource_type === 'model' || x.resource_type === 'snapshot') &&
      x.package_name === rt.rootName &&
      (x.name === modelOrFile || x.original_file_path === rel),
  );
  if (!n) throw new DbtError(`No model ${JSON.stringify(modelOrFile)} in the project at ${root}`);
  const render = parseTimeRenderer(rt);
  const upstream: ModelUpstream[] = [];
  const seen = new Set<string>([n.unique_id]);
  const visit = (id: string): void => {
    if (seen.has(id)) return;
    seen.add(id);
    const s = rt.manifest.sources.get(id);
    if (s) {
      const declared = Object.values(s.columns ?? {}).map((c) => c.name);
      upstream.push({
        relation: `${s.schema}.${s.identifier}`,
        kind: 'source',
        ...(declared.length ? { columns: declared } : {}),
      });
      return;
    }
    const u = rt.manifest.nodes.get(id);
    if (!u) return;
    for (const d of u.depends_on.nodes) visit(d);
    const relation = `${u.schema}.${u.alias}`;
    if (u.resource_type === 'seed') {
      const file = path.join(root, u.original_file_path);
      let columns: string[] | undefined;
      try {
        columns = readSeed(fs.readFileSync(file, 'utf8'), String(u.config['delimiter'] ?? ',')).columns;
      } catch {
        columns = undefined; // a package's seed, or a file that cannot be read: its columns stay unknown
      }
      upstream.push({ relation, kind: 'seed', ...(columns?.length ? { columns } : {}) });
    } else if (u.resource_type === 'snapshot') {
      // its columns are its query's and the snapshot's own (dbt_valid_from, …, which the materialization decides)
      upstream.push({ relation, kind: 'snapshot' });
    } else if (u.resource_type === 'model') {
      // an ephemeral model is inlined as a CTE: only what it reads is a relation
      if (u.config['materialized'] === 'ephemeral') return;
      let sql: string | undefined;
      try {
        sql = render(u);
      } catch {
        sql = undefined; // lineage is best effort upstream: its columns stay unknown
      }
      upstream.push({ relation, kind: u.resource_type, ...(sql !== undefined ? { sql } : {}) });
    }
  };
  for (const d of n.depends_on.nodes) visit(d);
  return { model: n.name, relation: `${n.schema}.${n.alias}`, sql: render(n), upstream };
}

/** The dbt project a file belongs to: the nearest folder above it with a dbt_project.yml. */
export function projectRootOf(file: string): string | undefined {
  let dir = path.dirname(path.resolve(file));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'dbt_project.yml'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
