import * as fs from 'node:fs';
import * as path from 'node:path';
import { filesImporting, findEntities, findPortUsages, listTsFiles } from './scan';
import { readDomainRegistry, readPortRegistry, RegistryFormatError, SliceEntry } from './registry';
import { readProjectGraph, SimpleProjectGraph } from './project-graph';
import { probeMigrations } from './drift';

export type CheckName = 'registry' | 'libs' | 'entities' | 'migrations' | 'imports' | 'ports' | 'barrels' | 'routes';

/** One disagreement between the registries and the code, naming the offender. */
export interface Finding {
  check: CheckName;
  message: string;
}

export interface CheckOptions {
  /** Workspace root. */
  root: string;
  /** A PostgreSQL server on which a throwaway database may be created, for the migration checks. */
  databaseUrl?: string;
  /** Skip the migration checks (no database at hand); reported as a finding-free skip by the caller. */
  skipDatabase?: boolean;
  /** Precomputed project graph (tests); read from Nx otherwise. */
  graph?: SimpleProjectGraph;
}

const rel = (root: string, f: string) => path.relative(root, f).split(path.sep).join('/');

/** (a) every lib under libs/ is a registered built slice, and every built slice has its lib. */
export function checkLibs(root: string, slices: SliceEntry[]): Finding[] {
  const out: Finding[] = [];
  const libsDir = path.join(root, 'libs');
  const dirs = fs.existsSync(libsDir)
    ? fs
        .readdirSync(libsDir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => `libs/${d.name}`)
    : [];
  const byLib = new Map(slices.filter((s) => s.lib).map((s) => [s.lib!.replace(/\/$/, ''), s]));
  for (const d of dirs) {
    if (!byLib.has(d))
      out.push({
        check: 'libs',
        message: `${d} is not registered: add it to DOMAIN_REGISTRY.yaml as a built slice (lib: ${d}) or remove it`,
      });
  }
  for (const s of slices.filter((x) => x.status === 'built')) {
    const projectFile = path.join(root, s.lib!, 'project.json');
    if (!fs.existsSync(projectFile)) {
      out.push({
        check: 'libs',
        message: `slice "${s.name}" is registered as built with lib ${s.lib}, but ${s.lib}/project.json does not exist`,
      });
      continue;
    }
    const project = JSON.parse(fs.readFileSync(projectFile, 'utf8')) as { name?: string; tags?: string[] };
    if (project.name !== s.name)
      out.push({
        check: 'libs',
        message: `${s.lib}/project.json: project name must be "${s.name}" (is "${project.name}")`,
      });
    if (!(project.tags ?? []).includes(`scope:${s.name}`))
      out.push({ check: 'libs', message: `${s.lib}/project.json: tags must include "scope:${s.name}"` });
  }
  return out;
}

/** Entity files of the workspace: every non-spec .ts file declaring an @Entity under libs/ and apps/. */
export function entityFiles(root: string): string[] {
  return [...listTsFiles(path.join(root, 'libs')), ...listTsFiles(path.join(root, 'apps'))].filter(
    (f) => findEntities(f).length > 0,
  );
}

/** (b) every entity's table lies in its slice's schema and is listed in the registry. */
export function checkEntities(root: string, slices: SliceEntry[]): Finding[] {
  const out: Finding[] = [];
  for (const f of entityFiles(root)) {
    const r = rel(root, f);
    const slice = slices.find((s) => s.lib && r.startsWith(s.lib.replace(/\/$/, '') + '/'));
    for (const e of findEntities(f)) {
      const where = `${r}:${e.line} entity ${e.className}`;
      if (!slice) {
        out.push({
          check: 'entities',
          message: `${where} is outside any registered slice lib; entities belong to a slice`,
        });
        continue;
      }
      if (!e.schema) {
        out.push({
          check: 'entities',
          message: `${where} must name its schema: @Entity({ schema: '${slice.schema}', name: '…' })`,
        });
        continue;
      }
      if (e.schema !== slice.schema)
        out.push({
          check: 'entities',
          message: `${where} maps to schema "${e.schema}", but slice "${slice.name}" owns schema "${slice.schema}"`,
        });
      if (!e.table) out.push({ check: 'entities', message: `${where} must name its table explicitly` });
      else if (!slice.tables.includes(e.table))
        out.push({
          check: 'entities',
          message: `${where} maps table "${e.table}", which is not listed under slice "${slice.name}" tables in DOMAIN_REGISTRY.yaml`,
        });
    }
  }
  return out;
}

