/**
 * A dbt project read from disk as dbt reads it: dbt_project.yml (paths, vars, config trees,
 * hooks, dispatch), `packages.yml`/`dependencies.yml` local packages and `dbt_packages/`, the
 * files of each resource path, YAML properties, snapshot blocks and macro files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { workspaceRoot } from '@weir/platform';

export class DbtProjectError extends Error {}

export interface SqlFile {
  /** The package (project) it belongs to. */
  package: string;
  /** Path relative to its package root, with `/`. */
  path: string;
  /** The folder of the resource path it sits in (`models`), and the folders below it. */
  resourcePath: string;
  folders: string[];
  name: string;
  source: string;
}

export interface PropertyFile {
  package: string;
  path: string;
  doc: Record<string, unknown>;
}

export interface DbtPackage {
  name: string;
  root: string;
  /** Parsed dbt_project.yml. */
  config: Record<string, unknown>;
  models: SqlFile[];
  seeds: SqlFile[];
  snapshots: SqlFile[];
  tests: SqlFile[];
  macros: SqlFile[];
  analyses: SqlFile[];
  properties: PropertyFile[];
  /** `{% docs %}` blocks. */
  docs: Map<string, string>;
}

export interface DbtProject {
  root: DbtPackage;
  /** Every package, the root first. */
  packages: DbtPackage[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function walk(dir: string, exts: string[], acc: string[] = []): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return acc;
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, exts, acc);
    else if (exts.some((x) => e.name.endsWith(x))) acc.push(p);
  }
  return acc;
}

const list = (v: unknown, dflt: string[]): string[] =>
  Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : dflt;

/**
 * Parsed YAML by file text, shared by the invocations of the process (a project's YAML is parsed
 * again by every dbt command); each read gets its own copy. Emptied past YAML_CHARS_MAX characters.
 */
const parsedYaml = new Map<string, unknown>();
let yamlChars = 0;
const YAML_CHARS_MAX = 32 * 1024 * 1024;

function parseYamlCached(text: string): unknown {
  if (parsedYaml.has(text)) return structuredClone(parsedYaml.get(text));
  const doc: unknown = parseYaml(text);
  if (yamlChars + text.length > YAML_CHARS_MAX) {
    parsedYaml.clear();
    yamlChars = 0;
  }
  parsedYaml.set(text, doc);
  yamlChars += text.length;
  return structuredClone(doc);
}

function readYaml(file: string, rel: string): Record<string, unknown> {
  try {
    const doc = parseYamlCached(fs.readFileSync(file, 'utf8'));
    if (doc === null || doc === undefined) return {};
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error('the file is not a YAML mapping');
    return doc as Record<string, unknown>;
  } catch (e) {
    throw new DbtProjectError(`Parsing Error in ${rel}: ${(e as Error).message}`);
  }
}

/** One package folder (the root project or a dependency). */
export function loadPackage(root: string): DbtPackage {
  const projectFile = path.join(root, 'dbt_project.yml');
  if (!fs.existsSync(projectFile))
    throw new DbtProjectError(`Runtime Error: no dbt_project.yml found at expected path ${projectFile}`);
  const config = readYaml(projectFile, 'dbt_project.yml');
  const name = String(config['name'] ?? '');
  if (!NAME.test(name))
    throw new DbtProjectError(
      `dbt_project.yml: name must be a valid identifier (got ${JSON.stringify(config['name'])})`,
    );
  const realRoot = fs.realpathSync(root);
  const inside = (key: string, p: string) => {
    const full = path.resolve(root, p);
    const r = path.relative(root, full);
    if (r.startsWith('..') || path.isAbsolute(r))
      throw new DbtProjectError(`dbt_project.yml: ${key} ${JSON.stringify(p)} is outside the project`);
    if (fs.existsSync(full) && path.relative(realRoot, fs.realpathSync(full)).startsWith('..'))
      throw new DbtProjectError(`dbt_project.yml: ${key} ${JSON.stringify(p)} leads outside the project`);
    return full;
  };
  const rel = (p: string) => path.relative(root, p).split(path.sep).join('/');
  const files = (key: string, dflt: string[], exts: string[]): SqlFile[] => {
    const out: SqlFile[] = [];
    for (const rp of list(config[key], dflt)) {
      const base = inside(key, rp);
      for (const f of walk(base, exts)) {
        const ext = exts.find((x) => f.endsWith(x))!;
        out.push({
          package: name,
          path: rel(f),
          resourcePath: rp.replace(/\/+$/, ''),
          folders: path
            .relative(base, path.dirname(f))
            .split(path.sep)
            .filter((x) => x && x !== '.'),
          name: path.basename(f, ext),
          source: ext === '.csv' ? '' : fs.readFileSync(f, 'utf8'),
        });
      }
    }
    return out;
  };
  const modelPaths = list(config['model-paths'] ?? config['source-paths'], ['models']);
  const seedPaths = list(config['seed-paths'] ?? config['data-paths'], ['seeds']);
  const snapshotPaths = list(config['snapshot-paths'], ['snapshots']);
  const testPaths = list(config['test-paths'], ['tests']);
  const macroPaths = list(config['macro-paths'], ['macros']);
  const analysisPaths = list(config['analysis-paths'], ['analyses']);
  const properties: PropertyFile[] = [];
  const docs = new Map<string, string>();
  const seen = new Set<string>();
  for (const rp of [...modelPaths, ...seedPaths, ...snapshotPaths, ...testPaths, ...macroPaths, ...analysisPaths]) {
    const base = inside('paths', rp);
    for (const f of walk(base, ['.yml', '.yaml'])) {
      if (seen.has(f)) continue;
      seen.add(f);
      properties.push({ package: name, path: rel(f), doc: readYaml(f, rel(f)) });
    }
    for (const f of walk(base, ['.md'])) {
      if (seen.has(f)) continue;
      seen.add(f);
      for (const m of fs
        .readFileSync(f, 'utf8')
        .matchAll(/{%-?\s*docs\s+([A-Za-z_][A-Za-z0-9_]*)\s*-?%}([\s\S]*?){%-?\s*enddocs\s*-?%}/g))
        docs.set(m[1], m[2].trim());
    }
  }
  return {
    name,
    root,
    config,
    models: files('model-paths', modelPaths, ['.sql']),
    seeds: files('seed-paths', seedPaths, ['.csv']),
    snapshots: files('snapshot-paths', snapshotPaths, ['.sql']),
    tests: files('test-paths', testPaths, ['.sql']),
    // generic tests in a `generic/` folder of the test paths are macros (`{% test x(...) %}`)
    macros: [
      ...files('macro-paths', macroPaths, ['.sql']),
      ...files('test-paths', testPaths, ['.sql']).filter((f) => f.folders.includes('generic')),
    ],
    analyses: files('analysis-paths', analysisPaths, ['.sql']),
    properties,
    docs,
  };
}

