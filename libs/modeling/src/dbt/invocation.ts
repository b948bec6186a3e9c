/**
 * One dbt invocation — `dbt <command> [flags]` as dbt-core runs it on dbt-postgres: parse the
 * project, select nodes, run them in DAG order (tests after what they test in `build`, children
 * of a failure skipped), print dbt's lines, and write target/manifest.json (v12),
 * target/run_results.json (v6) and, for `docs generate`, target/catalog.json (v1).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { splitArgs, truthy } from './jinja';
import type { ManifestNode } from './manifest';
import { Materializer, type NodeOutcome } from './materialize';
import { ProjectParser } from './parse';
import { DbtProjectError, loadProject } from './project';
import { DbtError, DbtRuntime, type DbtTarget } from './runtime';
import { select, SelectionError, type SelectableGraph } from './selection';
import { SyncSql } from './sync-sql';

export type { DbtTarget } from './runtime';

export interface DbtInvocationOptions {
  /** dbt runs "from" this folder; target/ is written here. */
  projectDir: string;
  /** dbt's argv after `dbt`, e.g. ['run', '-m', 'swappable', '--vars', 'materialized_var: view']. */
  args: string[];
  /** PostgreSQL URL of the warehouse. */
  connectionString: string;
  target: DbtTarget;
  /** What env_var() reads. */
  env?: Record<string, string>;
  /** dbt-like console lines. */
  log?: (line: string) => void;
  /** 'YYYY-MM-DD HH:MM:SS': microbatch windows end here instead of now. */
  microbatchEndTime?: string;
  /** Where artifacts go (default `<projectDir>/target`). */
  targetPath?: string;
  /** Parse and select only: the result's `plan` lists the nodes the command would run, in order. */
  planOnly?: boolean;
  /** Told before each node runs, and with each node's result. */
  onNodeStart?: (uniqueId: string) => void;
  onNodeResult?: (result: DbtNodeResult) => void;
  /** Asked between nodes: true stops the invocation (the nodes left are skipped). */
  shouldStop?: () => boolean;
}

/** A node an invocation runs. */
export interface DbtPlannedNode {
  unique_id: string;
  name: string;
  resource_type: string;
  materialized: string | null;
  relation_name: string | null;
  /** schema.identifier of what it reads and builds (lineage). */
  inputs: string[];
  output: string | null;
}

export interface DbtNodeResult {
  unique_id: string;
  name: string;
  resource_type: string;
  status: 'success' | 'error' | 'skipped' | 'pass' | 'fail' | 'warn';
  message: string | null;
  execution_time: number;
  failures: number | null;
  adapter_response: Record<string, unknown>;
  compiled_code?: string | null;
  relation_name?: string | null;
  timing?: { name: string; started_at: string; completed_at: string }[];
  batch_results?: { successful: string[][]; failed: string[][] } | null;
}

export interface DbtInvocationResult {
  success: boolean;
  results: DbtNodeResult[];
  /** run-operation's value, ls's lines. */
  output?: string[];
  /** An error that stopped the whole invocation (parse, selection), dbt's wording. */
  error?: string;
  /** planOnly: the nodes in order. */
  plan?: DbtPlannedNode[];
}

export interface ParsedArgs {
  command: string;
  select: string[];
  exclude: string[];
  fullRefresh: boolean;
  vars: Record<string, unknown>;
  failFast: boolean;
  target?: string;
  state?: string;
  resourceTypes: string[];
  macro?: string;
  macroArgs: Record<string, unknown>;
  output?: string;
  storeFailures: boolean;
  emptyFlag: boolean;
  threads?: number;
}

const COMMANDS = [
  'run',
  'seed',
  'test',
  'snapshot',
  'build',
  'compile',
  'ls',
  'list',
  'run-operation',
  'docs',
  'debug',
  'parse',
  'show',
  'deps',
  'clean',
  'source',
];