/** (c) migrations create exactly the listed tables, and match the entities (no drift). */
export async function checkMigrations(root: string, slices: SliceEntry[], databaseUrl: string): Promise<Finding[]> {
  const out: Finding[] = [];
  const probe = await probeMigrations(root, databaseUrl, entityFiles(root));
  for (const s of slices) {
    for (const t of s.tables) {
      if (!probe.tables.has(`${s.schema}.${t}`))
        out.push({
          check: 'migrations',
          message: `table ${s.schema}.${t} (slice "${s.name}") is listed in DOMAIN_REGISTRY.yaml but no migration creates it`,
        });
    }
    for (const qualified of probe.tables) {
      const [schema, table] = qualified.split('.');
      if (schema === s.schema && !s.tables.includes(table))
        out.push({
          check: 'migrations',
          message: `migrations create ${qualified}, which is not listed under slice "${s.name}" tables in DOMAIN_REGISTRY.yaml`,
        });
    }
  }
  if (probe.driftQueries.length > 0) {
    const shown = probe.driftQueries
      .slice(0, 5)
      .map((q) => `    ${q.replace(/\s+/g, ' ').slice(0, 200)}`)
      .join('\n');
    out.push({
      check: 'migrations',
      message: `entities and migrations differ: a generated migration would not be empty (${probe.driftQueries.length} statement(s)):\n${shown}`,
    });
  }
  return out;
}

/** (d) every import between slice libs in the Nx project graph is allowed by `depends_on`. */
export function checkImports(root: string, slices: SliceEntry[], graph: SimpleProjectGraph): Finding[] {
  const out: Finding[] = [];
  const sliceByRoot = new Map(slices.filter((s) => s.lib).map((s) => [s.lib!.replace(/\/$/, ''), s]));
  const sliceOf = (project: string): SliceEntry | undefined => {
    const node = graph.nodes[project];
    return node ? sliceByRoot.get(node.root) : undefined;
  };
  for (const [source, deps] of Object.entries(graph.dependencies)) {
    const from = sliceOf(source);
    if (!from) continue;
    for (const d of deps) {
      const to = sliceOf(d.target);
      if (!to || to.name === from.name) continue;
      if (!from.depends_on.includes(to.name)) {
        const files = filesImporting(path.join(root, from.lib!), to.name).map((f) => rel(root, f));
        out.push({
          check: 'imports',
          message: `slice "${from.name}" imports slice "${to.name}"${files.length ? ` (${files.slice(0, 3).join(', ')})` : ''}, but DOMAIN_REGISTRY.yaml allows it to depend on: ${from.depends_on.join(', ') || 'nothing'}`,
        });
      }
    }
  }
  return out;
}

