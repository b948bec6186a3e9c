import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

export const DOMAIN_REGISTRY_PATH = '.ai/project/DOMAIN_REGISTRY.yaml';
export const PORT_REGISTRY_PATH = '.ai/project/PORT_REGISTRY.yaml';

export interface SliceEntry {
  name: string;
  status: 'built' | 'planned';
  lib?: string;
  schema: string;
  purpose: string;
  http_prefix: string;
  /** `http_prefix` and the other prefixes the slice's controllers may use (`http_prefixes` in the file). */
  http_prefixes: string[];
  tables: string[];
  /** Nest tokens and the classes other slices or apps inject (port tokens, modules' services). */
  ports: string[];
  /** Event channels and their payload types (topics, emitters). */
  events: string[];
  /** Types (interfaces, DTO shapes) the barrel exports. */
  types: string[];
  /** Pure domain functions and constants other slices may call (the shared kernel of the slice). */
  kernel: string[];
  /** Error classes (of `<slice>.errors.ts`) other slices or apps throw or match. */
  errors: string[];
  /** The slice's own repository ports (tokens in application/ports, not exported from the barrel). */
  repositories: string[];
  depends_on: string[];
}

export interface PortEntry {
  name: string;
  port: number;
  env: string;
  process?: string;
  protocol?: string;
  purpose?: string;
}

/** A registry file that cannot be read or is malformed. */
export class RegistryFormatError extends Error {}

const NAME = /^[a-z][a-z0-9_]*$/;

function asStringList(v: unknown, where: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw new RegistryFormatError(`${where} must be a list of strings`);
  return v as string[];
}

/** Reads and validates DOMAIN_REGISTRY.yaml (structure, names, dependency targets, no cycles). */
export function readDomainRegistry(root: string): SliceEntry[] {
  const file = path.join(root, DOMAIN_REGISTRY_PATH);
  if (!fs.existsSync(file)) throw new RegistryFormatError(`${DOMAIN_REGISTRY_PATH} is missing`);
  const doc = parse(fs.readFileSync(file, 'utf8')) as { slices?: Record<string, Record<string, unknown>> };
  if (!doc || typeof doc.slices !== 'object' || doc.slices === null)
    throw new RegistryFormatError(`${DOMAIN_REGISTRY_PATH}: top-level "slices" map is missing`);
  const slices: SliceEntry[] = [];
  for (const [name, raw] of Object.entries(doc.slices)) {
    const where = `${DOMAIN_REGISTRY_PATH}: slice "${name}"`;
    if (!NAME.test(name)) throw new RegistryFormatError(`${where}: name must be lower_snake_case`);
    if (typeof raw !== 'object' || raw === null) throw new RegistryFormatError(`${where} must be a map`);
    const status = raw['status'];
    if (status !== 'built' && status !== 'planned')
      throw new RegistryFormatError(`${where}: status must be "built" or "planned"`);
    const lib = raw['lib'];
    if (status === 'built' && typeof lib !== 'string')
      throw new RegistryFormatError(`${where}: a built slice needs "lib"`);
    if (status === 'planned' && lib !== undefined)
      throw new RegistryFormatError(`${where}: a planned slice has no "lib" yet`);
    for (const key of ['schema', 'purpose', 'http_prefix']) {
      if (typeof raw[key] !== 'string' || (raw[key] as string).trim() === '')
        throw new RegistryFormatError(`${where}: "${key}" is required`);
    }
    if (raw['http_prefix'] !== `/api/${name}`)
      throw new RegistryFormatError(`${where}: http_prefix must be /api/${name}`);
    const more = asStringList(raw['http_prefixes'], `${where}: http_prefixes`);
    for (const m of more)
      if (!/^\/[a-z0-9/_-]*[a-z0-9]$/.test(m))
        throw new RegistryFormatError(`${where}: http_prefixes entry "${m}" must be a path like /api/v1`);
    slices.push({
      name,
      status,
      lib: typeof lib === 'string' ? lib : undefined,
      schema: raw['schema'] as string,
      purpose: raw['purpose'] as string,
      http_prefix: raw['http_prefix'] as string,
      http_prefixes: [raw['http_prefix'] as string, ...more],
      tables: asStringList(raw['tables'], `${where}: tables`),
      ports: asStringList(raw['ports'], `${where}: ports`),
      events: asStringList(raw['events'], `${where}: events`),
      types: asStringList(raw['types'], `${where}: types`),
      kernel: asStringList(raw['kernel'], `${where}: kernel`),
      errors: asStringList(raw['errors'], `${where}: errors`),
      repositories: asStringList(raw['repositories'], `${where}: repositories`),
      depends_on: asStringList(raw['depends_on'], `${where}: depends_on`),
    });
  }
  const names = new Set(slices.map((s) => s.name));
  for (const s of slices) {
    for (const d of s.depends_on) {
      if (!names.has(d))
        throw new RegistryFormatError(`${DOMAIN_REGISTRY_PATH}: slice "${s.name}" depends on unknown slice "${d}"`);
      if (d === s.name) throw new RegistryFormatError(`${DOMAIN_REGISTRY_PATH}: slice "${s.name}" depends on itself`);
    }
  }
  const cycle = findCycle(slices);
  if (cycle) throw new RegistryFormatError(`${DOMAIN_REGISTRY_PATH}: dependency cycle ${cycle.join(' -> ')}`);
  return slices;
}

function findCycle(slices: SliceEntry[]): string[] | undefined {
  const deps = new Map(slices.map((s) => [s.name, s.depends_on]));
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 2) return undefined;
    if (state.get(n) === 1) return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 1);
    stack.push(n);
    for (const d of deps.get(n) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const s of slices) {
    const c = visit(s.name);
    if (c) return c;
  }
  return undefined;
}

/** Reads PORT_REGISTRY.yaml. */
export function readPortRegistry(root: string): PortEntry[] {
  const file = path.join(root, PORT_REGISTRY_PATH);
  if (!fs.existsSync(file)) throw new RegistryFormatError(`${PORT_REGISTRY_PATH} is missing`);
  const doc = parse(fs.readFileSync(file, 'utf8')) as { ports?: unknown };
  if (!doc || !Array.isArray(doc.ports))
    throw new RegistryFormatError(`${PORT_REGISTRY_PATH}: top-level "ports" list is missing`);
  return doc.ports.map((raw: Record<string, unknown>, i: number) => {
    const where = `${PORT_REGISTRY_PATH}: entry ${i + 1}`;
    if (typeof raw?.['name'] !== 'string') throw new RegistryFormatError(`${where}: "name" is required`);
    if (typeof raw['port'] !== 'number' || !Number.isInteger(raw['port']) || raw['port'] < 1 || raw['port'] > 65535) {
      throw new RegistryFormatError(`${where} (${raw['name']}): "port" must be an integer 1-65535`);
    }
    if (typeof raw['env'] !== 'string')
      throw new RegistryFormatError(`${where} (${raw['name']}): "env" (the variable that overrides it) is required`);
    return raw as unknown as PortEntry;
  });
}