/** dbt's argv: the command (with `docs generate`), then flags in any order. */
export function parseDbtArgs(argv: string[]): ParsedArgs {
  const out: ParsedArgs = {
    command: '',
    select: [],
    exclude: [],
    fullRefresh: false,
    vars: {},
    failFast: false,
    resourceTypes: [],
    macroArgs: {},
    storeFailures: false,
    emptyFlag: false,
  };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const values = () => {
      const vs: string[] = [];
      while (i + 1 < argv.length && !argv[i + 1].startsWith('-')) vs.push(argv[++i]);
      return vs;
    };
    const value = () => {
      if (i + 1 >= argv.length) throw new DbtError(`Option '${a}' requires an argument.`, 'Runtime Error');
      return argv[++i];
    };
    switch (a) {
      case '-s':
      case '--select':
      case '-m':
      case '--models':
      case '--model':
        out.select.push(...values());
        break;
      case '--exclude':
        out.exclude.push(...values());
        break;
      case '-f':
      case '--full-refresh':
        out.fullRefresh = true;
        break;
      case '--vars': {
        const v = value();
        try {
          const parsed = parseYaml(v);
          if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
            out.vars = parsed as Record<string, unknown>;
          else if (parsed !== null) throw new Error('not a mapping');
        } catch (e) {
          throw new DbtError(
            `--vars: the value is not a YAML mapping (${(e as Error).message}): ${v}`,
            'Runtime Error',
          );
        }
        break;
      }
      case '-x':
      case '--fail-fast':
        out.failFast = true;
        break;
      case '-t':
      case '--target':
        out.target = value();
        break;
      case '--state':
        out.state = value();
        break;
      case '--resource-type':
      case '--resource-types':
        out.resourceTypes.push(...values());
        break;
      case '--args': {
        const v = value();
        const parsed = parseYaml(v);
        out.macroArgs = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
        break;
      }
      case '--output':
      case '-o':
        out.output = value();
        break;
      case '--store-failures':
        out.storeFailures = true;
        break;
      case '--empty':
        out.emptyFlag = true;
        break;
      case '--threads':
        out.threads = Number(value());
        break;
      case '--project-dir':
      case '--profiles-dir':
      case '--profile':
      case '--target-path':
      case '--log-path':
      case '--log-level':
      case '--defer-state':
      case '--selector':
      case '--indirect-selection':
        value();
        break;
      default:
        if (a.startsWith('-')) break; // flags Weir accepts and ignores (--no-partial-parse, --connection, --debug …)
        positional.push(a);
    }
  }
  const cmd = positional.shift() ?? '';
  if (!COMMANDS.includes(cmd)) throw new DbtError(`No such command '${cmd}'.`, 'Runtime Error');
  if (cmd === 'docs') {
    const sub = positional.shift();
    if (sub !== 'generate')
      throw new DbtError(`No such command 'docs ${sub ?? ''}' (Weir has docs generate).`, 'Runtime Error');
    out.command = 'docs generate';
  } else out.command = cmd === 'list' ? 'ls' : cmd;
  if (out.command === 'run-operation') out.macro = positional.shift();
  return out;
}

const RESOURCE_TYPES: Record<string, string[]> = {
  run: ['model'],
  seed: ['seed'],
  test: ['test'],
  snapshot: ['snapshot'],
  build: ['seed', 'model', 'snapshot', 'test'],
  compile: ['model', 'test', 'snapshot', 'analysis'],
  'docs generate': ['model', 'seed', 'snapshot', 'test'],
  ls: ['model', 'seed', 'snapshot', 'test', 'source', 'analysis'],
  show: ['model'],
};

const now = () => new Date().toISOString();