/**
 * The root project and its packages: `local:` entries of packages.yml / dependencies.yml (paths
 * relative to the project), and every package already installed in `packages-install-path`
 * (`dbt_packages/`, as `dbt deps` leaves them). Hub and git packages must be installed there.
 */
export function loadProject(root: string): DbtProject {
  const rootPkg = loadPackage(root);
  const packages: DbtPackage[] = [rootPkg];
  const byName = new Map<string, DbtPackage>([[rootPkg.name, rootPkg]]);
  const visit = (pkg: DbtPackage, depth: number) => {
    if (depth > 10) throw new DbtProjectError('packages nest more than 10 levels deep');
    const dirs: string[] = [];
    for (const file of ['packages.yml', 'dependencies.yml']) {
      const f = path.join(pkg.root, file);
      if (!fs.existsSync(f)) continue;
      const doc = readYaml(f, file);
      for (const entry of (doc['packages'] as Record<string, unknown>[] | undefined) ?? []) {
        if (entry && typeof entry['local'] === 'string') dirs.push(path.resolve(pkg.root, entry['local']));
        else if (entry && (entry['package'] || entry['git'] || entry['tarball'] || entry['private'])) {
          const installed = path.join(pkg.root, String(pkg.config['packages-install-path'] ?? 'dbt_packages'));
          const name = String(entry['package'] ?? entry['git'] ?? entry['private'] ?? '')
            .split('/')
            .pop()!
            .replace(/\.git$/, '');
          const found = fs.existsSync(installed)
            ? fs
                .readdirSync(installed)
                .map((d) => path.join(installed, d))
                .find((d) => fs.existsSync(path.join(d, 'dbt_project.yml')) && path.basename(d) === name)
            : undefined;
          if (!found)
            throw new DbtProjectError(
              `${file}: package ${JSON.stringify(entry['package'] ?? entry['git'])} is not installed in ${path.relative(pkg.root, installed) || '.'}/ (Weir reads packages offline: use a local: package or install it there)`,
            );
          dirs.push(found);
        }
      }
    }
    for (const d of dirs) {
      if (!fs.existsSync(path.join(d, 'dbt_project.yml')))
        throw new DbtProjectError(`package at ${d} has no dbt_project.yml`);
      const p = loadPackage(d);
      if (byName.has(p.name)) continue;
      byName.set(p.name, p);
      packages.push(p);
      visit(p, depth + 1);
    }
  };
  visit(rootPkg, 0);
  return { root: rootPkg, packages };
}

/**
 * The macro library Weir ships as dbt's internal `dbt` package (libs/modeling/dbt-include): beside
 * the sources, or — when running the build in dist/ (`npm start`), which holds compiled JavaScript
 * only — in the workspace's libs/modeling.
 */
export function includeRoot(): string {
  const candidates = [
    path.resolve(__dirname, '..', '..', 'dbt-include'),
    path.resolve(__dirname, '..', '..', '..', 'dbt-include'),
    path.resolve(__dirname, 'dbt-include'),
  ];
  try {
    candidates.push(path.join(workspaceRoot(), 'libs', 'modeling', 'dbt-include'));
  } catch {
    /* no workspace above: only the places beside this file */
  }
  for (const c of candidates) if (fs.existsSync(path.join(c, 'macros'))) return c;
  return candidates[0]!;
}

/** Every macro file of the internal package. */
export function includeMacros(): SqlFile[] {
  const root = path.join(includeRoot(), 'macros');
  return walk(root, ['.sql']).map((f) => ({
    package: 'dbt',
    path: `macros/${path.relative(root, f).split(path.sep).join('/')}`,
    resourcePath: 'macros',
    folders: [],
    name: path.basename(f, '.sql'),
    source: fs.readFileSync(f, 'utf8'),
  }));
}
