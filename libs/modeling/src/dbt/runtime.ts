/**
 * dbt's runtime: the macro namespaces, the Jinja context of a node (`ref`, `source`, `config`,
 * `var`, `target`, `this`, `adapter`, `run_query`, `statement` …), parsing (rendering every node
 * with `execute` false to learn its refs and configs) and compiling (rendering with `execute`
 * true, ephemeral models injected as CTEs).
 */
import { createHash, randomUUID } from 'node:crypto';
import nunjucks from 'nunjucks';
import { AgateTable } from './agate';
import { weirMacros } from '../domain/macros';
import {
  jinjaEnvironment,
  JinjaError,
  MacroReturn,
  pyRepr,
  splitArgs,
  templateErrorLine,
  truthy,
  withJinja,
} from './jinja';
import { configKey, folderConfig, type MacroInfo, type Manifest, type ManifestNode, mergeConfig } from './manifest';
import { type DbtPackage, type DbtProject, includeMacros, type SqlFile } from './project';
import { pyModules, PyDatetime } from './pymodules';
import { Column, Relation, type RelationType } from './relation';
import type { SqlResult, SyncSql } from './sync-sql';
import { strategyMacros } from './materialize';

export interface DbtTarget {
  name: string;
  schema: string;
  database: string;
  threads: number;
  type: 'postgres';
  user?: string;
  host?: string;
  port?: number;
}

/** A dbt error that fails a node (or the invocation) with dbt's wording. */
export class DbtError extends Error {
  constructor(
    message: string,
    readonly kind: 'Compilation Error' | 'Runtime Error' | 'Database Error' | 'Parsing Error' = 'Compilation Error',
  ) {
    super(message);
    DbtError.last = this;
  }

  /** The last DbtError made (what a template error wraps). */
  static last: DbtError | undefined;
}

type MacroFn = ((...a: unknown[]) => unknown) & { __weirMacro?: boolean };

export interface RuntimeOptions {
  target: DbtTarget;
  /** --vars of this invocation. */
  cliVars: Record<string, unknown>;
  env: Record<string, string>;
  sql: SyncSql;
  flags: Record<string, unknown>;
  log: (line: string) => void;
  invocationId?: string;
}

interface StatementResult {
  response: { _message: string; code: string; rows_affected: number };
  data: unknown[][];
  table: AgateTable;
}

/** What a render is for: the node, and whether SQL runs (`execute`). */
interface RenderScope {
  node?: ManifestNode;
  execute: boolean;
  parsing: boolean;
  /** Parse-time captures. */
  captured?: {
    refs: ManifestNode['refs'];
    sources: [string, string][];
    config: Record<string, unknown>;
  };
  /** Ephemeral models this render referenced (CTEs to inject). */
  ephemerals?: Set<string>;
  /** Extra variables of this render (`model`, `sql` of a materialization, a test's kwargs). */
  extra?: Record<string, unknown>;
  results: Map<string, StatementResult>;
  /** The package whose macros resolve first. */
  package?: string;
}

const quoteIdent = (s: string) => `"${String(s).replace(/"/g, '""')}"`;

/**
 * Compiled template code by file and source, shared by the runtimes of the process: the code
 * nunjucks compiles does not depend on the environment it is compiled for (the environments of
 * jinjaEnvironment() all have the same options and tags), as with nunjucks' precompiled
 * templates. Emptied when the sources kept pass COMPILED_CHARS_MAX characters.
 */
const compiledCode = new Map<string, Record<string, unknown>>();
let compiledChars = 0;
const COMPILED_CHARS_MAX = 64 * 1024 * 1024;

function compileTemplate(src: string, env: nunjucks.Environment, file: string): nunjucks.Template {
  const key = `${file}\u0000${src}`;
  const code = compiledCode.get(key);
  if (code) return new nunjucks.Template({ type: 'code', obj: code } as unknown as string, env, file, true);
  const tmpl = new nunjucks.Template(src, env, file, true);
  const compiled = tmpl as unknown as { rootRenderFunc: unknown; blocks: Record<string, unknown> };
  const obj: Record<string, unknown> = { root: compiled.rootRenderFunc };
  for (const [name, block] of Object.entries(compiled.blocks ?? {})) obj[`b_${name}`] = block;
  if (compiledChars + key.length > COMPILED_CHARS_MAX) {
    compiledCode.clear();
    compiledChars = 0;
  }
  compiledCode.set(key, obj);
  compiledChars += key.length;
  return tmpl;
}

export class DbtRuntime {
  readonly env: nunjucks.Environment;
  readonly manifest: Manifest = {
    nodes: new Map(),
    sources: new Map(),
    macros: new Map(),
    docs: new Map(),
    disabled: new Map(),
  };
  /** Macros by package, then name. */
  private readonly macros = new Map<string, Map<string, MacroFn>>();
  private scope: RenderScope = { execute: false, parsing: true, results: new Map() };
  readonly invocationId: string;
  readonly runStartedAt = new PyDatetime(Date.now(), 'UTC');
  private readonly globals: Record<string, unknown>;
  /** Relations known to exist, by lower-case `schema.identifier` (a cache like dbt's). */
  private readonly templates = new Map<string, nunjucks.Template>();

  constructor(
    readonly project: DbtProject,
    readonly opts: RuntimeOptions,
  ) {
    this.env = jinjaEnvironment();
    this.invocationId = opts.invocationId ?? randomUUID();
    this.globals = this.baseGlobals();
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the context closures outlive any one call
    const self = this;
    // every name a template looks up resolves here: the render's extras, the context, the macros
    (this.env as unknown as { globals: unknown }).globals = new Proxy(this.globals, {
      has(_t, name) {
        return typeof name === 'string' && self.lookup(name) !== undefined;
      },
      get(_t, name) {
        return typeof name === 'string' ? self.lookup(name) : undefined;
      },
    });
    this.loadMacros();
  }

  get rootName(): string {
    return this.project.root.name;
  }

  // ---------------------------------------------------------------- macros

  private loadMacros(): void {
    const files: SqlFile[] = [...includeMacros(), ...this.project.packages.flatMap((p) => p.macros)];
    for (const f of files) this.loadMacroFile(f);
    // Weir's own macros (weir.surrogate_key, weir.dim_date), as in Weir's builds
    this.macros.set(
      'weir',
      new Map(
        Object.entries(weirMacros).map(([k, f]) => [
          k,
          Object.assign((...a: unknown[]) => (f as (...x: unknown[]) => string)(...a), { __weirMacro: true }),
        ]),
      ),
    );
    for (const [name, fn] of Object.entries(this.builtinMacros())) {
      const pkg = this.macros.get('dbt') ?? new Map<string, MacroFn>();
      this.macros.set('dbt', pkg);
      if (!pkg.has(name)) pkg.set(name, Object.assign(fn, { __weirMacro: true }));
    }
  }