export async function invokeDbt(opts: DbtInvocationOptions): Promise<DbtInvocationResult> {
  const log = opts.log ?? (() => undefined);
  const t0 = Date.now();
  let args: ParsedArgs;
  try {
    args = parseDbtArgs(opts.args);
  } catch (e) {
    log(String((e as Error).message));
    return { success: false, results: [], error: (e as Error).message };
  }
  const sql = new SyncSql(opts.connectionString);
  const targetDir = opts.targetPath ?? path.join(opts.projectDir, 'target');
  try {
    if (args.command === 'debug') {
      try {
        sql.query('select 1');
        log('  Connection test: [OK connection ok]');
        log('All checks passed!');
        return { success: true, results: [] };
      } catch (e) {
        log(`  Connection test: [ERROR] ${(e as Error).message}`);
        return { success: false, results: [], error: (e as Error).message };
      }
    }
    if (args.command === 'deps' || args.command === 'clean') {
      log(args.command === 'deps' ? 'Weir reads local: packages in place; nothing to install.' : 'Nothing to clean.');
      return { success: true, results: [] };
    }
    const project = loadProject(opts.projectDir);
    const rt = new DbtRuntime(project, {
      target: args.target ? { ...opts.target, name: args.target } : opts.target,
      cliVars: args.vars,
      env: opts.env ?? {},
      sql,
      flags: {
        FULL_REFRESH: args.fullRefresh,
        WHICH: args.command === 'docs generate' ? 'generate' : args.command,
        STORE_FAILURES: args.storeFailures,
        FAIL_FAST: args.failFast,
        EMPTY: args.emptyFlag,
        MICROBATCH_END_TIME: opts.microbatchEndTime ?? null,
      },
      log,
    });
    new ProjectParser(rt).parse();
    fs.mkdirSync(targetDir, { recursive: true });
    const graph = buildGraph(rt);
    if (args.state) {
      const file = path.resolve(opts.projectDir, args.state, 'manifest.json');
      if (!fs.existsSync(file)) throw new SelectionError(`--state: no manifest.json at ${file}`);
      const old = JSON.parse(fs.readFileSync(file, 'utf8')) as {
        nodes: Record<string, { checksum: { checksum: string }; config: unknown }>;
      };
      graph.state = new Map(
        Object.entries(old.nodes ?? {}).map(([id, n]) => [
          id,
          { checksum: n.checksum?.checksum, config: JSON.stringify(n.config) },
        ]),
      );
    }
    writeManifest(rt, graph, targetDir);
    if (args.command === 'parse') return { success: true, results: [] };
    if (args.command === 'run-operation') return runOperation(rt, args, log);

    const types = args.resourceTypes.length ? args.resourceTypes : (RESOURCE_TYPES[args.command] ?? ['model']);
    const chosen = select(graph, args.select, args.exclude);
    let ids = [...chosen].filter((id) => {
      const n = rt.manifest.nodes.get(id);
      return n ? types.includes(n.resource_type) : types.includes('source');
    });
    // tests come with the nodes they test (dbt's eager indirect selection)
    if (types.includes('test') && args.select.length) {
      for (const n of rt.manifest.nodes.values()) {
        if (n.resource_type !== 'test' || ids.includes(n.unique_id)) continue;
        const parents = n.depends_on.nodes;
        if (parents.some((p) => chosen.has(p))) {
          const excluded = args.exclude.length ? !select(graph, undefined, args.exclude).has(n.unique_id) : false;
          if (!excluded) ids.push(n.unique_id);
        }
      }
    }
    if (args.command === 'ls') {
      const lines = ids
        .map((id) => rt.manifest.nodes.get(id) ?? rt.manifest.sources.get(id))
        .map((n) => {
          if (!n) return '';
          if (args.output === 'json')
            return JSON.stringify({
              name: n.name,
              resource_type: n.resource_type,
              unique_id: n.unique_id,
              config: n.config,
            });
          if (args.output === 'path') return n.original_file_path;
          return n.resource_type === 'source' ? `source:${n.fqn.join('.')}` : n.fqn.join('.');
        })
        .sort();
      for (const l of lines) log(l);
      return { success: true, results: [], output: lines };
    }
    ids = topoOrder(rt, ids, args.command === 'build');
    if (opts.planOnly) return { success: true, results: [], plan: planOf(rt, ids, args.command) };
    const results = runNodes(rt, ids, args, log, project.root.root, opts);
    if (args.command === 'docs generate') writeCatalog(rt, targetDir);
    writeRunResults(rt, results, args, targetDir, (Date.now() - t0) / 1000);
    writeManifest(rt, graph, targetDir);
    const success =
      results.every((r) => r.status !== 'error' && r.status !== 'fail') &&
      !(args.failFast && results.some((r) => r.status === 'skipped'));
    summary(results, log, (Date.now() - t0) / 1000, args.command);
    return { success, results };
  } catch (e) {
    const message =
      e instanceof DbtError || e instanceof DbtProjectError || e instanceof SelectionError
        ? e.message
        : `Runtime Error: ${(e as Error).message}`;
    log(message);
    writeRunResults(undefined, [], args, targetDir, (Date.now() - t0) / 1000);
    return { success: false, results: [], error: message };
  } finally {
    sql.close();
  }
}

function buildGraph(rt: DbtRuntime): SelectableGraph {
  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  for (const n of rt.manifest.nodes.values()) {
    parents.set(n.unique_id, n.depends_on.nodes);
    for (const p of n.depends_on.nodes) children.set(p, [...(children.get(p) ?? []), n.unique_id]);
  }
  return { nodes: rt.manifest.nodes, sources: rt.manifest.sources, parents, children };
}

