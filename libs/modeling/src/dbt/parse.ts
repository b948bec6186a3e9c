/**
 * Parsing a project into the manifest, as dbt parses: every model, snapshot, singular test and
 * hook rendered with `execute` false to capture its `ref`s, `source`s and `config()`; configs
 * merged (dbt_project.yml folders < YAML properties < the file's `config()`); generic tests
 * built from YAML (`tests:`/`data_tests:` on models, columns, seeds, snapshots and sources);
 * then names through generate_schema_name / generate_alias_name, and dependencies resolved.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ColumnInfo, ManifestNode, ResourceType, SourceDefinition } from './manifest';
import { configKey, mergeConfig } from './manifest';
import type { DbtPackage, SqlFile } from './project';
import { DbtError, type DbtRuntime } from './runtime';

const DEFAULTS: Record<string, Record<string, unknown>> = {
  model: {
    enabled: true,
    materialized: 'view',
    tags: [],
    'pre-hook': [],
    'post-hook': [],
    meta: {},
    persist_docs: {},
    quoting: {},
    column_types: {},
    full_refresh: null,
    on_schema_change: 'ignore',
    on_configuration_change: 'apply',
    grants: {},
    packages: [],
    docs: { show: true, node_color: null },
    contract: { enforced: false, alias_types: true },
    incremental_strategy: null,
    unique_key: null,
    alias: null,
    schema: null,
    database: null,
  },
  seed: {
    enabled: true,
    materialized: 'seed',
    tags: [],
    'pre-hook': [],
    'post-hook': [],
    meta: {},
    quote_columns: null,
    column_types: {},
    delimiter: ',',
    full_refresh: null,
    alias: null,
    schema: null,
    database: null,
    persist_docs: {},
    grants: {},
    docs: { show: true, node_color: null },
  },
  snapshot: {
    enabled: true,
    materialized: 'snapshot',
    tags: [],
    'pre-hook': [],
    'post-hook': [],
    meta: {},
    strategy: null,
    unique_key: null,
    target_schema: null,
    target_database: null,
    alias: null,
    schema: null,
    database: null,
    persist_docs: {},
    grants: {},
    docs: { show: true, node_color: null },
  },
  test: {
    enabled: true,
    materialized: 'test',
    severity: 'ERROR',
    tags: [],
    meta: {},
    store_failures: null,
    store_failures_as: null,
    where: null,
    limit: null,
    fail_calc: 'count(*)',
    warn_if: '!= 0',
    error_if: '!= 0',
    schema: 'dbt_test__audit',
    database: null,
    alias: null,
  },
  operation: { enabled: true, materialized: 'view', tags: [], meta: {} },
  analysis: { enabled: true, materialized: 'view', tags: [], meta: {} },
};

const TEST_CONFIG_KEYS = new Set([
  'severity',
  'where',
  'limit',
  'error_if',
  'warn_if',
  'store_failures',
  'store_failures_as',
  'fail_calc',
  'enabled',
  'tags',
  'meta',
  'alias',
  'schema',
  'database',
]);

const asList = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const checksum = (s: string) => ({ name: 'sha256', checksum: createHash('sha256').update(s).digest('hex') });

interface Props {
  file: string;
  pkg: string;
  entry: Record<string, unknown>;
}

function columnsOf(entry: Record<string, unknown>): Record<string, ColumnInfo> {
  const out: Record<string, ColumnInfo> = {};
  for (const c of asList(entry['columns'])) {
    if (!isObject(c) || typeof c['name'] !== 'string') continue;
    out[c['name']] = {
      name: c['name'],
      description: String(c['description'] ?? ''),
      meta: (c['meta'] as Record<string, unknown>) ?? {},
      data_type: (c['data_type'] as string) ?? null,
      constraints: asList(c['constraints']),
      quote: (c['quote'] as boolean) ?? null,
      tags: asList(c['tags']).map(String),
    };
  }
  return out;
}

export class ProjectParser {
  private readonly props = {
    models: new Map<string, Props>(),
    seeds: new Map<string, Props>(),
    snapshots: new Map<string, Props>(),
    analyses: new Map<string, Props>(),
  };

  constructor(private readonly rt: DbtRuntime) {}

  parse(): void {
    const packages = this.rt.project.packages;
    for (const p of packages) this.collectProperties(p);
    for (const p of packages) this.parseSources(p);
    for (const p of packages) {
      for (const f of p.seeds) this.addSeed(p, f);
      for (const f of p.models) this.addSqlNode(p, f, 'model', f.source);
      for (const f of p.snapshots)
        // a snapshot's fqn has its file's name before its own (dbt's SnapshotParser.get_fqn)
        for (const block of snapshotBlocks(f))
          this.addSqlNode(
            p,
            { ...f, name: block.name, folders: [...f.folders, path.basename(f.path, '.sql')] },
            'snapshot',
            block.sql,
          );
      for (const [key, props] of this.props.snapshots) {
        if (!key.startsWith(`${p.name}.`) || !props.entry['relation']) continue;
        const name = String(props.entry['name']);
        const rel = String(props.entry['relation']).trim();
        const expr = /^\{\{.*\}\}$/s.test(rel) ? rel : `{{ ${rel} }}`;
        this.addSqlNode(
          p,
          { package: p.name, path: props.file, resourcePath: '', folders: [], name, source: '' },
          'snapshot',
          `select * from ${expr}`,
        );
      }
      for (const f of p.tests) if (!f.path.split('/').includes('generic')) this.addSqlNode(p, f, 'test', f.source);
      for (const f of p.analyses) this.addSqlNode(p, f, 'analysis', f.source);
    }
    this.addHooks();
    for (const n of this.rt.manifest.nodes.values()) this.rt.nameNode(n);
    for (const p of packages) this.addGenericTests(p);
    this.resolveDependencies();
    this.checkUniqueRelations();
  }

  // ---------------------------------------------------------------- YAML

  private collectProperties(p: DbtPackage): void {
    for (const f of p.properties) {
      for (const [key, map] of [
        ['models', this.props.models],
        ['seeds', this.props.seeds],
        ['snapshots', this.props.snapshots],
        ['analyses', this.props.analyses],
      ] as const) {
        for (const entry of asList(f.doc[key])) {
          if (!isObject(entry) || typeof entry['name'] !== 'string')
            throw new DbtError(`Parsing Error: ${f.path}: every entry of ${key} needs a name`, 'Parsing Error');
          map.set(`${p.name}.${entry['name']}`, { file: f.path, pkg: p.name, entry });
        }
      }
    }
  }

  private parseSources(p: DbtPackage): void {
    for (const f of p.properties) {
      for (const s of asList(f.doc['sources'])) {
        if (!isObject(s) || typeof s['name'] !== 'string') continue;
        const srcConfig = isObject(s['config']) ? s['config'] : {};
        for (const t of asList(s['tables'])) {
          if (!isObject(t) || typeof t['name'] !== 'string') continue;
          const fqn = [p.name, ...f.path.split('/').slice(1, -1), s['name'], t['name']];
          const cfg = mergeConfig(
            mergeConfig(
              mergeConfig({ enabled: true }, this.rt.projectConfig('sources', fqn, p)),
              this.rt.renderConfigValues(srcConfig),
            ),
            this.rt.renderConfigValues(isObject(t['config']) ? t['config'] : {}),
          );
          if (cfg['enabled'] === false) continue;
          const render = (v: unknown) => (v === undefined || v === null ? undefined : String(this.rt.renderValue(v)));
          const schema = render(t['schema']) ?? render(s['schema']) ?? s['name'];
          const database = render(t['database']) ?? render(s['database']) ?? this.rt.opts.target.database;
          const identifier = render(t['identifier']) ?? t['name'];
          const uid = `source.${p.name}.${s['name']}.${t['name']}`;
          const tests: SourceDefinition['tests'] = [];
          for (const x of [...asList(t['tests']), ...asList(t['data_tests'])]) tests.push({ column: null, test: x });
          for (const c of asList(t['columns']))
            if (isObject(c))
              for (const x of [...asList(c['tests']), ...asList(c['data_tests'])])
                tests.push({ column: String(c['name']), test: x });
          this.rt.manifest.sources.set(uid, {
            unique_id: uid,
            resource_type: 'source',
            package_name: p.name,
            source_name: s['name'],
            name: t['name'],
            identifier,
            database,
            schema,
            fqn,
            path: f.path,
            original_file_path: f.path,
            description: String(t['description'] ?? ''),
            source_description: String(s['description'] ?? ''),
            loader: String(s['loader'] ?? ''),
            loaded_at_field: (t['loaded_at_field'] ?? s['loaded_at_field'] ?? null) as string | null,
            freshness: t['freshness'] ?? s['freshness'] ?? null,
            columns: columnsOf(t),
            meta: (t['meta'] as Record<string, unknown>) ?? {},
            source_meta: (s['meta'] as Record<string, unknown>) ?? {},
            tags: [...asList(s['tags']), ...asList(t['tags'])].map(String),
            config: cfg,
            quoting: (t['quoting'] ?? s['quoting'] ?? {}) as Record<string, unknown>,
            relation_name: `"${database}"."${schema}"."${identifier}"`,
            tests,
          });
        }
      }
    }
  }

  // ---------------------------------------------------------------- nodes

  private baseNode(p: DbtPackage, f: SqlFile, type: ResourceType, raw: string): ManifestNode {
    const rel = f.path.startsWith(`${f.resourcePath}/`) ? f.path.slice(f.resourcePath.length + 1) : f.path;
    const fqnFolders = type === 'test' ? f.folders : f.folders;
    return {
      unique_id: `${type}.${p.name}.${f.name}`,
      resource_type: type,
      package_name: p.name,
      name: f.name,
      path: rel,
      original_file_path: f.path,
      fqn: [p.name, ...fqnFolders, f.name],
      raw_code: raw,
      language: 'sql',
      config: {},
      unrendered_config: {},
      tags: [],
      description: '',
      meta: {},
      columns: {},
      database: this.rt.opts.target.database,
      schema: this.rt.opts.target.schema,
      alias: f.name,
      refs: [],
      sources: [],
      depends_on: { macros: [], nodes: [] },
      checksum: checksum(raw),
      patch_path: null,
      relation_name: null,
    };
  }

  private kindKey(type: ResourceType): 'models' | 'seeds' | 'snapshots' | 'tests' {
    return type === 'seed' ? 'seeds' : type === 'snapshot' ? 'snapshots' : type === 'test' ? 'tests' : 'models';
  }

  private finish(n: ManifestNode, config: Record<string, unknown>): void {
    n.config = config;
    n.tags = asList(config['tags']).map(String);
    n.meta = (config['meta'] as Record<string, unknown>) ?? {};
    if (config['enabled'] === false) {
      this.rt.manifest.disabled.set(n.unique_id, n);
      return;
    }
    const clash = this.rt.manifest.nodes.get(n.unique_id);
    if (clash && n.resource_type !== 'test')
      throw new DbtError(
        `Compilation Error: dbt found two ${n.resource_type}s with the name "${n.name}".\n  - ${clash.original_file_path}\n  - ${n.original_file_path}`,
      );
    this.rt.manifest.nodes.set(n.unique_id, n);
  }

  private addSeed(p: DbtPackage, f: SqlFile): void {
    const n = this.baseNode(p, f, 'seed', '');
    const props = this.props.seeds.get(`${p.name}.${f.name}`);
    let cfg = mergeConfig({ ...DEFAULTS['seed'] }, this.rt.projectConfig('seeds', n.fqn, p));
    if (props) {
      cfg = mergeConfig(cfg, this.rt.renderConfigValues(isObject(props.entry['config']) ? props.entry['config'] : {}));
      n.description = String(props.entry['description'] ?? '');
      n.columns = columnsOf(props.entry);
      n.patch_path = `${p.name}://${props.file}`;
    }
    // a seed's checksum is its file's contents (state:modified sees an edited CSV)
    const file = path.join(p.root, f.path);
    n.checksum = checksum(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : f.path);
    this.finish(n, cfg);
  }

  private addSqlNode(p: DbtPackage, f: SqlFile, type: ResourceType, raw: string): void {
    const n = this.baseNode(p, f, type, raw);
    const propsMap =
      type === 'snapshot' ? this.props.snapshots : type === 'analysis' ? this.props.analyses : this.props.models;
    const props = type === 'test' ? undefined : propsMap.get(`${p.name}.${f.name}`);
    let cfg = mergeConfig({ ...DEFAULTS[type] }, this.rt.projectConfig(this.kindKey(type), n.fqn, p));
    if (props) {
      const yamlCfg = this.rt.renderConfigValues(isObject(props.entry['config']) ? props.entry['config'] : {});
      cfg = mergeConfig(cfg, yamlCfg);
      n.unrendered_config = { ...yamlCfg };
      n.description = String(props.entry['description'] ?? '');
      n.columns = columnsOf(props.entry);
      n.patch_path = `${p.name}://${props.file}`;
      if (props.entry['versions']) n.version = (props.entry['latest_version'] as string | number | undefined) ?? null;
    }
    // parse: render with execute false to capture refs, sources and config()
    n.config = cfg;
    const r = this.rt.render(raw, f.path, { node: n, execute: false, parsing: true });
    const captured = r.captured!;
    cfg = mergeConfig(cfg, captured.config);
    n.unrendered_config = { ...n.unrendered_config, ...captured.config };
    n.refs = captured.refs;
    n.sources = captured.sources;
    if (type === 'test' && cfg['severity']) cfg['severity'] = String(cfg['severity']).toUpperCase();
    this.finish(n, cfg);
  }

  /** on-run-start / on-run-end of every package (dbt runs a package's hooks too). */
  private addHooks(): void {
    for (const pkg of this.rt.project.packages) {
      for (const name of ['on-run-start', 'on-run-end'] as const) {
        asList(pkg.config[name]).forEach((sql, i) => {
          const f: SqlFile = {
            package: pkg.name,
            path: 'dbt_project.yml',
            resourcePath: '',
            folders: [],
            name: `${pkg.name}-${name}-${i}`,
            source: String(sql),
          };
          const n = this.baseNode(pkg, f, 'operation', String(sql));
          n.unique_id = `operation.${pkg.name}.${pkg.name}-${name}-${i}`;
          n.index = i;
          n.tags = [name];
          n.config = { ...DEFAULTS['operation'], tags: [name] };
          n.path = `hooks/${pkg.name}-${name}-${i}.sql`;
          this.rt.manifest.nodes.set(n.unique_id, n);
        });
      }
    }
  }

  // ---------------------------------------------------------------- generic tests

  private addGenericTests(p: DbtPackage): void {
    const attach = (
      target: {
        uid: string;
        name: string;
        kind: 'model' | 'seed' | 'snapshot' | 'source';
        sourceName?: string;
        file: string;
      },
      column: string | null,
      test: unknown,
    ) => this.addGenericTest(p, target, column, test);
    // the package's first model, seed or snapshot of each name (the tests added below are none)
    const byName = new Map<string, ManifestNode>();
    for (const n of this.rt.manifest.nodes.values())
      if (n.package_name === p.name && ['model', 'seed', 'snapshot'].includes(n.resource_type) && !byName.has(n.name))
        byName.set(n.name, n);
    for (const [key, props] of [...this.props.models, ...this.props.seeds, ...this.props.snapshots]) {
      if (!key.startsWith(`${p.name}.`)) continue;
      const name = String(props.entry['name']);
      const node = byName.get(name);
      if (!node) continue;
      const target = { uid: node.unique_id, name, kind: node.resource_type as 'model', file: props.file };
      for (const t of [...asList(props.entry['tests']), ...asList(props.entry['data_tests'])]) attach(target, null, t);
      for (const c of asList(props.entry['columns']))
        if (isObject(c))
          for (const t of [...asList(c['tests']), ...asList(c['data_tests'])]) attach(target, String(c['name']), t);
    }
    for (const s of this.rt.manifest.sources.values()) {
      if (s.package_name !== p.name) continue;
      for (const t of s.tests)
        attach(
          {
            uid: s.unique_id,
            name: `${s.source_name}_${s.name}`,
            kind: 'source',
            sourceName: s.source_name,
            file: s.original_file_path,
          },
          t.column,
          t.test,
        );
    }
  }

  private addGenericTest(
    p: DbtPackage,
    target: {
      uid: string;
      name: string;
      kind: 'model' | 'seed' | 'snapshot' | 'source';
      sourceName?: string;
      file: string;
    },
    column: string | null,
    test: unknown,
  ): void {
    let testName: string;
    let args: Record<string, unknown> = {};
    if (typeof test === 'string') testName = test;
    else if (isObject(test)) {
      const keys = Object.keys(test);
      if (typeof test['test_name'] === 'string') {
        testName = test['test_name'];
        args = { ...test };
        delete args['test_name'];
      } else if (keys.length === 1 && (isObject(test[keys[0]]) || test[keys[0]] === null)) {
        testName = keys[0];
        args = { ...((test[keys[0]] as Record<string, unknown>) ?? {}) };
      } else {
        throw new DbtError(
          `Parsing Error: ${target.file}: a test must be a name or a mapping of one name to its arguments (got ${JSON.stringify(test)})`,
          'Parsing Error',
        );
      }
    } else return;
    let namespace: string | null = null;
    if (testName.includes('.')) [namespace, testName] = testName.split('.', 2) as [string, string];
    const customName = typeof args['name'] === 'string' ? (args['name'] as string) : undefined;
    delete args['name'];
    // configs: `config:` and config keys at the top level of the arguments
    let testCfg: Record<string, unknown> = isObject(args['config'])
      ? { ...(args['config'] as Record<string, unknown>) }
      : {};
    delete args['config'];
    for (const k of Object.keys(args))
      if (TEST_CONFIG_KEYS.has(k)) {
        testCfg = { ...testCfg, [configKey(k)]: args[k] };
        delete args[k];
      }
    if (args['arguments'] && isObject(args['arguments'])) {
      args = { ...args, ...(args['arguments'] as Record<string, unknown>) };
      delete args['arguments'];
    }
    const kwargs: Record<string, unknown> = { ...args };
    if (column !== null) kwargs['column_name'] = column;
    const name = customName ?? syntheticTestName(testName, namespace, target, column, args);
    const hash = createHash('md5')
      .update(JSON.stringify([target.uid, testName, column, args]))
      .digest('hex')
      .slice(0, 10);
    const macroName = `test_${testName}`;
    const macro = namespace ? this.rt.findMacro(macroName, namespace) : this.rt.findMacro(macroName);
    if (!macro)
      throw new DbtError(
        `Compilation Error in test ${name} (${target.file}): 'test_${testName}' is undefined. This can happen when calling a macro that does not exist. Check for typos and/or install package dependencies with "dbt deps".`,
      );
    const modelExpr =
      target.kind === 'source'
        ? `source(${JSON.stringify(target.sourceName)}, ${JSON.stringify(target.name.slice(target.sourceName!.length + 1))})`
        : `ref(${JSON.stringify(target.name)})`;
    const f: SqlFile = { package: p.name, path: target.file, resourcePath: '', folders: [], name, source: '' };
    const n = this.baseNode(p, f, 'test', '');
    n.unique_id = `test.${p.name}.${name}.${hash}`;
    n.fqn = [p.name, ...target.file.split('/').slice(1, -1), name];
    n.path = `${name}.sql`;
    n.raw_code = `{{ ${namespace ? `${namespace}.` : ''}test_${testName}(**_dbt_generic_test_kwargs) }}`;
    n.test_metadata = {
      name: testName,
      kwargs: { ...kwargs, model: `{{ get_where_subquery(${modelExpr}) }}` },
      namespace,
    };
    n.column_name = column;
    n.attached_node = target.kind === 'source' ? null : target.uid;
    n.file_key_name = target.kind === 'source' ? `sources.${target.sourceName}` : `${target.kind}s.${target.name}`;
    const attachedNode = this.rt.manifest.nodes.get(target.uid);
    let cfg = mergeConfig({ ...DEFAULTS['test'] }, this.rt.projectConfig('tests', n.fqn, p));
    cfg = mergeConfig(cfg, this.rt.renderConfigValues(testCfg));
    if (cfg['severity']) cfg['severity'] = String(cfg['severity']).toUpperCase();
    n.config = cfg;
    n.tags = [...new Set([...asList(cfg['tags']).map(String), ...(attachedNode?.tags ?? [])])];
    // dependencies: the tested node and any ref()/source() in the arguments
    if (target.kind === 'source')
      n.sources.push([target.sourceName!, target.name.slice(target.sourceName!.length + 1)]);
    else n.refs.push({ name: target.name, package: null, version: null });
    for (const v of Object.values(args)) {
      if (typeof v !== 'string') continue;
      for (const m of v.matchAll(/\bref\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?\)/g))
        n.refs.push(m[2] ? { name: m[2], package: m[1], version: null } : { name: m[1], package: null, version: null });
      for (const m of v.matchAll(/\bsource\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)/g))
        n.sources.push([m[1], m[2]]);
    }
    if (cfg['enabled'] === false || (attachedNode === undefined && target.kind !== 'source')) {
      this.rt.manifest.disabled.set(n.unique_id, n);
      return;
    }
    // the audit schema through generate_schema_name (a project's override applies), as dbt names it
    this.rt.nameNode(n);
    n.alias = String(cfg['alias'] ?? testAlias(name));
    this.rt.manifest.nodes.set(n.unique_id, n);
  }

  // ---------------------------------------------------------------- graph

  private resolveDependencies(): void {
    for (const n of this.rt.manifest.nodes.values()) {
      const deps = new Set<string>();
      for (const r of n.refs) {
        const t = this.rt.resolveRef(r.name, r.package, r.version);
        if (!t) {
          const disabled = [...this.rt.manifest.disabled.values()].find((d) => d.name === r.name);
          throw new DbtError(
            `Compilation Error in ${n.resource_type} ${n.name} (${n.original_file_path})\n  ${n.resource_type === 'test' ? 'Test' : 'Model'} '${n.unique_id}' (${n.original_file_path}) depends on a node named '${r.name}'${r.package ? ` in package '${r.package}'` : ''} which ${disabled ? 'is disabled' : 'was not found'}`,
          );
        }
        deps.add(t.unique_id);
      }
      for (const [s, t] of n.sources) {
        const src = [...this.rt.manifest.sources.values()].find((x) => x.source_name === s && x.name === t);
        if (!src)
          throw new DbtError(
            `Compilation Error in ${n.resource_type} ${n.name} (${n.original_file_path})\n  ${n.resource_type === 'test' ? 'Test' : 'Model'} '${n.unique_id}' (${n.original_file_path}) depends on a source named '${s}.${t}' which was not found`,
          );
        deps.add(src.unique_id);
      }
      n.depends_on.nodes = [...deps];
    }
  }

  private checkUniqueRelations(): void {
    const seen = new Map<string, ManifestNode>();
    for (const n of this.rt.manifest.nodes.values()) {
      if (!n.relation_name || n.resource_type === 'test' || n.resource_type === 'analysis') continue;
      const key = n.relation_name.toLowerCase();
      const other = seen.get(key);
      if (other)
        throw new DbtError(
          `Compilation Error\n  dbt found two resources with the database representation "${n.relation_name}".\n  dbt cannot create two resources with identical database representations. To fix this,\n  change the configuration of one of these resources:\n  - ${other.unique_id} (${other.original_file_path})\n  - ${n.unique_id} (${n.original_file_path})`,
        );
      seen.set(key, n);
    }
  }
}