/** (e) no two registered ports collide, and every port or *_PORT variable in code is registered. */
export function checkPorts(root: string): Finding[] {
  const out: Finding[] = [];
  const ports = readPortRegistry(root);
  const seen = { port: new Map<number, string>(), env: new Map<string, string>(), name: new Set<string>() };
  for (const p of ports) {
    if (seen.port.has(p.port))
      out.push({
        check: 'ports',
        message: `PORT_REGISTRY.yaml: "${p.name}" and "${seen.port.get(p.port)}" both use port ${p.port}`,
      });
    if (seen.env.has(p.env))
      out.push({
        check: 'ports',
        message: `PORT_REGISTRY.yaml: "${p.name}" and "${seen.env.get(p.env)}" both use variable ${p.env}`,
      });
    if (seen.name.has(p.name))
      out.push({ check: 'ports', message: `PORT_REGISTRY.yaml: the name "${p.name}" is used twice` });
    seen.port.set(p.port, p.name);
    seen.env.set(p.env, p.name);
    seen.name.add(p.name);
  }
  const files = [...listTsFiles(path.join(root, 'apps')), ...listTsFiles(path.join(root, 'libs'))];
  for (const f of files) {
    for (const u of findPortUsages(f)) {
      const where = `${rel(root, f)}:${u.line} (${u.text})`;
      const byPort = u.port !== undefined ? ports.find((p) => p.port === u.port) : undefined;
      const byEnv = u.env !== undefined ? ports.find((p) => p.env === u.env) : undefined;
      if (u.port !== undefined && !byPort)
        out.push({ check: 'ports', message: `${where} uses port ${u.port}, which is not in PORT_REGISTRY.yaml` });
      if (u.env !== undefined && !byEnv)
        out.push({ check: 'ports', message: `${where} reads ${u.env}, which is not in PORT_REGISTRY.yaml` });
      if (byPort && byEnv && byPort !== byEnv)
        out.push({
          check: 'ports',
          message: `${where} pairs ${u.env} with port ${u.port}, but PORT_REGISTRY.yaml gives ${u.env} port ${byEnv.port}`,
        });
    }
  }
  return out;
}

/** The names a barrel exports, with the line of each; `export *` is reported as `*`. */
export function barrelExports(file: string): { name: string; line: number }[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: { name: string; line: number }[] = [];
  const lineOf = (i: number) => text.slice(0, i).split('\n').length;
  for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of m[1].split(',')) {
      const name = part
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop()!
        .trim();
      if (name) out.push({ name, line: lineOf(m.index!) });
    }
  }
  for (const m of text.matchAll(
    /export\s+(?:declare\s+)?(?:abstract\s+)?(?:const|let|function|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/g,
  ))
    out.push({ name: m[1], line: lineOf(m.index!) });
  for (const m of text.matchAll(/export\s+\*/g)) out.push({ name: '*', line: lineOf(m.index!) });
  return out;
}

const pascal = (s: string) => s.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());

/**
 * (f) a slice's barrel (src/index.ts) exports only what the registry lists for it: its module,
 * ports, events, types and kernel functions; and everything listed is exported.
 */
export function checkBarrels(root: string, slices: SliceEntry[]): Finding[] {
  const out: Finding[] = [];
  for (const s of slices.filter((x) => x.status === 'built' && x.lib)) {
    const file = path.join(root, s.lib!, 'src', 'index.ts');
    if (!fs.existsSync(file)) continue;
    const listed = new Set([`${pascal(s.name)}Module`, ...s.ports, ...s.events, ...s.types, ...s.kernel, ...s.errors]);
    const exported = barrelExports(file);
    for (const e of exported) {
      if (e.name === '*')
        out.push({
          check: 'barrels',
          message: `${s.lib}/src/index.ts:${e.line} uses "export *": a barrel names what it exports`,
        });
      else if (!listed.has(e.name)) {
        out.push({
          check: 'barrels',
          message: `${s.lib}/src/index.ts:${e.line} exports ${e.name}, which DOMAIN_REGISTRY.yaml does not list for slice "${s.name}" (ports, events, types, kernel or errors)`,
        });
      }
    }
    const names = new Set(exported.map((e) => e.name));
    for (const l of listed) {
      if (!names.has(l) && l !== `${pascal(s.name)}Module`)
        out.push({
          check: 'barrels',
          message: `DOMAIN_REGISTRY.yaml lists ${l} for slice "${s.name}", but ${s.lib}/src/index.ts does not export it`,
        });
    }
  }
  return out;
}

/**
 * (h) every port token a slice declares (`export const X = Symbol(` in application/ports) is
 * registered, among its ports (other slices inject it) or its repositories (internal); and every
 * registered repository is declared there and not exported from the barrel.
 */