/** Dependencies first; in `build`, each test right after the last node it tests. */
function topoOrder(rt: DbtRuntime, ids: string[], build: boolean): string[] {
  const want = new Set(ids);
  const order: string[] = [];
  const state = new Map<string, number>();
  const visit = (id: string, trail: string[]) => {
    const s = state.get(id);
    if (s === 2) return;
    if (s === 1) throw new DbtError(`Found a cycle: ${[...trail, id].join(' --> ')}`, 'Compilation Error');
    state.set(id, 1);
    const n = rt.manifest.nodes.get(id);
    for (const p of n?.depends_on.nodes ?? []) if (rt.manifest.nodes.has(p)) visit(p, [...trail, id]);
    state.set(id, 2);
    if (want.has(id)) order.push(id);
  };
  const sorted = [...ids].sort((a, b) => {
    const ta = rt.manifest.nodes.get(a)?.resource_type === 'test' ? 1 : 0;
    const tb = rt.manifest.nodes.get(b)?.resource_type === 'test' ? 1 : 0;
    return ta - tb || (a < b ? -1 : 1);
  });
  for (const id of sorted) if (rt.manifest.nodes.get(id)?.resource_type !== 'test' || !build) visit(id, []);
  if (!build) return order;
  // place every test after the last of its parents
  const out = [...order];
  for (const id of sorted) {
    const n = rt.manifest.nodes.get(id);
    if (n?.resource_type !== 'test') continue;
    let at = -1;
    for (const p of n.depends_on.nodes) at = Math.max(at, out.indexOf(p));
    const pos = at + 1;
    // after the other tests of the same parent
    let k = pos;
    while (k < out.length && rt.manifest.nodes.get(out[k])?.resource_type === 'test') k++;
    out.splice(k, 0, id);
  }
  return out;
}

/** The nodes an invocation runs (ephemeral models only run inside what refs them). */
function planOf(rt: DbtRuntime, ids: string[], command: string): DbtPlannedNode[] {
  const plain = (id: string): string[] => {
    const n = rt.manifest.nodes.get(id);
    if (n)
      return n.config['materialized'] === 'ephemeral'
        ? n.depends_on.nodes.flatMap(plain)
        : n.relation_name
          ? [`${n.schema}.${n.alias}`]
          : [];
    const s = rt.manifest.sources.get(id);
    return s ? [`${s.schema}.${s.identifier}`] : [];
  };
  return ids
    .map((id) => rt.manifest.nodes.get(id)!)
    .filter((n) => n.config['materialized'] !== 'ephemeral' || command === 'compile')
    .map((n) => ({
      unique_id: n.unique_id,
      name: n.name,
      resource_type: n.resource_type,
      materialized: n.resource_type === 'test' ? 'test' : ((n.config['materialized'] as string | undefined) ?? null),
      relation_name: n.relation_name,
      inputs: [...new Set(n.depends_on.nodes.flatMap(plain))],
      output: n.relation_name ? `${n.schema}.${n.alias}` : null,
    }));
}

