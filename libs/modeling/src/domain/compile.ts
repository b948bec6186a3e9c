import nunjucks from 'nunjucks';
import { folderConfig, Project } from './project';
import { weirMacros } from './macros';

export type NodeKind = 'model' | 'seed' | 'source' | 'snapshot';
export const MATERIALIZATIONS = ['view', 'table', 'incremental', 'ephemeral'] as const;

/** One node of the project DAG, compiled. */
export interface CompiledNode {
  /** `model.<name>`, `seed.<name>`, `source.<source>.<table>`. */
  id: string;
  kind: NodeKind;
  name: string;
  path?: string;
  /** Where it lives in the warehouse. */
  schema: string;
  /** The table or view name in `schema`, unquoted (`relation` is both, quoted). */
  table: string;
  relation: string;
  config: Record<string, unknown>;
  materialized?: string;
  tags: string[];
  /** ids of the nodes it reads (ref/source). */
  dependsOn: string[];
  /** The SQL after templating (models). */
  compiledSql?: string;
}

export interface CompiledProject {
  name: string;
  nodes: Map<string, CompiledNode>;
  /** Node ids in an order where every node comes after what it depends on. */
  order: string[];
  /**
   * The generic tests of each model (by model name) as the dbt runtime compiles them, with `{table}`
   * for the relation under test: the audit runs the ones Weir has no expectation for as `custom_sql`.
   */
  dbtTests?: Record<string, DbtTestSql[]>;
}

/** A dbt generic test of a model, compiled: its failing rows' SELECT over `{table}`. */
export interface DbtTestSql {
  test: string;
  column: string | null;
  sql: string;
  severity: 'error' | 'warn';
}