/** dbt's name for a generic test: `<test>_<model>_<column>__<args…>`, hashed when too long. */
export function syntheticTestName(
  testName: string,
  namespace: string | null,
  target: { name: string; kind: string; sourceName?: string },
  column: string | null,
  args: Record<string, unknown>,
): string {
  const flat: string[] = [];
  const kwargs: Record<string, unknown> = { ...args };
  if (column !== null) kwargs['column_name'] = column;
  for (const k of Object.keys(kwargs).sort()) {
    const v = kwargs[k];
    if (isObject(v)) flat.push(...Object.values(v).map(String));
    else if (Array.isArray(v)) flat.push(...v.map(String));
    else flat.push(String(v));
  }
  const clean = flat.map((a) => a.replace(/[^0-9a-zA-Z_]+/g, '_'));
  const unique = clean.join('__');
  const prefix = namespace ? `${namespace}_` : '';
  const base = target.kind === 'source' ? `source_${testName}_${target.name}` : `${testName}_${target.name}`;
  return `${prefix}${base}${unique ? `_${unique}` : ''}`;
}

/** A test's relation name (store_failures): its name, or when that passes 63 characters a prefix and a hash, as dbt does. */
export function testAlias(name: string): string {
  if (name.length < 64) return name;
  return `${name.slice(0, 30)}_${createHash('md5').update(name).digest('hex')}`;
}

/** The `{% snapshot name %}…{% endsnapshot %}` blocks of a snapshot file. */
export function snapshotBlocks(f: SqlFile): { name: string; sql: string }[] {
  const out: { name: string; sql: string }[] = [];
  for (const m of f.source.matchAll(
    /{%-?\s*snapshot\s+([A-Za-z_][A-Za-z0-9_]*)\s*-?%}([\s\S]*?){%-?\s*endsnapshot\s*-?%}/g,
  ))
    out.push({ name: m[1], sql: m[2] });
  return out;
}