function runNodes(
  rt: DbtRuntime,
  ids: string[],
  args: ParsedArgs,
  log: (l: string) => void,
  root: string,
  hooks: Pick<DbtInvocationOptions, 'onNodeStart' | 'onNodeResult' | 'shouldStop'> = {},
): DbtNodeResult[] {
  const results: DbtNodeResult[] = [];
  const failed = new Set<string>();
  const testFailed = new Set<string>();
  const mat = new Materializer(rt, (n) => compile(rt, n));
  const total = ids.filter(
    (id) => rt.manifest.nodes.get(id)?.config['materialized'] !== 'ephemeral' || args.command === 'compile',
  ).length;
  let index = 0;
  let stop = false;
  // dbt creates the schemas of the selected nodes before on-run-start
  if (['run', 'build', 'seed', 'snapshot'].includes(args.command)) rt.createSchemas(ids);
  const hookResults = runHooks(rt, 'on-run-start', args, log);
  results.push(...hookResults);
  for (const id of ids) {
    const n = rt.manifest.nodes.get(id)!;
    const ephemeral = n.config['materialized'] === 'ephemeral';
    if (ephemeral && args.command !== 'compile' && args.command !== 'docs generate') {
      // ephemeral models only exist inside what refs them
      if (ancestorsFailed(rt, n, failed)) failed.add(id);
      continue;
    }
    index++;
    const started = now();
    const t = Date.now();
    let outcome: NodeOutcome;
    const label = describe(n);
    const skipped =
      stop || ancestorsFailed(rt, n, failed) || (n.resource_type !== 'test' && ancestorsFailed(rt, n, testFailed));
    if (!stop && hooks.shouldStop?.()) stop = true;
    if (!stop && !skipped) hooks.onNodeStart?.(id);
    if (stop || skipped) {
      outcome = { status: 'skipped', message: 'SKIP', rowsAffected: -1, failures: null };
      failed.add(id);
      log(
        `${index} of ${total} SKIP relation ${n.schema}.${n.alias} ${stop ? '(fail-fast)' : 'due to an upstream failure'}`,
      );
    } else {
      log(
        `${index} of ${total} START ${label} ${n.resource_type === 'test' ? n.name : `${n.schema}.${n.alias}`} ... [RUN]`,
      );
      try {
        outcome = runOne(rt, mat, n, args, root);
      } catch (e) {
        const err = e instanceof DbtError ? e : new DbtError((e as Error).message, 'Runtime Error');
        const msg = /^(Compilation|Runtime|Database|Parsing) Error/.test(err.message)
          ? err.message
          : `${err.kind} in ${n.resource_type} ${n.name} (${n.original_file_path})\n  ${err.message}`;
        outcome = { status: 'error', message: msg, rowsAffected: -1, failures: null };
        try {
          rt.query('rollback');
        } catch {
          /* no transaction open */
        }
      }
      if (outcome.status === 'error' || outcome.status === 'fail') {
        failed.add(id);
        // in build, what depends on a tested node waits on its tests: a failed test skips them
        if (args.command === 'build' && n.resource_type === 'test')
          for (const p of n.depends_on.nodes) testFailed.add(p);
        if (args.failFast) stop = true;
      }
      const secs = ((Date.now() - t) / 1000).toFixed(2);
      const word = { success: 'OK', pass: 'PASS', fail: 'FAIL', warn: 'WARN', error: 'ERROR', skipped: 'SKIP' }[
        outcome.status
      ];
      log(
        `${index} of ${total} ${word} ${outcome.status === 'error' ? `${label} ${n.name}` : `${label} ${n.resource_type === 'test' ? n.name : `${n.schema}.${n.alias}`}`} ... [${
          outcome.status === 'success'
            ? outcome.message
            : outcome.status === 'error'
              ? 'ERROR'
              : word + (outcome.failures ? ` ${outcome.failures}` : '')
        } in ${secs}s]`,
      );
      if (outcome.status === 'error') log(`  ${outcome.message.split('\n').join('\n  ')}`);
    }
    const completed = now();
    const result: DbtNodeResult = {
      unique_id: id,
      name: n.name,
      resource_type: n.resource_type,
      status: outcome.status,
      message: outcome.status === 'skipped' ? null : outcome.message || null,
      execution_time: (Date.now() - t) / 1000,
      failures: outcome.failures,
      adapter_response:
        outcome.rowsAffected >= 0
          ? { _message: outcome.message, code: outcome.message.split(' ')[0], rows_affected: outcome.rowsAffected }
          : {},
      compiled_code: n.compiled_code ?? null,
      relation_name: n.relation_name,
      timing: [
        { name: 'compile', started_at: started, completed_at: started },
        { name: 'execute', started_at: started, completed_at: completed },
      ],
      batch_results: outcome.batchResults ?? null,
    };
    results.push(result);
    hooks.onNodeResult?.(result);
  }
  results.push(...runHooks(rt, 'on-run-end', args, log, results));
  return results;
}