/** A model that cannot compile: names the file and the line. */
export class CompileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    message: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${message}`);
  }
}

export class DagCycleError extends Error {
  constructor(readonly cycle: string[]) {
    super(`the project has a dependency cycle: ${cycle.join(' -> ')}`);
  }
}

const q = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * nunjucks is not a sandbox: `range.constructor("…")()` would run JavaScript. Every `a.b` / `a["b"]`
 * in a template goes through runtime.memberLookup, so the keys that reach Function, prototypes or
 * property descriptors are refused there (projects can be uploaded by API users).
 */
const FORBIDDEN_MEMBERS = new Set([
  'constructor',
  '__proto__',
  'prototype',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'call',
  'apply',
  'bind',
]);
const runtime = (
  nunjucks as unknown as { runtime: { memberLookup: (obj: unknown, val: unknown) => unknown; __weirGuarded?: boolean } }
).runtime;
if (!runtime.__weirGuarded) {
  const lookup = runtime.memberLookup;
  runtime.memberLookup = (obj: unknown, val: unknown) => {
    if (FORBIDDEN_MEMBERS.has(String(val))) throw new Error(`Templates may not access "${String(val)}"`);
    return lookup(obj, val);
  };
  runtime.__weirGuarded = true;
}

/**
 * Rendering is bounded, so a project (which API users can upload) cannot hold the process: each
 * render may take at most {@link TEMPLATE_LIMITS}.steps loop iterations and macro calls, produce at
 * most `.outputBytes` characters and run at most `.ms` milliseconds (WEIR_TEMPLATE_MAX_MS), and
 * `range()` makes at most `.rangeItems` numbers. Past a bound the render fails with an error naming
 * the bound (and compile errors name the model). The counters sit in nunjucks' runtime hooks that
 * every compiled template calls (loops, calls, output), active only while a bounded render runs.
 */
export const TEMPLATE_LIMITS = {
  steps: 1_000_000,
  outputBytes: 20 * 1024 * 1024,
  /** Set from WEIR_TEMPLATE_MAX_MS by the compile worker, per compile. */
  ms: 5000,
  rangeItems: 100_000,
};

export class TemplateLimitError extends Error {}

let budget: { steps: number; bytes: number; deadline: number } | undefined;
function spend(steps: number, bytes = 0): void {
  if (!budget) return;
  budget.steps -= steps;
  budget.bytes -= bytes;
  if (budget.steps < 0)
    throw new TemplateLimitError(
      `the template runs more than ${TEMPLATE_LIMITS.steps} loop iterations and macro calls`,
    );
  if (budget.bytes < 0)
    throw new TemplateLimitError(`the template renders more than ${TEMPLATE_LIMITS.outputBytes} characters`);
  if (Date.now() > budget.deadline)
    throw new TemplateLimitError(`the template takes longer than ${TEMPLATE_LIMITS.ms} ms to render`);
}
const hooks = runtime as unknown as {
  fromIterator: (a: unknown) => unknown;
  suppressValue: (v: unknown, e: boolean) => unknown;
  callWrap: (...a: unknown[]) => unknown;
  __weirBounded?: boolean;
};
if (!hooks.__weirBounded) {
  const fromIterator = hooks.fromIterator;
  hooks.fromIterator = (a: unknown) => {
    const r = fromIterator(a);
    spend(Array.isArray(r) ? r.length : r && typeof r === 'object' ? Object.keys(r).length : 1);
    return r;
  };
  const suppressValue = hooks.suppressValue;
  hooks.suppressValue = (v: unknown, e: boolean) => {
    const r = suppressValue(v, e);
    spend(0, typeof r === 'string' ? r.length : 0);
    return r;
  };
  const callWrap = hooks.callWrap;
  hooks.callWrap = (...a: unknown[]) => {
    spend(1);
    return callWrap(...a);
  };
  hooks.__weirBounded = true;
}

function boundedRange(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) [start, stop] = [0, start];
  const n = step === 0 ? Infinity : Math.max(0, Math.ceil((stop - start) / step));
  if (!(n <= TEMPLATE_LIMITS.rangeItems))
    throw new TemplateLimitError(
      `range() of ${Number.isFinite(n) ? n : 'endless'} items (at most ${TEMPLATE_LIMITS.rangeItems})`,
    );
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(start + i * step);
  return out;
}

/** A Jinja-compatible environment: Jinja's delimiters and defaults, no autoescape, undefined is an error; rendering bounded. */
function environment(): nunjucks.Environment {
  const env = new nunjucks.Environment(null, {
    autoescape: false,
    throwOnUndefined: true,
    trimBlocks: false,
    lstripBlocks: false,
  });
  env.addGlobal('range', boundedRange);
  const render = env.renderString.bind(env) as (src: string, ctx: object) => string;
  (env as unknown as { renderString: (src: string, ctx: object) => string }).renderString = (
    src: string,
    ctx: object,
  ) => {
    const outer = budget;
    budget = {
      steps: TEMPLATE_LIMITS.steps,
      bytes: TEMPLATE_LIMITS.outputBytes,
      deadline: Date.now() + TEMPLATE_LIMITS.ms,
    };
    try {
      return render(src, ctx);
    } finally {
      budget = outer;
    }
  };
  return env;
}

/** nunjucks passes keyword arguments as a trailing object marked `__keywords`. */
function kwargs(args: unknown[]): Record<string, unknown> {
  const last = args[args.length - 1] as Record<string, unknown> | undefined;
  if (last && typeof last === 'object' && last['__keywords']) {
    const { __keywords: _k, ...rest } = last;
    return rest;
  }
  return {};
}

/** Turns a nunjucks error into file:line + message (runtime errors count lines from 0, parse errors from 1). */
function toCompileError(file: string, err: Error): CompileError {
  const m = /\[Line (\d+), Column (\d+)\]\s*([\s\S]*)$/.exec(err.message);
  if (!m) return new CompileError(file, undefined, err.message);
  const runtime = /^\s*Error:/.test(m[3]);
  const line = Number(m[1]) + (runtime ? 1 : 0);
  return new CompileError(file, line, m[3].replace(/^\s*(Error:\s*)?/, '').trim());
}

export interface CompileOptions {
  /** Default warehouse schema of models (dbt's target schema). */
  modelSchema?: string;
  seedSchema?: string;
  vars?: Record<string, unknown>;
  /** Nodes already built (is_incremental() is true for incremental models found here). */
  existing?: ReadonlySet<string>;
  /** What dbt's `env_var()` reads (the modeling config's `templateEnv`); none when absent. */
  env?: Readonly<Record<string, string>>;
}

/**
 * Compiles every model of a project: resolves configs (dbt_project.yml folders < YAML < in-file
 * `config()`), renders the Jinja with `ref`, `source`, `config`, `var`, `is_incremental`, `this`,
 * builds the DAG and a topological order (a cycle is an error naming it).
 */
export function compileProject(project: Project, opts: CompileOptions = {}): CompiledProject {
  const nodes = new Map<string, CompiledNode>();
  const modelSchema = opts.modelSchema ?? 'marts';
  const seedSchema = opts.seedSchema ?? 'raw';
  const vars = { ...project.vars, ...(opts.vars ?? {}) };

  for (const s of project.seeds) {
    const config = folderConfig(project.seedConfigTree, project.name, s.folders);
    const schema = String(config['schema'] ?? seedSchema);
    nodes.set(`seed.${s.name}`, {
      id: `seed.${s.name}`,
      kind: 'seed',
      name: s.name,
      path: s.path,
      schema,
      table: s.name,
      relation: `${q(schema)}.${q(s.name)}`,
      config,
      tags: tagsOf(config),
      dependsOn: [],
    });
  }
  for (const src of project.sources) {
    for (const t of src.tables) {
      const schema = src.schema ?? src.name;
      const id = `source.${src.name}.${t.name}`;
      nodes.set(id, {
        id,
        kind: 'source',
        name: `${src.name}.${t.name}`,
        schema,
        table: t.identifier ?? t.name,
        relation: `${q(schema)}.${q(t.identifier ?? t.name)}`,
        config: {},
        tags: [],
        dependsOn: [],
      });
    }
  }
  // model relations are known before rendering (schema/alias come from configs outside the SQL,
  // or from config() in the SQL: a first pass collects those)
  const env = environment();
  const preConfig = new Map<string, Record<string, unknown>>();
  for (const m of project.models) {
    const collected: Record<string, unknown> = {};
    try {
      env.renderString(m.sql, {
        ref: () => '""',
        source: () => '""',
        config: (...a: unknown[]) => (Object.assign(collected, kwargs(a)), ''),
        var: (name: string, dflt?: unknown) => vars[name] ?? dflt ?? '',
        is_incremental: () => false,
        this: '""',
        weir: weirMacros,
        env_var: (_n: string, d?: string) => d ?? '',
      });
    } catch {
      // errors are reported by the real pass below, with their line
    }
    const config = {
      ...folderConfig(project.modelConfigTree, project.name, m.folders),
      ...(project.properties.get(m.name)?.config ?? {}),
      ...collected,
    };
    preConfig.set(m.name, config);
    const schema = String(config['schema'] ?? modelSchema);
    const alias = String(config['alias'] ?? m.name);
    nodes.set(`model.${m.name}`, {
      id: `model.${m.name}`,
      kind: 'model',
      name: m.name,
      path: m.path,
      schema,
      table: alias,
      relation: `${q(schema)}.${q(alias)}`,
      config,
      materialized: String(config['materialized'] ?? 'view'),
      tags: tagsOf(config),
      dependsOn: [],
    });
  }
  const byName = (name: string): CompiledNode | undefined => nodes.get(`model.${name}`) ?? nodes.get(`seed.${name}`);

  for (const m of project.models) {
    const node = nodes.get(`model.${m.name}`)!;
    if (!(MATERIALIZATIONS as readonly string[]).includes(node.materialized!)) {
      throw new CompileError(
        m.path,
        undefined,
        `materialized must be one of ${MATERIALIZATIONS.join(', ')} (got ${JSON.stringify(node.materialized)})`,
      );
    }
    const deps = new Set<string>();
    const ctx = {
      ref: (...a: unknown[]) => {
        const name = String(a.length >= 2 && typeof a[1] === 'string' ? a[1] : a[0]);
        const target = byName(name);
        if (!target) throw new Error(`ref('${name}') names no model or seed of this project`);
        deps.add(target.id);
        // ephemeral models are inlined: their compiled SQL is substituted after rendering
        return target.materialized === 'ephemeral' ? `__weir_ephemeral__${target.name}__` : target.relation;
      },
      source: (src: string, table: string) => {
        const id = `source.${src}.${table}`;
        const target = nodes.get(id);
        if (!target) throw new Error(`source('${src}', '${table}') is not declared in a sources: block`);
        deps.add(id);
        return target.relation;
      },
      config: () => '',
      var: (name: string, dflt?: unknown) => {
        if (name in vars) return vars[name];
        if (dflt !== undefined) return dflt;
        throw new Error(`var('${name}') has no value and no default`);
      },
      is_incremental: () => node.materialized === 'incremental' && !!opts.existing?.has(node.id),
      this: node.relation,
      weir: weirMacros,
      env_var: (n: string, d?: string) => {
        const v = opts.env?.[n];
        if (v !== undefined) return v;
        if (d !== undefined) return d;
        throw new Error(`env_var('${n}') is not set`);
      },
    };
    try {
      node.compiledSql = env.renderString(m.sql, ctx).trim();
    } catch (e) {
      throw toCompileError(m.path, e as Error);
    }
    node.dependsOn = [...deps];
  }
  // snapshots: {% snapshot name %} … {% endsnapshot %} blocks, rendered like models
  for (const f of project.snapshots) {
    const blocks = [
      ...f.sql.matchAll(/{%-?\s*snapshot\s+([A-Za-z_][A-Za-z0-9_]*)\s*-?%}([\s\S]*?){%-?\s*endsnapshot\s*-?%}/g),
    ];
    if (blocks.length === 0)
      throw new CompileError(f.path, undefined, 'no {% snapshot name %} … {% endsnapshot %} block');
    for (const [whole, name, body] of blocks) {
      const line = f.sql.slice(0, f.sql.indexOf(whole)).split('\n').length;
      const collected: Record<string, unknown> = {};
      const deps = new Set<string>();
      let sql: string;
      try {
        sql = env
          .renderString(body, {
            ref: (...a: unknown[]) => {
              const target = byName(String(a.length >= 2 && typeof a[1] === 'string' ? a[1] : a[0]));
              if (!target) throw new Error(`ref('${String(a[0])}') names no model or seed of this project`);
              deps.add(target.id);
              return target.relation;
            },
            source: (src: string, table: string) => {
              const target = nodes.get(`source.${src}.${table}`);
              if (!target) throw new Error(`source('${src}', '${table}') is not declared in a sources: block`);
              deps.add(target.id);
              return target.relation;
            },
            config: (...a: unknown[]) => (Object.assign(collected, kwargs(a)), ''),
            var: (n: string, d?: unknown) => vars[n] ?? d,
            is_incremental: () => false,
          })
          .trim();
      } catch (e) {
        const ce = toCompileError(f.path, e as Error);
        throw new CompileError(
          f.path,
          ce.line !== undefined ? ce.line + line - 1 : line,
          ce.message.replace(/^[^:]+:(\d+: )?/, ''),
        );
      }
      const schema = String(collected['target_schema'] ?? collected['schema'] ?? 'snapshots');
      nodes.set(`snapshot.${name}`, {
        id: `snapshot.${name}`,
        kind: 'snapshot',
        name,
        path: f.path,
        schema,
        table: name,
        relation: `${q(schema)}.${q(name)}`,
        config: collected,
        materialized: 'snapshot',
        tags: tagsOf(collected),
        dependsOn: [...deps],
        compiledSql: sql,
      });
    }
  }
  const order = topologicalOrder(nodes);
  // inline ephemeral models as CTEs, in dependency order
  for (const id of order) {
    const n = nodes.get(id)!;
    if (n.kind !== 'model' || !n.compiledSql?.includes('__weir_ephemeral__')) continue;
    const ctes: string[] = [];
    n.compiledSql = n.compiledSql.replace(/__weir_ephemeral__([A-Za-z0-9_]+)__/g, (_m, name: string) => {
      const eph = byName(name)!;
      if (!ctes.some((c) => c.startsWith(`__dbt__cte__${name} `)))
        ctes.push(`__dbt__cte__${name} as (\n${eph.compiledSql}\n)`);
      return `__dbt__cte__${name}`;
    });
    const body = n.compiledSql;
    const withHead = /^\s*with\s+/i.exec(body);
    n.compiledSql = withHead
      ? `with ${ctes.join(',\n')},\n${body.slice(withHead[0].length)}`
      : `with ${ctes.join(',\n')}\n${body}`;
  }
  return { name: project.name, nodes, order };
}

function tagsOf(config: Record<string, unknown>): string[] {
  const t = config['tags'];
  return Array.isArray(t) ? t.map(String) : typeof t === 'string' ? [t] : [];
}

/** Kahn's algorithm; on a cycle, finds and names it. */
export function topologicalOrder(nodes: Map<string, CompiledNode>): string[] {
  const indegree = new Map<string, number>();
  const children = new Map<string, string[]>();
  for (const n of nodes.values()) {
    indegree.set(n.id, n.dependsOn.length);
    for (const d of n.dependsOn) children.set(d, [...(children.get(d) ?? []), n.id]);
  }
  const ready = [...nodes.keys()].filter((id) => indegree.get(id) === 0).sort();
  const order: string[] = [];
  while (ready.length) {
    const id = ready.shift()!;
    order.push(id);
    for (const c of (children.get(id) ?? []).sort()) {
      indegree.set(c, indegree.get(c)! - 1);
      if (indegree.get(c) === 0) ready.push(c);
    }
  }
  if (order.length === nodes.size) return order;
  // find one cycle among the nodes left
  const left = new Set([...nodes.keys()].filter((id) => !order.includes(id)));
  const start = [...left].sort()[0];
  const path: string[] = [];
  const seen = new Map<string, number>();
  let cur = start;
  while (!seen.has(cur)) {
    seen.set(cur, path.length);
    path.push(cur);
    cur = nodes.get(cur)!.dependsOn.find((d) => left.has(d))!;
  }
  const cycle = path.slice(seen.get(cur)!);
  throw new DagCycleError([...cycle, cur].reverse());
}

/**
 * dbt-style selection: `orders` (the node), `+orders` (with its ancestors), `orders+` (with its
 * descendants), `+orders+`, `tag:finance`; several selectors (space-separated) are a union.
 * Returns node ids in build order. An unknown name is an error.
 */
/**
 * The nodes a model's audit reads besides its refs: the targets of its `relationships` tests. They are
 * build-time parents (the audit gates the publish), so `+name` selects them and the build orders by them.
 */
export function auditParents(project: Project, compiled: CompiledProject): (id: string) => string[] {
  return (id) => {
    const props = project.properties.get(compiled.nodes.get(id)!.name);
    const out: string[] = [];
    for (const col of props?.columns ?? []) {
      for (const t of col.tests ?? []) {
        const to =
          t && typeof t === 'object' ? (t as Record<string, { to?: unknown }>)['relationships']?.to : undefined;
        const m = typeof to === 'string' ? /ref\(\s*['"]([A-Za-z0-9_]+)['"]\s*\)/.exec(to) : null;
        if (m) for (const k of [`model.${m[1]}`, `seed.${m[1]}`]) if (compiled.nodes.has(k) && k !== id) out.push(k);
      }
    }
    return out;
  };
}

export function select(
  project: CompiledProject,
  selector: string | undefined,
  extraParents: (id: string) => string[] = () => [],
): string[] {
  if (!selector || selector.trim() === '' || selector.trim() === '*') return project.order;
  const children = new Map<string, string[]>();
  for (const n of project.nodes.values())
    for (const d of n.dependsOn) children.set(d, [...(children.get(d) ?? []), n.id]);
  const walk = (id: string, next: (id: string) => string[], acc: Set<string>) => {
    for (const x of next(id)) {
      if (!acc.has(x)) {
        acc.add(x);
        walk(x, next, acc);
      }
    }
  };
  const chosen = new Set<string>();
  for (const part of selector.trim().split(/\s+/)) {
    const m = /^(\+)?(tag:)?([A-Za-z0-9_.]+)(\+)?$/.exec(part);
    if (!m) throw new Error(`selector ${JSON.stringify(part)} is not valid (name, +name, name+, tag:x)`);
    const seeds = m[2]
      ? [...project.nodes.values()].filter((n) => n.tags.includes(m[3])).map((n) => n.id)
      : [...project.nodes.values()].filter((n) => n.name === m[3] && n.kind !== 'source').map((n) => n.id);
    if (seeds.length === 0) throw new Error(`selector ${JSON.stringify(part)} matches no node`);
    for (const id of seeds) {
      chosen.add(id);
      if (m[1]) walk(id, (x) => [...project.nodes.get(x)!.dependsOn, ...extraParents(x)], chosen);
      if (m[4]) walk(id, (x) => children.get(x) ?? [], chosen);
    }
  }
  return project.order.filter((id) => chosen.has(id));
}

/** Renders `{{ doc('name') }}` in a YAML description from the project's `{% docs %}` blocks. */
export function renderDescription(
  text: string | undefined,
  docs: Map<string, string>,
  file = 'schema.yml',
): string | undefined {
  if (!text || !text.includes('{{')) return text;
  try {
    return environment()
      .renderString(text, {
        doc: (name: string) => {
          if (!docs.has(name)) throw new Error(`doc('${name}') names no {% docs %} block`);
          return docs.get(name);
        },
      })
      .trim();
  } catch (e) {
    throw toCompileError(file, e as Error);
  }
}
