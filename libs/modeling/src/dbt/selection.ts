/**
 * dbt's node selection: `--select`/`--exclude` with space-separated unions, comma intersections,
 * graph operators (`+x`, `x+`, `2+x`, `x+1`, `@x`), wildcards, and the methods `tag:`, `path:`,
 * `file:`, `fqn:`, `package:`, `config.<key>:`, `resource_type:`, `source:`, `test_type:`,
 * `test_name:`, `state:modified` (against a saved manifest) and plain names.
 */
import type { ManifestNode, SourceDefinition } from './manifest';

export interface SelectableGraph {
  nodes: Map<string, ManifestNode>;
  sources: Map<string, SourceDefinition>;
  /** parents by id (nodes and sources). */
  parents: Map<string, string[]>;
  children: Map<string, string[]>;
  /** A previous manifest's nodes (state:), by id: checksum and config. */
  state?: Map<string, { checksum: string; config: string }>;
}

export class SelectionError extends Error {}

function globToRegex(s: string): RegExp {
  return new RegExp(
    `^${s
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

function matchesMethod(g: SelectableGraph, id: string, method: string, value: string): boolean {
  const n = g.nodes.get(id);
  const s = g.sources.get(id);
  const v = value;
  const glob = globToRegex(v);
  switch (method) {
    case 'tag':
      return (n?.tags ?? s?.tags ?? []).some((t) => glob.test(t));
    case 'path':
    case 'file': {
      const p = n?.original_file_path ?? s?.original_file_path ?? '';
      const norm = v.replace(/\/+$/, '');
      if (method === 'file') return p.split('/').pop() === v || glob.test(p.split('/').pop() ?? '');
      return p === norm || p.startsWith(`${norm}/`) || glob.test(p);
    }
    case 'package':
      return (n?.package_name ?? s?.package_name) === v;
    case 'resource_type':
      return (n?.resource_type ?? s?.resource_type) === v;
    case 'source': {
      if (!s) return false;
      const parts = v.split('.');
      if (parts.length === 1) return glob.test(s.source_name);
      if (parts.length === 2) return globToRegex(parts[0]).test(s.source_name) && globToRegex(parts[1]).test(s.name);
      return s.package_name === parts[0] && s.source_name === parts[1] && globToRegex(parts[2]).test(s.name);
    }
    case 'fqn':
      return fqnMatch(n?.fqn ?? s?.fqn ?? [], v);
    case 'test_type':
      if (n?.resource_type !== 'test') return false;
      return v === 'generic' || v === 'schema'
        ? !!n.test_metadata
        : v === 'singular' || v === 'data'
          ? !n.test_metadata
          : false;
    case 'test_name':
      return !!n?.test_metadata && glob.test(n.test_metadata.name);
    case 'state': {
      if (!g.state)
        throw new SelectionError('state: selection needs a saved manifest (--state <dir with manifest.json>)');
      if (!n) return false;
      const old = g.state.get(id);
      if (v === 'new') return !old;
      if (v === 'modified' || v.startsWith('modified'))
        return (
          !old ||
          old.checksum !== n.checksum.checksum ||
          (v !== 'modified.body' && old.config !== JSON.stringify(n.config))
        );
      if (v === 'unmodified') return !!old && old.checksum === n.checksum.checksum;
      if (v === 'old') return !!old;
      return false;
    }
    default:
      if (method.startsWith('config.')) {
        const key = method.slice('config.'.length);
        const cfg = (n?.config ?? s?.config ?? {}) as Record<string, unknown>;
        const cv = cfg[key];
        if (Array.isArray(cv)) return cv.some((x) => glob.test(String(x)));
        return cv !== undefined && cv !== null && glob.test(String(cv));
      }
      throw new SelectionError(`'${method}' is not a valid method name`);
  }
}

function fqnMatch(fqn: string[], v: string): boolean {
  const parts = v.split('.');
  if (parts.length === 1) {
    // a bare name: the node name, the package, or any folder of the fqn
    const g = globToRegex(v);
    return g.test(fqn[fqn.length - 1]) || fqn.slice(0, -1).some((p) => p === v);
  }
  // a dotted path: a prefix of the fqn (or of the fqn without its package)
  const match = (f: string[]) => parts.every((p, i) => i < f.length && globToRegex(p).test(f[i]));
  return match(fqn) || match(fqn.slice(1));
}

function ancestors(g: SelectableGraph, id: string, depth: number, acc: Set<string>): void {
  if (depth === 0) return;
  for (const p of g.parents.get(id) ?? []) {
    if (acc.has(p)) continue;
    acc.add(p);
    ancestors(g, p, depth - 1, acc);
  }
}

function descendants(g: SelectableGraph, id: string, depth: number, acc: Set<string>): void {
  if (depth === 0) return;
  for (const c of g.children.get(id) ?? []) {
    if (acc.has(c)) continue;
    acc.add(c);
    descendants(g, c, depth - 1, acc);
  }
}

/** The ids one selector term selects (`+tag:nightly+2`). */
function selectTerm(g: SelectableGraph, term: string): Set<string> {
  let t = term;
  let at = false;
  let up = 0;
  let down = 0;
  if (t.startsWith('@')) {
    at = true;
    t = t.slice(1);
  }
  const pre = /^(\d*)\+/.exec(t);
  if (pre) {
    up = pre[1] ? Number(pre[1]) : Infinity;
    t = t.slice(pre[0].length);
  }
  const post = /\+(\d*)$/.exec(t);
  if (post && !t.endsWith(':+')) {
    down = post[1] ? Number(post[1]) : Infinity;
    t = t.slice(0, t.length - post[0].length);
  }
  let method = 'fqn';
  let value = t;
  const colon = t.indexOf(':');
  if (colon > 0) {
    method = t.slice(0, colon);
    value = t.slice(colon + 1);
  } else if (t.includes('/') || t.includes('\\')) {
    // dbt's default method: a path when it looks like one, a file by its extension, else an fqn
    method = 'path';
  } else if (/\.(sql|py|csv)$/i.test(t)) {
    method = 'file';
  }
  const base = new Set<string>();
  for (const id of [...g.nodes.keys(), ...g.sources.keys()]) if (matchesMethod(g, id, method, value)) base.add(id);
  const out = new Set(base);
  for (const id of base) {
    if (up) ancestors(g, id, up, out);
    if (down || at) descendants(g, id, at ? Infinity : down, out);
  }
  if (at) for (const id of [...out]) ancestors(g, id, Infinity, out);
  return out;
}

/** `--select a b,c` → a ∪ (b ∩ c). An empty list selects everything. */
export function select(
  g: SelectableGraph,
  selectors: string[] | undefined,
  exclude: string[] | undefined,
): Set<string> {
  const all = new Set([...g.nodes.keys(), ...g.sources.keys()]);
  const evalList = (list: string[]) => {
    const out = new Set<string>();
    for (const union of list.flatMap((s) => s.split(/\s+/)).filter(Boolean)) {
      const parts = union.split(',').map((p) => selectTerm(g, p));
      const inter = parts.reduce((acc, s) => new Set([...acc].filter((x) => s.has(x))));
      for (const x of inter) out.add(x);
    }
    return out;
  };
  const selected = selectors && selectors.length ? evalList(selectors) : all;
  if (exclude && exclude.length) for (const x of evalList(exclude)) selected.delete(x);
  return selected;
}