function runHooks(
  rt: DbtRuntime,
  which: 'on-run-start' | 'on-run-end',
  args: ParsedArgs,
  log: (l: string) => void,
  done: DbtNodeResult[] = [],
): DbtNodeResult[] {
  if (!['run', 'build', 'seed', 'snapshot', 'test'].includes(args.command)) return [];
  const out: DbtNodeResult[] = [];
  // packages' hooks first (by name), the root project's last; after a failure the rest are skipped
  const hooks = [...rt.manifest.nodes.values()]
    .filter((n) => n.resource_type === 'operation' && n.tags.includes(which))
    .sort((a, b) => {
      const ka = a.package_name === rt.rootName ? '\uffff' : a.package_name;
      const kb = b.package_name === rt.rootName ? '\uffff' : b.package_name;
      return ka < kb ? -1 : ka > kb ? 1 : (a.index ?? 0) - (b.index ?? 0);
    });
  let failed = false;
  hooks.forEach((n, i) => {
    const t = Date.now();
    const hookName = `${n.package_name}.${which}.${i}`;
    const result = (status: DbtNodeResult['status'], message: string): DbtNodeResult => ({
      unique_id: n.unique_id,
      name: n.name,
      resource_type: 'operation',
      status,
      message,
      execution_time: (Date.now() - t) / 1000,
      failures: status === 'success' ? 0 : 1,
      adapter_response: {},
    });
    if (failed) {
      out.push(result('skipped', `${hookName} skipped`));
      return;
    }
    try {
      const sql = rt.render(n.raw_code, 'dbt_project.yml', {
        node: undefined,
        execute: true,
        package: n.package_name,
        extra: which === 'on-run-end' ? rt.runEndContext(done) : undefined,
      }).sql;
      if (sql.trim()) rt.query(sql);
      out.push(result('success', `${hookName} passed`));
    } catch (e) {
      failed = true;
      log(`${which} hook failed: ${(e as Error).message}`);
      out.push(result('error', `${hookName} failed, error:\n ${(e as Error).message}`));
    }
  });
  return out;
}

function ancestorsFailed(rt: DbtRuntime, n: ManifestNode, failed: Set<string>): boolean {
  return n.depends_on.nodes.some((p) => failed.has(p));
}

function describe(n: ManifestNode): string {
  if (n.resource_type === 'test') return 'test';
  if (n.resource_type === 'seed') return 'seed file';
  if (n.resource_type === 'snapshot') return 'snapshot';
  return `sql ${String(n.config['materialized'])} model`;
}

function runOne(rt: DbtRuntime, mat: Materializer, n: ManifestNode, args: ParsedArgs, root: string): NodeOutcome {
  if (args.command === 'compile' || args.command === 'docs generate') {
    if (n.resource_type !== 'seed') compile(rt, n);
    return { status: 'success', message: 'OK', rowsAffected: -1, failures: null };
  }
  if (n.resource_type === 'seed') return mat.seed(n, path.join(root));
  if (n.resource_type === 'snapshot') return mat.snapshot(n);
  if (n.resource_type === 'test') return mat.test(n);
  if (n.resource_type === 'model') return mat.model(n);
  return { status: 'success', message: 'OK', rowsAffected: -1, failures: null };
}

/** Compiled SQL of a node; generic tests call their test macro with the YAML's arguments. */
export function compile(rt: DbtRuntime, n: ManifestNode): string {
  if (n.resource_type !== 'test' || !n.test_metadata) return rt.compileNode(n);
  if (n.compiled_code !== undefined) return n.compiled_code;
  const parent = n.attached_node ? rt.manifest.nodes.get(n.attached_node) : undefined;
  const ephemeral = parent?.config['materialized'] === 'ephemeral';
  const sql = compileGenericTest(rt, n, { execute: true });
  if (parent && ephemeral) rt.compileNode(parent);
  n.compiled_code = rt.injectCtes(sql, ephemeral ? new Set([parent!.unique_id]) : new Set<string>(), rt.compiledCache);
  return n.compiled_code;
}

/**
 * A generic test's SQL: its test macro called with the YAML's arguments (`ref(...)`/`source(...)`
 * strings evaluated, Jinja rendered) and `model` the tested relation — or `model` given, as the
 * audit of Weir's builds gives `{table}` — wrapped by the test's `where`.
 */
export function compileGenericTest(rt: DbtRuntime, n: ManifestNode, o: { execute: boolean; model?: string }): string {
  const meta = n.test_metadata!;
  const macro = meta.namespace ? rt.findMacro(`test_${meta.name}`, meta.namespace) : rt.findMacro(`test_${meta.name}`);
  if (!macro) throw new DbtError(`'test_${meta.name}' is undefined`);
  const kwargs: Record<string, unknown> = { __keywords: true };
  const evalArg = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (/^\s*(ref|source)\s*\(.*\)\s*$/s.test(v))
        return rt.render(`{{ ${v} }}`, n.original_file_path, { node: n, execute: o.execute }).sql;
      if (v.includes('{{') || v.includes('{%'))
        return rt.render(v, n.original_file_path, { node: n, execute: o.execute }).sql;
    }
    return v;
  };
  for (const [k, v] of Object.entries(meta.kwargs)) {
    if (k === 'model') continue;
    kwargs[k] = evalArg(v);
  }
  const parent = n.attached_node ? rt.manifest.nodes.get(n.attached_node) : undefined;
  const src =
    !parent && n.sources[0]
      ? [...rt.manifest.sources.values()].find((s) => s.source_name === n.sources[0][0] && s.name === n.sources[0][1])
      : undefined;
  let model = o.model ?? (parent ? rt.relationOf(parent).render() : src ? src.relation_name : '');
  if (o.model === undefined && parent?.config['materialized'] === 'ephemeral') model = `__dbt__cte__${parent.name}`;
  const where = n.config['where'];
  if (where) model = `(select * from ${model} where ${String(where)}) dbt_subquery`;
  kwargs['model'] = { toString: () => model, render: () => model };
  return String(rt.callMacro(macro, [kwargs], n, undefined, o.execute));
}