  /** `{% test x(...) %}` is the macro `test_x`; `{% materialization m, adapter='x' %}` is kept by name. */
  static macroSource(src: string): string {
    return src
      .replace(/{%(-?)\s*test\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(/g, '{%$1 macro test_$2(')
      .replace(/{%(-?)\s*endtest\s*(-?)%}/g, '{%$1 endmacro $2%}')
      .replace(
        /{%(-?)\s*materialization\s+([A-Za-z_][A-Za-z0-9_]*)\s*,\s*(?:adapter\s*=\s*)?['"]?([A-Za-z_]+)['"]?\s*(?:,[^%]*)?(-?)%}/g,
        '{%$1 macro materialization_$2_$3() $4%}',
      )
      .replace(/{%(-?)\s*endmaterialization\s*(-?)%}/g, '{%$1 endmacro $2%}');
  }

  private loadMacroFile(f: SqlFile): void {
    const src = DbtRuntime.macroSource(f.source);
    let exported: Record<string, MacroFn>;
    try {
      const tmpl = compileTemplate(src, this.env, `${f.package}/${f.path}`);
      exported = withJinja(() => {
        let out: Record<string, MacroFn> = {};
        (
          tmpl as unknown as {
            getExported(ctx: object, cb: (e: Error | null, r: Record<string, MacroFn>) => void): void;
          }
        ).getExported({}, (e, r) => {
          if (e) throw e;
          out = r;
        });
        return out;
      });
    } catch (e) {
      const { line, message } = templateErrorLine(e as Error);
      throw new DbtError(
        `Compilation Error in macro file ${f.path}${line ? `, line ${line}` : ''}: ${message}`,
        'Compilation Error',
      );
    }
    const pkg = this.macros.get(f.package) ?? new Map<string, MacroFn>();
    this.macros.set(f.package, pkg);
    for (const [name, fn] of Object.entries(exported)) {
      if (typeof fn !== 'function') continue;
      pkg.set(name, fn);
      const body = new RegExp(`{%-?\\s*(macro|test)\\s+${name.replace(/^test_/, '(?:test_)?')}\\s*\\(`).exec(f.source);
      this.manifest.macros.set(`macro.${f.package}.${name}`, {
        unique_id: `macro.${f.package}.${name}`,
        name,
        package_name: f.package,
        path: f.path,
        original_file_path: f.path,
        macro_sql: body ? f.source.slice(body.index) : '',
        depends_on: { macros: [] },
        description: '',
        meta: {},
        arguments: [],
        resource_type: 'macro',
      } satisfies MacroInfo);
    }
  }

  /** A macro by name for a bare call: the package of the render, the root project, dbt's, then any package. */
  findMacro(name: string, pkg?: string): MacroFn | undefined {
    if (pkg) return this.macros.get(pkg)?.get(name);
    const local = this.scope.package;
    if (local && local !== this.rootName) {
      const m = this.macros.get(local)?.get(name);
      if (m) return m;
    }
    return (
      this.macros.get(this.rootName)?.get(name) ??
      this.macros.get('dbt')?.get(name) ??
      [...this.macros.entries()].find(([p, m]) => p !== this.rootName && p !== 'dbt' && m.has(name))?.[1].get(name)
    );
  }

  /** adapter.dispatch: `postgres__x` then `default__x`, in each package of the search order. */
  dispatch(name: string, namespace?: string | null): MacroFn {
    const dispatchCfg =
      (this.project.root.config['dispatch'] as { macro_namespace: string; search_order: string[] }[]) ?? [];
    let search: string[];
    const configured = namespace ? dispatchCfg.find((d) => d.macro_namespace === namespace) : undefined;
    if (configured) search = configured.search_order;
    // no namespace: the rendering node's own package, the root project, then dbt's (as dbt's MacroNamespace)
    else if (!namespace)
      search = [...new Set([...(this.scope.package ? [this.scope.package] : []), this.rootName, 'dbt'])];
    else if (namespace === 'dbt') search = [this.rootName, 'dbt'];
    else search = [namespace];
    const tried: string[] = [];
    for (const p of search)
      for (const prefix of ['postgres', 'default']) {
        const m = this.macros.get(p)?.get(`${prefix}__${name}`);
        tried.push(`'${p}.${prefix}__${name}'`);
        if (m) return m;
      }
    // an undecorated macro of that name (dispatch of a plain macro)
    const plain = namespace ? this.macros.get(namespace)?.get(name) : this.findMacro(name);
    if (plain && !namespace) return plain;
    throw new DbtError(
      `In dispatch: No macro named '${name}' found within namespace: '${namespace ?? this.rootName}'\n    Searched for: ${tried.join(', ')}`,
    );
  }

  /** An object of a package's macros (`dbt.dateadd`, `dbt_utils.star`). */
  private namespaceObject(pkg: string): Record<string, unknown> {
    const m = this.macros.get(pkg);
    const hit = this.namespaces.get(pkg);
    if (hit && hit.macros === m && hit.size === (m?.size ?? 0)) return hit.obj;
    const obj: Record<string, unknown> = {};
    if (m) for (const [k, v] of m) obj[k] = v;
    this.namespaces.set(pkg, { macros: m, size: m?.size ?? 0, obj });
    return obj;
  }
  /** namespaceObject()'s objects, rebuilt when the package's macros change. */
  private readonly namespaces = new Map<
    string,
    { macros: Map<string, MacroFn> | undefined; size: number; obj: Record<string, unknown> }
  >();

  // ---------------------------------------------------------------- context

  private lookup(name: string): unknown {
    const extra = this.scope.extra;
    if (extra && Object.prototype.hasOwnProperty.call(extra, name)) return extra[name];
    if (Object.prototype.hasOwnProperty.call(this.globals, name)) {
      const g = this.globals[name];
      return typeof g === 'function' && (g as { __dynamic?: boolean }).__dynamic ? (g as () => unknown)() : g;
    }
    const macro = this.findMacro(name);
    if (macro) return macro;
    if (this.macros.has(name)) return this.namespaceObject(name);
    return (this.env as unknown as { __baseGlobals?: Record<string, unknown> }).__baseGlobals?.[name];
  }

  private baseGlobals(): Record<string, unknown> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the context closures outlive any one call
    const self = this;
    const dyn = <T>(f: () => T) => Object.assign(f, { __dynamic: true });
    // nunjucks' own globals (range, cycler, joiner) and the Jinja additions of jinjaEnvironment()
    (this.env as unknown as { __baseGlobals?: Record<string, unknown> }).__baseGlobals = {
      ...(this.env as unknown as { globals: Record<string, unknown> }).globals,
    };
    const target = {
      ...this.opts.target,
      profile_name: 'weir',
      dbname: this.opts.target.database,
      target_name: this.opts.target.name,
    };
    const configFn = Object.assign(
      (...a: unknown[]) => {
        const { positional, kwargs } = splitArgs(a);
        const given = { ...((positional[0] as Record<string, unknown>) ?? {}), ...kwargs };
        if (self.scope.captured) self.scope.captured.config = mergeConfig(self.scope.captured.config, given);
        return '';
      },
      {
        get: (name: string, dflt: unknown = null) => {
          const cfg = self.currentConfig();
          const v = cfg[configKey(name)];
          return v === undefined ? dflt : v;
        },
        require: (name: string) => {
          const cfg = self.currentConfig();
          const v = cfg[configKey(name)];
          if (v === undefined || v === null) {
            if (self.scope.parsing) return null;
            throw new DbtError(
              `Required config "${name}" is missing for ${self.scope.node?.resource_type ?? 'node'} "${self.scope.node?.name}"`,
            );
          }
          return v;
        },
        set: (name: string, v: unknown) => {
          if (self.scope.captured) self.scope.captured.config[configKey(name)] = v;
          return '';
        },
        persist_relation_docs: () => false,
        persist_column_docs: () => false,
      },
    );
    const adapter = {
      dispatch: (name: string, ...a: unknown[]) => {
        const { positional, kwargs } = splitArgs(a);
        return self.dispatch(String(name), (kwargs['macro_namespace'] ?? positional[0] ?? null) as string | null);
      },
      type: () => 'postgres',
      quote: (s: string) => quoteIdent(String(s)),
      quote_as_configured: (s: string) => quoteIdent(String(s)),
      quote_seed_column: (col: string, quote: unknown) => (quote === false ? String(col) : quoteIdent(String(col))),
      get_relation: (...a: unknown[]) => {
        const { positional, kwargs } = splitArgs(a);
        const [db, schema, identifier] = [
          kwargs['database'] ?? positional[0],
          kwargs['schema'] ?? positional[1],
          kwargs['identifier'] ?? positional[2],
        ] as string[];
        if (!self.scope.execute) return null;
        return self.getRelation(db ?? null, schema, identifier);
      },
      load_relation: (r: Relation) =>
        self.scope.execute ? self.getRelation(r.database, r.schema, r.identifier) : null,
      get_columns_in_relation: (r: Relation) => (self.scope.execute ? self.columnsOf(r) : []),
      list_relations_without_caching: (schemaRelation: Relation) =>
        self.scope.execute ? self.listRelations(String(schemaRelation.schema)) : [],
      list_relations: (_db: string, schema: string) => (self.scope.execute ? self.listRelations(String(schema)) : []),
      drop_relation: (r: Relation) => {
        if (self.scope.execute) self.dropRelation(r);
        return '';
      },
      truncate_relation: (r: Relation) => {
        if (self.scope.execute) self.exec(`truncate table ${r.render()}`);
        return '';
      },
      rename_relation: (from: Relation, to: Relation) => {
        if (self.scope.execute)
          self.exec(
            `alter ${from.type === 'view' ? 'view' : 'table'} ${from.render()} rename to ${quoteIdent(String(to.identifier))}`,
          );
        return '';
      },
      create_schema: (r: Relation) => {
        if (self.scope.execute) self.exec(`create schema if not exists ${quoteIdent(String(r.schema))}`);
        return '';
      },
      drop_schema: (r: Relation) => {
        if (self.scope.execute) self.exec(`drop schema if exists ${quoteIdent(String(r.schema))} cascade`);
        return '';
      },
      check_schema_exists: (_db: string, schema: string) =>
        self.scope.execute
          ? self.query(`select 1 from pg_namespace where nspname = $1`, [schema]).rows.length > 0
          : false,
      already_exists: (schema: string, name: string) =>
        self.scope.execute ? self.getRelation(self.opts.target.database, schema, name) !== null : false,
      execute: (sql: string, ...a: unknown[]) => {
        const { kwargs } = splitArgs(a);
        if (!self.scope.execute) return [{ _message: '', code: '', rows_affected: -1 }, AgateTable.build([], [])];
        const r = self.query(String(sql));
        const table = kwargs['fetch']
          ? AgateTable.build(
              r.fields.map((f) => f.name),
              r.rows,
            )
          : AgateTable.build([], []);
        return [self.response(r), table];
      },
      get_missing_columns: (from: Relation, to: Relation) => {
        const toCols = new Set(self.columnsOf(to).map((c) => c.name.toLowerCase()));
        return self.columnsOf(from).filter((c) => !toCols.has(c.name.toLowerCase()));
      },
      expand_target_column_types: (from: Relation, to: Relation) => {
        if (self.scope.execute) self.expandColumnTypes(from, to);
        return '';
      },
      get_incremental_strategy_macro: (_ctx: unknown, strategy: string) => self.strategyMacro(String(strategy)),
      valid_incremental_strategies: () => ['append', 'delete+insert', 'merge', 'microbatch'],
      builtin_incremental_strategies: () => ['append', 'delete+insert', 'merge', 'insert_overwrite', 'microbatch'],
      commit: () => '',
      begin: () => '',
      standardize_grants_dict: () => ({}),
      Relation: { create: Relation.create },
      Column,
      config: { credentials: { type: 'postgres', database: target.database, schema: target.schema } },
      verify_database: () => '',
      cache_added: () => '',
      cache_dropped: () => '',
      cache_renamed: () => '',
      get_column_schema_from_query: (sql: string) => (self.scope.execute ? self.columnsOfQuery(String(sql)) : []),
      get_columns_in_select_sql: (sql: string) => (self.scope.execute ? self.columnsOfQuery(String(sql)) : []),
    };
    return {
      target,
      adapter,
      api: { Relation: { create: Relation.create }, Column },
      config: configFn,
      var: (name: string, ...rest: unknown[]) => self.variable(String(name), rest),
      env_var: (name: string, ...rest: unknown[]) => {
        const v = self.opts.env[name];
        if (v !== undefined) return v;
        if (rest.length) return rest[0];
        throw new DbtError(`Env var required but not provided: '${name}'`);
      },
      ref: (...a: unknown[]) => self.ref(a),
      source: (s: string, t: string) => self.sourceRef(String(s), String(t)),
      this: dyn(() => (self.scope.node ? self.relationOf(self.scope.node) : undefined)),
      model: dyn(() => (self.scope.node ? self.nodeContext(self.scope.node) : undefined)),
      database: dyn(() => self.scope.node?.database ?? self.opts.target.database),
      schema: dyn(() => self.scope.node?.schema ?? self.opts.target.schema),
      execute: dyn(() => self.scope.execute),
      is_incremental: () => self.isIncremental(),
      should_full_refresh: () => self.shouldFullRefresh(),
      run_query: (sql: string) => {
        if (!self.scope.execute) return null;
        const r = self.query(String(sql));
        return AgateTable.build(
          r.fields.map((f) => f.name),
          r.rows,
        );
      },
      statement: (...a: unknown[]) => self.statement(a),
      noop_statement: (...a: unknown[]) => {
        const { positional, kwargs } = splitArgs(a);
        const name = String(positional[0] ?? kwargs['name'] ?? 'statement');
        self.scope.results.set(name, {
          response: {
            _message: String(kwargs['message'] ?? ''),
            code: String(kwargs['code'] ?? ''),
            rows_affected: Number(kwargs['rows_affected'] ?? -1),
          },
          data: [],
          table: AgateTable.build([], []),
        });
        return '';
      },
      load_result: (name: string) => self.scope.results.get(String(name)) ?? null,
      store_result: (name: string, ...a: unknown[]) => {
        const { positional, kwargs } = splitArgs(a);
        const table = (kwargs['agate_table'] ?? positional[1] ?? AgateTable.build([], [])) as AgateTable;
        self.scope.results.set(String(name), {
          response: (kwargs['response'] ?? positional[0]) as StatementResult['response'],
          data: [...table].map((r) => [...r]),
          table,
        });
        return '';
      },
      exceptions: {
        raise_compiler_error: (msg: string) => {
          throw new DbtError(String(msg));
        },
        raise_not_implemented: (msg: string) => {
          throw new DbtError(`NotImplemented: ${String(msg)}`);
        },
        raise_database_error: (msg: string) => {
          throw new DbtError(String(msg), 'Database Error');
        },
        raise_fail_fast_error: (msg: string) => {
          throw new DbtError(String(msg), 'Runtime Error');
        },
        warn: (msg: string) => {
          self.opts.log(`[WARNING]: ${String(msg)}`);
          return '';
        },
        column_type_missing: (cols: unknown) => {
          throw new DbtError(`Contracted models require data_type to be defined for each column: ${pyRepr(cols)}`);
        },
        raise_contract_error: (yamlCols: unknown, sqlCols: unknown) => {
          throw new DbtError(
            `This model has an enforced contract that failed: ${pyRepr(yamlCols)} vs ${pyRepr(sqlCols)}`,
          );
        },
      },
      log: (msg: unknown, ...a: unknown[]) => {
        const { positional, kwargs } = splitArgs(a);
        if (self.scope.execute || !self.scope.parsing) if (kwargs['info'] ?? positional[0]) self.opts.log(String(msg));
        return '';
      },
      print: (msg: unknown) => {
        self.opts.log(String(msg));
        return '';
      },
      modules: pyModules,
      flags: this.opts.flags,
      invocation_id: this.invocationId,
      run_started_at: this.runStartedAt,
      dbt_version: '1.9.0',
      project_name: this.rootName,
      graph: dyn(() => self.graph()),
      selected_resources: [],
      local_md5: (s: string) => createHash('md5').update(String(s)).digest('hex'),
      set_strict: (l: unknown[]) => [...new Set(l)],
      zip_strict: (...lists: unknown[][]) => lists[0].map((_, i) => lists.map((l) => l[i])),
      diff_of_two_dicts: (a: Record<string, string[]>, b: Record<string, string[]>) => {
        const out: Record<string, string[]> = {};
        for (const [k, v] of Object.entries(a ?? {})) {
          const other = new Set((b?.[k] ?? []).map((x) => x.toLowerCase()));
          const d = v.filter((x) => !other.has(x.toLowerCase()));
          if (d.length) out[k] = d;
        }
        return out;
      },
      builtins: {
        ref: (...a: unknown[]) => self.ref(a),
        source: (s: string, t: string) => self.sourceRef(s, t),
        config: configFn,
      },
      context: {},
      sql_now: 'now()',
      write: () => '',
      render: (s: string) => self.renderString(String(s), 'render'),
      try_or_compiler_error: (msg: string, fn: (...a: unknown[]) => unknown, ...args: unknown[]) => {
        try {
          return fn(...args);
        } catch {
          throw new DbtError(String(msg));
        }
      },
      doc: (name: string) =>
        self.project.packages.map((p) => p.docs.get(String(name))).find((d) => d !== undefined) ?? '',
    };
  }

  private currentConfig(): Record<string, unknown> {
    if (this.scope.captured) return { ...(this.scope.node?.config ?? {}), ...this.scope.captured.config };
    return this.scope.node?.config ?? {};
  }

  private variable(name: string, rest: unknown[]): unknown {
    if (Object.prototype.hasOwnProperty.call(this.opts.cliVars, name)) return this.opts.cliVars[name];
    const pkg = this.scope.node?.package_name ?? this.scope.package ?? this.rootName;
    const vars = (this.project.root.config['vars'] as Record<string, unknown>) ?? {};
    const scoped = vars[pkg];
    if (scoped && typeof scoped === 'object' && !Array.isArray(scoped) && name in (scoped as Record<string, unknown>))
      return (scoped as Record<string, unknown>)[name];
    if (Object.prototype.hasOwnProperty.call(vars, name) && !this.project.packages.some((p) => p.name === name))
      return vars[name];
    const own = this.project.packages.find((p) => p.name === pkg);
    const ownVars = own && own !== this.project.root ? ((own.config['vars'] as Record<string, unknown>) ?? {}) : {};
    if (Object.prototype.hasOwnProperty.call(ownVars, name)) return ownVars[name];
    if (rest.length) return rest[0];
    if (this.scope.parsing && !this.scope.node) return null;
    throw new DbtError(
      `Required var '${name}' not found in config:\nVars supplied to ${this.scope.node?.name ?? '<Configuration>'} = ${JSON.stringify({ ...vars, ...this.opts.cliVars })}`,
    );
  }

  // ---------------------------------------------------------------- refs and relations

  private ref(a: unknown[]): Relation {
    const { positional, kwargs } = splitArgs(a);
    const version = (kwargs['version'] ?? kwargs['v'] ?? null) as string | number | null;
    const [pkg, name] =
      positional.length >= 2 ? [String(positional[0]), String(positional[1])] : [null, String(positional[0])];
    if (this.scope.captured) {
      this.scope.captured.refs.push({ name, package: pkg, version });
      return new Relation(this.opts.target.database, this.opts.target.schema, name, 'table');
    }
    const node = this.resolveRef(name, pkg, version);
    if (!node) {
      const from = this.scope.node;
      throw new DbtError(
        `${from ? `${from.resource_type} '${from.unique_id}' (${from.original_file_path})` : 'A node'} depends on a node named '${name}'${pkg ? ` in package '${pkg}'` : ''} which was not found`,
      );
    }
    if (node.config['materialized'] === 'ephemeral') {
      this.scope.ephemerals?.add(node.unique_id);
      return new Relation(null, null, node.name, 'cte', undefined, undefined, `__dbt__cte__${node.name}`);
    }
    const rel = this.relationOf(node);
    const et = node.config['event_time'];
    if (this.eventWindow && et && this.scope.node?.config['materialized'] === 'incremental') {
      const c = quoteIdent(String(et));
      return Object.assign(Object.create(Relation.prototype) as Relation, rel, {
        cteName: `(select * from ${rel.render()} where ${c} >= '${this.eventWindow.start}'::timestamp and ${c} < '${this.eventWindow.end}'::timestamp) _dbt_et_filter_subq_${node.name}`,
      });
    }
    return rel;
  }

  /** Models, seeds and snapshots by name, in manifest order: rebuilt when the manifest's nodes change. */
  private refIndex?: { nodes: Map<string, ManifestNode>; size: number; byName: Map<string, ManifestNode[]> };

  private refableNamed(name: string): ManifestNode[] {
    const nodes = this.manifest.nodes;
    let ix = this.refIndex;
    const stale = (l: ManifestNode[] | undefined) => l?.some((n) => nodes.get(n.unique_id) !== n) ?? false;
    if (!ix || ix.nodes !== nodes || ix.size !== nodes.size || stale(ix.byName.get(name))) {
      const byName = new Map<string, ManifestNode[]>();
      for (const n of nodes.values()) {
        if (n.resource_type !== 'model' && n.resource_type !== 'seed' && n.resource_type !== 'snapshot') continue;
        const l = byName.get(n.name);
        if (l) l.push(n);
        else byName.set(n.name, [n]);
      }
      ix = this.refIndex = { nodes, size: nodes.size, byName };
    }
    return ix.byName.get(name) ?? [];
  }

  resolveRef(name: string, pkg: string | null, version: string | number | null = null): ManifestNode | undefined {
    const candidates = this.refableNamed(name).filter((n) => pkg === null || n.package_name === pkg);
    if (version !== null) return candidates.find((n) => String(n.version) === String(version));
    const latest = candidates.filter(
      (n) =>
        n.version === undefined ||
        n.version === null ||
        String(n.config['latest_version'] ?? n.version) === String(n.version),
    );
    const pick = latest.length ? latest : candidates;
    return (
      pick.find((n) => n.package_name === (this.scope.node?.package_name ?? this.rootName)) ??
      pick.find((n) => n.package_name === this.rootName) ??
      pick[0]
    );
  }

  private sourceRef(s: string, t: string): Relation {
    if (this.scope.captured) {
      this.scope.captured.sources.push([s, t]);
      return new Relation(this.opts.target.database, this.opts.target.schema, t, 'table');
    }
    const src = [...this.manifest.sources.values()].find((x) => x.source_name === s && x.name === t);
    if (!src)
      throw new DbtError(
        `${this.scope.node ? `${this.scope.node.resource_type} '${this.scope.node.unique_id}' (${this.scope.node.original_file_path})` : 'A node'} depends on a source named '${s}.${t}' which was not found`,
      );
    return new Relation(src.database, src.schema, src.identifier, 'table');
  }

  /** on-run-end's `results` (each with its `node`), `schemas` and `database_schemas`. */
  runEndContext(done: { unique_id: string; status: string; message: string | null }[]): Record<string, unknown> {
    // results: the nodes', and on-run-start hooks' only when they failed; schemas: of the
    // models, seeds and snapshots that did not fail
    const results = done
      .filter((r) => this.manifest.nodes.get(r.unique_id)?.resource_type !== 'operation' || r.status === 'error')
      .map((r) => {
        const n = this.manifest.nodes.get(r.unique_id);
        return { ...r, node: n ? this.nodeContext(n) : null };
      });
    const built = results
      .filter((r) => !['error', 'fail', 'skipped'].includes(r.status))
      .map((r) => this.manifest.nodes.get(r.unique_id))
      .filter(
        (n): n is ManifestNode =>
          !!n && ['model', 'seed', 'snapshot'].includes(n.resource_type) && n.config['materialized'] !== 'ephemeral',
      );
    const schemas = [...new Set(built.map((n) => n.schema))];
    const databaseSchemas = [...new Set(built.map((n) => `${n.database}.${n.schema}`))].map((x) => x.split('.'));
    return { results, schemas, database_schemas: databaseSchemas };
  }

  /** The schemas the nodes build in (dbt creates them before the run starts). */
  createSchemas(ids: string[]): void {
    const schemas = new Set<string>();
    for (const id of ids) {
      const n = this.manifest.nodes.get(id);
      if (!n || !['model', 'seed', 'snapshot'].includes(n.resource_type)) continue;
      if (n.config['materialized'] === 'ephemeral') continue;
      schemas.add(n.schema);
    }
    for (const s of schemas) this.exec(`create schema if not exists ${quoteIdent(s)}`);
  }

  relationOf(n: ManifestNode): Relation {
    const type: RelationType =
      n.config['materialized'] === 'view' ? 'view' : n.config['materialized'] === 'ephemeral' ? 'cte' : 'table';
    return new Relation(n.database, n.schema, n.alias, type);
  }

  getRelation(db: string | null, schema: string | null, identifier: string | null): Relation | null {
    void db;
    const r = this.query(
      `select c.relkind::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relname = $2 and c.relkind in ('r', 'v', 'm', 'p', 'f')`,
      [schema, identifier],
    );
    if (!r.rows.length) return null;
    const kind = String(r.rows[0][0]);
    const type: RelationType = kind === 'v' ? 'view' : kind === 'm' ? 'materialized_view' : 'table';
    return new Relation(this.opts.target.database, schema, identifier, type);
  }

  listRelations(schema: string): Relation[] {
    return this.query(
      `select c.relname::text, c.relkind::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relkind in ('r', 'v', 'm', 'p')`,
      [schema],
    ).rows.map(
      ([name, kind]) =>
        new Relation(
          this.opts.target.database,
          schema,
          String(name),
          kind === 'v' ? 'view' : kind === 'm' ? 'materialized_view' : 'table',
        ),
    );
  }

  columnsOf(r: Relation): Column[] {
    if (r.cteName) return [];
    const rows = this.query(
      `select column_name::text, data_type::text, character_maximum_length::int, numeric_precision::int, numeric_scale::int, udt_name::text
         from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position`,
      [r.schema, r.identifier],
    ).rows;
    return rows.map(([name, type, chars, prec, scale, udt]) => {
      const dtype =
        type === 'USER-DEFINED' ? String(udt) : type === 'ARRAY' ? `${String(udt).replace(/^_/, '')}[]` : String(type);
      return new Column(String(name), dtype, chars as number | null, prec as number | null, scale as number | null);
    });
  }

  columnsOfQuery(sql: string): Column[] {
    const r = this.query(`select * from (${sql}) as __dbt_sbq where false limit 0`);
    const types = this.query(`select oid::int, format_type(oid, null) from pg_type where oid = any($1::oid[])`, [
      r.fields.map((f) => f.dataTypeID),
    ]).rows;
    const byOid = new Map(types.map(([o, t]) => [Number(o), String(t)]));
    return r.fields.map((f) => new Column(f.name, byOid.get(f.dataTypeID) ?? 'text'));
  }

  dropRelation(r: Relation): void {
    const existing = this.getRelation(r.database, String(r.schema), String(r.identifier));
    if (!existing) return;
    this.exec(
      `drop ${existing.type === 'view' ? 'view' : existing.type === 'materialized_view' ? 'materialized view' : 'table'} if exists ${existing.render()} cascade`,
    );
  }

  expandColumnTypes(from: Relation, to: Relation): void {
    const target = new Map(this.columnsOf(to).map((c) => [c.name, c]));
    for (const c of this.columnsOf(from)) {
      const t = target.get(c.name);
      if (t && t.can_expand_to(c))
        this.exec(
          `alter table ${to.render()} alter column ${quoteIdent(c.name)} type ${Column.string_type(c.string_size())}`,
        );
    }
  }

  // ---------------------------------------------------------------- SQL

  query(sql: string, params?: unknown[]): SqlResult {
    try {
      return this.opts.sql.query(sql, params);
    } catch (e) {
      throw new DbtError(`${(e as Error).message}`, 'Database Error');
    }
  }

  exec(sql: string): SqlResult {
    return this.query(sql);
  }

  response(r: SqlResult): StatementResult['response'] {
    return {
      _message: `${r.command ?? ''} ${r.rowCount ?? ''}`.trim(),
      code: r.command ?? '',
      rows_affected: r.rowCount ?? -1,
    };
  }

  private statement(a: unknown[]): string {
    const { positional, kwargs } = splitArgs(a);
    const name = String(positional[0] ?? kwargs['name'] ?? 'statement');
    const fetch = truthy(kwargs['fetch_result'] ?? positional[1] ?? false);
    const caller = kwargs['caller'] as (() => unknown) | undefined;
    const sql = caller ? String(caller()) : '';
    if (!this.scope.execute) return '';
    if (!sql.trim()) {
      this.scope.results.set(name, {
        response: { _message: '', code: '', rows_affected: -1 },
        data: [],
        table: AgateTable.build([], []),
      });
      return '';
    }
    const r = this.query(sql);
    const table = fetch
      ? AgateTable.build(
          r.fields.map((f) => f.name),
          r.rows,
        )
      : AgateTable.build([], []);
    this.scope.results.set(name, { response: this.response(r), data: fetch ? r.rows : [], table });
    if (name === 'main') this.mainStatementRan = { sql, rows: r.rowCount ?? -1, command: r.command };
    return '';
  }
  /** What the node's `main` statement did (run results' adapter_response). */
  mainStatementRan?: { sql: string; rows: number; command: string };

  // ---------------------------------------------------------------- incremental helpers

  /** --full-refresh, unless the node's `full_refresh` config says otherwise. */
  shouldFullRefresh(n: ManifestNode | undefined = this.scope.node): boolean {
    const cfg = n?.config['full_refresh'];
    if (cfg === true || cfg === false) return cfg;
    return this.opts.flags['FULL_REFRESH'] === true;
  }

  private isIncremental(): boolean {
    const n = this.scope.node;
    if (!this.scope.execute || !n) return false;
    if (n.config['materialized'] !== 'incremental') return false;
    const r = this.getRelation(n.database, n.schema, n.alias);
    return r !== null && r.type === 'table' && !this.shouldFullRefresh();
  }

  /** The macro of an incremental strategy (`get_incremental_<name>_sql`), as dbt's adapter finds it. */
  strategyMacro(strategy: string): MacroFn {
    const name = `get_incremental_${strategy.replace(/\+/g, '_')}_sql`;
    const m = this.findMacro(name);
    if (!m)
      throw new DbtError(
        `dbt could not find an incremental strategy macro with the name "${name}" in ${this.rootName}`,
        'Compilation Error',
      );
    return m;
  }

  /** Macros written in TypeScript that projects may still override (a project macro of the same name wins). */
  private builtinMacros(): Record<string, (...a: unknown[]) => unknown> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the context closures outlive any one call
    const self = this;
    const arg = (a: unknown[], i: number, name: string, dflt: unknown = null) => {
      const { positional, kwargs } = splitArgs(a);
      return kwargs[name] !== undefined ? kwargs[name] : positional[i] !== undefined ? positional[i] : dflt;
    };
    const rel = (v: unknown) => v as Relation;
    const run = (sql: string) => {
      if (self.scope.execute) self.exec(sql);
      return '';
    };
    const tableAs = (a: unknown[]) => {
      const temporary = truthy(arg(a, 0, 'temporary', false));
      const r = rel(arg(a, 1, 'relation'));
      const sql = String(arg(a, 2, 'compiled_code', arg(a, 2, 'sql', '')));
      const name = temporary ? r.include({ database: false, schema: false, __keywords: true }) : r;
      return `create ${temporary ? 'temporary ' : ''}table ${name.render()}\n  as (\n${sql}\n  );`;
    };
    const viewAs = (a: unknown[]) =>
      `create view ${rel(arg(a, 0, 'relation')).render()}\n  as (\n${String(arg(a, 1, 'sql', ''))}\n  );`;
    const stamp = () =>
      new Date()
        .toISOString()
        .replace(/[-:TZ.]/g, '')
        .slice(8, 17);
    const macros: Record<string, (...a: unknown[]) => unknown> = {
      ...strategyMacros(this),
      create_table_as: (...a) => tableAs(a),
      get_create_table_as_sql: (...a) => tableAs(a),
      create_view_as: (...a) => viewAs(a),
      get_create_view_as_sql: (...a) => viewAs(a),
      drop_relation: (...a) => {
        if (self.scope.execute) self.dropRelation(rel(arg(a, 0, 'relation')));
        return '';
      },
      drop_relation_if_exists: (...a) => {
        const r = arg(a, 0, 'relation');
        if (r && self.scope.execute) self.dropRelation(rel(r));
        return '';
      },
      truncate_relation: (...a) => run(`truncate table ${rel(arg(a, 0, 'relation')).render()}`),
      rename_relation: (...a) => {
        const from = rel(arg(a, 0, 'from_relation'));
        const to = rel(arg(a, 1, 'to_relation'));
        return run(
          `alter ${from.type === 'view' ? 'view' : 'table'} ${from.render()} rename to ${quoteIdent(String(to.identifier))}`,
        );
      },
      create_schema: (...a) =>
        run(`create schema if not exists ${quoteIdent(String(rel(arg(a, 0, 'relation')).schema))}`),
      drop_schema: (...a) =>
        run(`drop schema if exists ${quoteIdent(String(rel(arg(a, 0, 'relation')).schema))} cascade`),
      make_temp_relation: (...a) => {
        const r = rel(arg(a, 0, 'base_relation'));
        return r.incorporate({
          path: {
            identifier: `${r.identifier}${String(arg(a, 1, 'suffix', '__dbt_tmp'))}${stamp()}`,
            schema: null,
            database: null,
          },
          __keywords: true,
        });
      },
      make_intermediate_relation: (...a) => {
        const r = rel(arg(a, 0, 'base_relation'));
        return r.incorporate({
          path: { identifier: `${r.identifier}${String(arg(a, 1, 'suffix', '__dbt_tmp'))}` },
          __keywords: true,
        });
      },
      make_backup_relation: (...a) => {
        const r = rel(arg(a, 0, 'base_relation'));
        const type = arg(a, 1, 'backup_relation_type', r.type) as Relation['type'];
        return r.incorporate({
          path: { identifier: `${r.identifier}${String(arg(a, 2, 'suffix', '__dbt_backup'))}` },
          type,
          __keywords: true,
        });
      },
      load_cached_relation: (...a) => {
        const r = rel(arg(a, 0, 'relation'));
        return self.scope.execute ? self.getRelation(r.database, r.schema, r.identifier) : null;
      },
      load_relation: (...a) => {
        const r = rel(arg(a, 0, 'relation'));
        return self.scope.execute ? self.getRelation(r.database, r.schema, r.identifier) : null;
      },
      get_columns_in_relation: (...a) => (self.scope.execute ? self.columnsOf(rel(arg(a, 0, 'relation'))) : []),
      get_columns_in_query: (...a) =>
        self.scope.execute ? self.columnsOfQuery(String(arg(a, 0, 'select_sql'))).map((c) => c.name) : [],
      get_empty_subquery_sql: (...a) =>
        `select * from (\n${String(arg(a, 0, 'select_sql'))}\n) as __dbt_sbq\nwhere false\nlimit 0`,
      get_select_subquery: (...a) => `select * from (\n${String(arg(a, 0, 'sql'))}\n) as __dbt_sbq`,
      snapshot_get_time: () => 'now()::timestamp without time zone',
      current_timestamp: () => 'now()',
      get_where_subquery: (...a) => {
        const r = arg(a, 0, 'relation');
        const where = self.currentConfig()['where'];
        return where ? `(select * from ${String(r)} where ${String(where)}) dbt_subquery` : r;
      },
      get_quoted_csv: (...a) =>
        (arg(a, 0, 'column_names', []) as string[]).map((c) => quoteIdent(String(c))).join(', '),
      run_hooks: () => '',
      set_sql_header: () => '',
      persist_docs: () => '',
      apply_grants: () => '',
      should_revoke: () => false,
      alter_column_type: (...a) => {
        const r = rel(arg(a, 0, 'relation'));
        const c = quoteIdent(String(arg(a, 1, 'column_name')));
        return run(
          `alter table ${r.render()} alter column ${c} type ${String(arg(a, 2, 'new_column_type'))} using ${c}::${String(arg(a, 2, 'new_column_type'))}`,
        );
      },
      alter_relation_add_remove_columns: (...a) => {
        const r = rel(arg(a, 0, 'relation'));
        for (const c of (arg(a, 1, 'add_columns', []) as Column[]) ?? [])
          run(`alter table ${r.render()} add column ${c.quoted} ${c.data_type}`);
        for (const c of (arg(a, 2, 'remove_columns', []) as Column[]) ?? [])
          run(`alter table ${r.render()} drop column ${c.quoted}`);
        return '';
      },
      incremental_validate_on_schema_change: (...a) => {
        const v = arg(a, 0, 'on_schema_change');
        const ok = ['ignore', 'fail', 'append_new_columns', 'sync_all_columns'];
        return ok.includes(String(v)) ? v : arg(a, 1, 'default', 'ignore');
      },
      py_current_timestring: () => stamp(),
      check_schema_exists: (...a) =>
        self.scope.execute
          ? self.query(`select 1 from pg_namespace where nspname = $1`, [String(arg(a, 1, 'schema'))]).rows.length > 0
          : false,
      list_relations_without_caching: (...a) =>
        self.scope.execute ? self.listRelations(String(rel(arg(a, 0, 'schema_relation')).schema)) : [],
    };
    return macros;
  }

  /** The `model` dict of the node being rendered (macros written in TypeScript read its config). */
  currentNodeContext(): Record<string, unknown> | undefined {
    return this.scope.node ? this.nodeContext(this.scope.node) : undefined;
  }

  /** Compiled SQL of a node, memoised per invocation (microbatch windows are compiled each). */
  readonly compiledCache = new Map<string, { sql: string; ephemerals: Set<string> }>();
  private eventWindow?: { start: string; end: string };

  compileNode(n: ManifestNode, window?: { eventTimeStart: string; eventTimeEnd: string }): string {
    if (!window) {
      const hit = this.compiledCache.get(n.unique_id);
      if (hit) return this.injectCtes(hit.sql, hit.ephemerals, this.compiledCache);
    }
    const outerWindow = this.eventWindow;
    this.eventWindow = window ? { start: window.eventTimeStart, end: window.eventTimeEnd } : undefined;
    try {
      const r = this.render(n.raw_code, n.original_file_path, { node: n, execute: true });
      for (const e of r.ephemerals) {
        const en = this.manifest.nodes.get(e)!;
        if (!this.compiledCache.has(e)) this.compileNode(en);
      }
      if (!window) this.compiledCache.set(n.unique_id, { sql: r.sql, ephemerals: r.ephemerals });
      const sql = this.injectCtes(r.sql, r.ephemerals, this.compiledCache);
      if (!window) n.compiled_code = sql;
      return sql;
    } finally {
      this.eventWindow = outerWindow;
    }
  }

  // ---------------------------------------------------------------- rendering

  /** Renders `src` for `node` (or none), with SQL executed or not. */
  render(
    src: string,
    file: string,
    opts: {
      node?: ManifestNode;
      execute: boolean;
      parsing?: boolean;
      extra?: Record<string, unknown>;
      package?: string;
    },
  ): { sql: string; captured?: RenderScope['captured']; ephemerals: Set<string> } {
    const outer = this.scope;
    const captured = opts.parsing ? { refs: [], sources: [] as [string, string][], config: {} } : undefined;
    const ephemerals = new Set<string>();
    this.scope = {
      node: opts.node,
      execute: opts.execute,
      parsing: opts.parsing ?? false,
      captured,
      ephemerals,
      extra: opts.extra,
      results: outer.node === opts.node && outer.results ? outer.results : new Map(),
      package: opts.package ?? opts.node?.package_name,
    };
    try {
      const sql = withJinja(() => {
        let tmpl = this.templates.get(src);
        if (!tmpl) {
          tmpl = compileTemplate(src, this.env, file);
          if (this.templates.size < 50_000) this.templates.set(src, tmpl);
        }
        return tmpl.render({});
      });
      return { sql, captured, ephemerals };
    } catch (e) {
      throw this.templateError(e as Error, opts.node, file);
    } finally {
      this.scope = outer;
    }
  }

  renderString(src: string, file: string): string {
    if (!src.includes('{')) return src;
    return this.render(src, file, {
      node: this.scope.node,
      execute: this.scope.execute,
      parsing: false,
      extra: this.scope.extra,
    }).sql;
  }

  /** Calls a macro (a materialization helper, a test) for a node, with SQL executed. */
  callMacro(
    fn: MacroFn,
    args: unknown[],
    node: ManifestNode | undefined,
    extra?: Record<string, unknown>,
    execute = true,
  ): unknown {
    const outer = this.scope;
    this.scope = {
      node,
      execute,
      parsing: false,
      ephemerals: new Set(),
      extra,
      results: outer.results ?? new Map(),
      package: node?.package_name,
    };
    try {
      return withJinja(() => fn(...args));
    } catch (e) {
      if (e instanceof MacroReturn) return e.value;
      throw this.templateError(e as Error, node, node?.original_file_path ?? 'macro');
    } finally {
      this.scope = outer;
    }
  }

  /** `Compilation Error in model x (models/x.sql), line 7: …` — dbt's wording, with the line. */
  templateError(e: Error, node: ManifestNode | undefined, file: string): DbtError {
    // nunjucks rewraps what a template throws as a plain Error of the same message: the kind of
    // the DbtError (a database error from run_query) comes from the last one thrown
    const last = DbtError.last;
    const inner = last && last !== e && last.message && e.message.includes(last.message) ? last : undefined;
    if (e instanceof DbtError && /^(Compilation|Runtime|Database) Error in /.test(e.message)) return e;
    const { line, message } = templateErrorLine(e);
    const kind = e instanceof DbtError ? e.kind : (inner?.kind ?? 'Compilation Error');
    const where = node ? `${node.resource_type} ${node.name} (${node.original_file_path})` : file;
    return new DbtError(`${kind} in ${where}${line ? `, line ${line}` : ''}: ${message}`, kind);
  }

  // ---------------------------------------------------------------- node context

  /** The `model` variable: the node as a dict. */
  nodeContext(n: ManifestNode): Record<string, unknown> {
    return {
      ...n,
      config: n.config,
      original_file_path: n.original_file_path,
      identifier: n.alias,
      relation_name: n.relation_name,
    };
  }

  private graph(): Record<string, unknown> {
    const nodes: Record<string, unknown> = {};
    for (const [id, n] of this.manifest.nodes) nodes[id] = this.nodeContext(n);
    const sources: Record<string, unknown> = {};
    for (const [id, s] of this.manifest.sources) sources[id] = { ...s };
    return {
      nodes,
      sources,
      exposures: {},
      metrics: {},
      groups: {},
      semantic_models: {},
      saved_queries: {},
      unit_tests: {},
    };
  }

  /** Schema, alias and database of a node through generate_schema_name / generate_alias_name / generate_database_name. */
  nameNode(n: ManifestNode): void {
    const call = (macro: string, arg: unknown): unknown => {
      const fn = this.findMacro(macro);
      if (!fn) return undefined;
      return this.callMacro(fn, [arg, this.nodeContext(n)], n, undefined, false);
    };
    const text = (v: unknown) => (v === undefined || v === null ? undefined : String(v).trim());
    const customSchema = (n.config['schema'] ?? null) as string | null;
    if (n.resource_type === 'snapshot' && n.config['target_schema']) n.schema = String(n.config['target_schema']);
    else
      n.schema =
        text(call('generate_schema_name', customSchema)) ??
        (customSchema ? `${this.opts.target.schema}_${customSchema}` : this.opts.target.schema);
    if (n.resource_type === 'snapshot' && n.config['target_database']) n.database = String(n.config['target_database']);
    else n.database = text(call('generate_database_name', n.config['database'] ?? null)) ?? this.opts.target.database;
    n.alias = text(call('generate_alias_name', n.config['alias'] ?? null)) ?? String(n.config['alias'] ?? n.name);
    n.config['schema'] = customSchema;
    n.relation_name =
      n.config['materialized'] === 'ephemeral' || n.resource_type === 'test' || n.resource_type === 'operation'
        ? null
        : `${quoteIdent(n.database)}.${quoteIdent(n.schema)}.${quoteIdent(n.alias)}`;
  }

  /** The folder configs of dbt_project.yml (root project over the node's own package). */
  projectConfig(
    kind: 'models' | 'seeds' | 'snapshots' | 'tests' | 'sources',
    fqn: string[],
    pkg: DbtPackage,
  ): Record<string, unknown> {
    const key = kind === 'tests' ? ['data_tests', 'tests'] : [kind];
    let out: Record<string, unknown> = {};
    const fromPkg = (p: DbtPackage) => {
      for (const k of key) {
        const tree = p.config[k];
        if (tree) out = mergeConfig(out, folderConfig(tree, fqn));
      }
    };
    if (pkg !== this.project.root) fromPkg(pkg);
    fromPkg(this.project.root);
    return this.renderConfigValues(out);
  }

  /** Jinja in config values of YAML (`schema: "{{ target.schema }}"`), hooks left as written. */
  renderConfigValues(cfg: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(cfg)) {
      if (k === 'pre-hook' || k === 'post-hook') out[k] = v;
      else out[k] = this.renderValue(v);
    }
    return out;
  }

  renderValue(v: unknown): unknown {
    if (typeof v === 'string' && (v.includes('{{') || v.includes('{%')))
      return nativeValue(this.render(v, 'dbt_project.yml', { execute: false, parsing: true }).sql);
    if (Array.isArray(v)) return v.map((x) => this.renderValue(x));
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, this.renderValue(x)]));
    return v;
  }

  /** Ephemeral models' CTEs put in front of compiled SQL (recursively, each once, dependencies first). */
  injectCtes(
    sql: string,
    ephemerals: Set<string>,
    compiled: Map<string, { sql: string; ephemerals: Set<string> }>,
  ): string {
    if (!ephemerals.size) return sql;
    const order: string[] = [];
    const seen = new Set<string>();
    const visit = (id: string) => {
      if (seen.has(id)) return;
      seen.add(id);
      for (const d of compiled.get(id)?.ephemerals ?? []) visit(d);
      order.push(id);
    };
    for (const e of ephemerals) visit(e);
    const ctes = order.map((id) => {
      const n = this.manifest.nodes.get(id)!;
      return `__dbt__cte__${n.name} as (\n${compiled.get(id)?.sql ?? ''}\n)`;
    });
    const m = /^(\s*(?:--[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*)with\s/i.exec(sql);
    if (m) return `${m[1]}with ${ctes.join(',\n')},\n${sql.slice(m[0].length)}`;
    return `with ${ctes.join(',\n')}\n${sql}`;
  }
}

/**
 * dbt renders YAML values with Jinja's native environment: a rendered `True`, `False`, `None`
 * or number is that value, not its text (`enabled: "{{ target.name == 'prod' }}"`).
 */
function nativeValue(text: string): unknown {
  const t = text.trim();
  if (t === 'True') return true;
  if (t === 'False') return false;
  if (t === 'None') return null;
  if (/^-?(0|[1-9]\d*)(\.\d+)?$/.test(t)) return Number(t);
  return text;
}

export { JinjaError };