export function checkPortTokens(root: string, slices: SliceEntry[]): Finding[] {
  const out: Finding[] = [];
  for (const s of slices.filter((x) => x.status === 'built' && x.lib)) {
    const dir = path.join(root, s.lib!, 'src', 'application', 'ports');
    const declared = new Map<string, string>();
    for (const f of fs.existsSync(dir) ? listTsFiles(dir).filter((x) => !x.endsWith('.spec.ts')) : []) {
      for (const m of fs.readFileSync(f, 'utf8').matchAll(/export const ([A-Z][A-Z0-9_]*)\s*=\s*Symbol\(/g))
        declared.set(m[1], rel(root, f));
    }
    for (const [token, file] of declared)
      if (!s.ports.includes(token) && !s.repositories.includes(token))
        out.push({
          check: 'ports',
          message: `${file} declares port ${token}, which DOMAIN_REGISTRY.yaml does not list for slice "${s.name}" (ports or repositories)`,
        });
    const barrel = path.join(root, s.lib!, 'src', 'index.ts');
    const exported = new Set(fs.existsSync(barrel) ? barrelExports(barrel).map((e) => e.name) : []);
    for (const r of s.repositories) {
      if (!declared.has(r))
        out.push({
          check: 'ports',
          message: `DOMAIN_REGISTRY.yaml lists repository ${r} for slice "${s.name}", but no file in ${s.lib}/src/application/ports declares it`,
        });
      if (exported.has(r))
        out.push({
          check: 'ports',
          message: `${s.lib}/src/index.ts exports repository ${r}: a repository port is the slice's own, reach the slice through its ports`,
        });
    }
  }
  return out;
}

/** (g) every controller of a slice lies under one of its HTTP prefixes. */
export function checkRoutes(root: string, slices: SliceEntry[]): Finding[] {
  const out: Finding[] = [];
  for (const s of slices.filter((x) => x.status === 'built' && x.lib)) {
    for (const f of listTsFiles(path.join(root, s.lib!, 'src')).filter((x) => !x.endsWith('.spec.ts'))) {
      const text = fs.readFileSync(f, 'utf8');
      for (const m of text.matchAll(/@Controller\(\s*(?:'([^']*)'|"([^"]*)"|`([^`]*)`)?\s*\)/g)) {
        const route = `/${(m[1] ?? m[2] ?? m[3] ?? '').replace(/^\/+|\/+$/g, '')}`;
        const ok = s.http_prefixes.some((p) => route === p || route.startsWith(`${p}/`));
        if (!ok) {
          out.push({
            check: 'routes',
            message: `${rel(root, f)}:${text.slice(0, m.index).split('\n').length} serves ${route}, outside slice "${s.name}"'s prefixes (${s.http_prefixes.join(', ')}); add it to http_prefixes in DOMAIN_REGISTRY.yaml or move the route`,
          });
        }
      }
    }
  }
  return out;
}

/** Runs every check; returns the findings (empty: the registries and the code agree). */
export async function checkRegistry(opts: CheckOptions): Promise<Finding[]> {
  let slices: SliceEntry[];
  try {
    slices = readDomainRegistry(opts.root);
  } catch (e) {
    if (e instanceof RegistryFormatError) return [{ check: 'registry', message: e.message }];
    throw e;
  }
  const findings: Finding[] = [
    ...checkLibs(opts.root, slices),
    ...checkEntities(opts.root, slices),
    ...checkBarrels(opts.root, slices),
    ...checkRoutes(opts.root, slices),
    ...checkPortTokens(opts.root, slices),
  ];
  try {
    findings.push(...checkPorts(opts.root));
  } catch (e) {
    if (e instanceof RegistryFormatError) findings.push({ check: 'registry', message: e.message });
    else throw e;
  }
  findings.push(...checkImports(opts.root, slices, opts.graph ?? readProjectGraph(opts.root)));
  if (!opts.skipDatabase) {
    if (!opts.databaseUrl) throw new Error('checkRegistry: databaseUrl is required unless skipDatabase is set');
    findings.push(...(await checkMigrations(opts.root, slices, opts.databaseUrl)));
  }
  return findings;
}