function runOperation(rt: DbtRuntime, args: ParsedArgs, log: (l: string) => void): DbtInvocationResult {
  const name = args.macro ?? '';
  const [pkg, macroName] = name.includes('.') ? name.split('.', 2) : [undefined, name];
  const macro = rt.findMacro(macroName, pkg);
  if (!macro) {
    const msg = `Runtime Error: dbt could not find a macro with the name '${name}' in any package`;
    log(msg);
    return { success: false, results: [], error: msg };
  }
  try {
    rt.query('begin');
    const value = rt.callMacro(macro, [{ ...args.macroArgs, __keywords: true }], undefined);
    rt.query('commit');
    const text = value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
    if (text.trim()) log(text.trim());
    return { success: true, results: [], output: text ? [text] : [] };
  } catch (e) {
    try {
      rt.query('rollback');
    } catch {
      /* none open */
    }
    log(`Encountered an error while running operation: ${(e as Error).message}`);
    return { success: false, results: [], error: (e as Error).message };
  }
}

function summary(results: DbtNodeResult[], log: (l: string) => void, secs: number, command: string): void {
  const c = (s: string) => results.filter((r) => r.status === s).length;
  const pass = c('success') + c('pass');
  log('');
  log(
    `Finished running ${results.length} node${results.length === 1 ? '' : 's'} in ${secs.toFixed(2)} seconds (${command}).`,
  );
  log(
    `Done. PASS=${pass} WARN=${c('warn')} ERROR=${c('error') + c('fail')} SKIP=${c('skipped')} TOTAL=${results.length}`,
  );
}

// ---------------------------------------------------------------- artifacts

function metadata(rt: DbtRuntime | undefined, schema: string): Record<string, unknown> {
  return {
    dbt_schema_version: `https://schemas.getdbt.com/dbt/${schema}.json`,
    dbt_version: '1.9.0',
    generated_at: now(),
    invocation_id: rt?.invocationId ?? null,
    env: {},
  };
}

function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2));
}

function writeManifest(rt: DbtRuntime, graph: SelectableGraph, dir: string): void {
  const nodes: Record<string, unknown> = {};
  for (const [id, n] of rt.manifest.nodes)
    nodes[id] = {
      ...n,
      database: n.database,
      created_at: Date.now() / 1000,
      compiled: n.compiled_code !== undefined,
      extra_ctes: [],
      extra_ctes_injected: false,
      build_path: null,
      deferred: false,
      unrendered_config: n.unrendered_config,
      docs: { show: true, node_color: null },
      group: null,
      access: 'protected',
      constraints: [],
      contract: { enforced: false, alias_types: true, checksum: null },
      latest_version: null,
      deprecation_date: null,
      metrics: [],
      doc_blocks: [],
    };
  const sources: Record<string, unknown> = {};
  for (const [id, s] of rt.manifest.sources) {
    const { tests: _t, ...rest } = s;
    sources[id] = {
      ...rest,
      created_at: Date.now() / 1000,
      external: null,
      unrendered_config: {},
      event_time: null,
      doc_blocks: [],
    };
  }
  const macros: Record<string, unknown> = {};
  for (const [id, m] of rt.manifest.macros)
    macros[id] = {
      ...m,
      created_at: Date.now() / 1000,
      docs: { show: true, node_color: null },
      patch_path: null,
      supported_languages: null,
    };
  const docs: Record<string, unknown> = {};
  for (const p of rt.project.packages)
    for (const [name, block] of p.docs)
      docs[`doc.${p.name}.${name}`] = {
        name,
        resource_type: 'doc',
        package_name: p.name,
        path: '',
        original_file_path: '',
        unique_id: `doc.${p.name}.${name}`,
        block_contents: block,
      };
  const parent_map: Record<string, string[]> = {};
  const child_map: Record<string, string[]> = {};
  for (const id of [...rt.manifest.nodes.keys(), ...rt.manifest.sources.keys()]) {
    parent_map[id] = [...(graph.parents.get(id) ?? [])].sort();
    child_map[id] = [...(graph.children.get(id) ?? [])].sort();
  }
  const disabled: Record<string, unknown[]> = {};
  for (const [id, n] of rt.manifest.disabled) disabled[id] = [n];
  writeJson(path.join(dir, 'manifest.json'), {
    metadata: {
      ...metadata(rt, 'manifest/v12'),
      project_name: rt.rootName,
      project_id: null,
      user_id: null,
      send_anonymous_usage_stats: false,
      adapter_type: 'postgres',
    },
    nodes,
    sources,
    macros,
    docs,
    exposures: {},
    metrics: {},
    groups: {},
    selectors: {},
    disabled,
    parent_map,
    child_map,
    group_map: {},
    saved_queries: {},
    semantic_models: {},
    unit_tests: {},
  });
}

function writeRunResults(
  rt: DbtRuntime | undefined,
  results: DbtNodeResult[],
  args: ParsedArgs | undefined,
  dir: string,
  elapsed: number,
): void {
  try {
    writeJson(path.join(dir, 'run_results.json'), {
      metadata: metadata(rt, 'run-results/v6'),
      results: results.map((r) => ({
        status: r.status,
        timing: r.timing ?? [],
        thread_id: 'Thread-1',
        execution_time: r.execution_time,
        adapter_response: r.adapter_response,
        message: r.message,
        failures: r.failures,
        unique_id: r.unique_id,
        compiled: r.compiled_code !== undefined && r.compiled_code !== null,
        compiled_code: r.compiled_code ?? null,
        relation_name: r.relation_name ?? null,
        batch_results: r.batch_results ?? null,
      })),
      elapsed_time: elapsed,
      args: args
        ? {
            which: args.command,
            select: args.select,
            exclude: args.exclude,
            full_refresh: args.fullRefresh,
            vars: args.vars,
          }
        : {},
    });
  } catch {
    /* the folder may be read-only: the invocation's result still stands */
  }
}

/** catalog.json: every relation of the project's nodes and sources that exists, with its columns. */
function writeCatalog(rt: DbtRuntime, dir: string): void {
  const entries = (items: { unique_id: string; schema: string; identifier: string }[]) => {
    const out: Record<string, unknown> = {};
    for (const it of items) {
      const rel = rt.getRelation(null, it.schema, it.identifier);
      if (!rel) continue;
      const cols = rt.columnsOf(rel);
      const owner = rt.query(
        `select pg_get_userbyid(c.relowner)::text, obj_description(c.oid)::text from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2`,
        [it.schema, it.identifier],
      ).rows[0] ?? [null, null];
      out[it.unique_id] = {
        metadata: {
          type: rel.type === 'view' ? 'VIEW' : 'BASE TABLE',
          schema: it.schema,
          name: it.identifier,
          database: rt.opts.target.database,
          comment: owner[1],
          owner: owner[0],
        },
        columns: Object.fromEntries(
          cols.map((c, i) => [c.name, { type: c.dtype, index: i + 1, name: c.name, comment: null }]),
        ),
        stats: {
          has_stats: {
            id: 'has_stats',
            label: 'Has Stats?',
            value: false,
            include: false,
            description: 'Indicates whether there are statistics for this table',
          },
        },
        unique_id: it.unique_id,
      };
    }
    return out;
  };
  const nodes = [...rt.manifest.nodes.values()]
    .filter((n) => ['model', 'seed', 'snapshot'].includes(n.resource_type) && n.config['materialized'] !== 'ephemeral')
    .map((n) => ({ unique_id: n.unique_id, schema: n.schema, identifier: n.alias }));
  const sources = [...rt.manifest.sources.values()].map((s) => ({
    unique_id: s.unique_id,
    schema: s.schema,
    identifier: s.identifier,
  }));
  writeJson(path.join(dir, 'catalog.json'), {
    metadata: metadata(rt, 'catalog/v1'),
    nodes: entries(nodes),
    sources: entries(sources),
    errors: null,
  });
}

export { splitArgs, truthy };
