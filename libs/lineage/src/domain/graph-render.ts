/**
 * Pictures of a Marquez-compatible lineage graph (the one `GET /api/v1/lineage` and
 * `GET /api/v1/column-lineage` return): Mermaid flowchart text, Graphviz DOT text and SVG
 * (DOT laid out by the WebAssembly build of Graphviz, `@viz-js/viz`).
 *
 * Rules shared by the three formats:
 * - nodes are sorted by id (UTF-16 code unit order, locale independent) and get generated ids
 *   (`n0`, `n1`, …) in that order, so the output is deterministic and user text is never an id;
 * - labels come from `data` (never from splitting the id, names may contain `:`), escaped for the
 *   target language so that no name can leave its label;
 * - every edge appears in the origin's `outEdges` and in the destination's `inEdges`: it is drawn
 *   once; edges to nodes that are not in the list are dropped;
 * - DATASET_FIELD nodes are grouped per dataset (Mermaid `subgraph`, DOT `cluster_<n>`);
 * - more than `maxNodes` nodes (default {@link DEFAULT_MAX_NODES}) throws {@link GraphTooLargeError}.
 */
import type { Viz } from '@viz-js/viz' with { 'resolution-mode': 'import' };

export type LineageNodeType = 'DATASET' | 'JOB' | 'DATASET_FIELD';

/** A directed edge between two node ids. */
export interface LineageEdge {
  origin: string;
  destination: string;
}

/** A node of the Marquez lineage graph. */
export interface LineageNode {
  /** `dataset:<namespace>:<name>`, `job:<namespace>:<name>` or `datasetField:<namespace>:<dataset>:<field>`. */
  id: string;
  type: LineageNodeType;
  /**
   * DATASET: `{ namespace, name, fields?: [{ name, type }], … }`; JOB: `{ namespace, name, type?, … }`;
   * DATASET_FIELD: `{ namespace, dataset, field, type?, inputFields?: [{ namespace, dataset, field, transformationType?, transformationSubtype? }] }`.
   */
  data: Record<string, unknown>;
  inEdges: LineageEdge[];
  outEdges: LineageEdge[];
}

/** Options of {@link toMermaid}, {@link toDot} and {@link toSvg}. */
export interface GraphRenderOptions {
  /** Id of the node to highlight (ignored when it is not in the list). */
  focus?: string;
  /** Label of an edge; `undefined` or `''` draws it without one. Called once per distinct edge. */
  edgeLabel?: (e: LineageEdge) => string | undefined;
  /** Largest number of distinct nodes rendered; above it {@link GraphTooLargeError} is thrown. Default {@link DEFAULT_MAX_NODES}. */
  maxNodes?: number;
}

/** Default node limit of the three renderers. */
export const DEFAULT_MAX_NODES = 2000;

/** The graph has more nodes than the renderer accepts (answer 422, ask for a smaller depth). */
export class GraphTooLargeError extends Error {
  constructor(
    /** Distinct nodes in the graph. */
    readonly nodeCount: number,
    /** The limit that was exceeded. */
    readonly maxNodes: number,
  ) {
    super(
      `lineage graph has ${nodeCount} nodes, more than the ${maxNodes} that can be rendered as a picture; ask for a smaller depth`,
    );
    this.name = 'GraphTooLargeError';
  }
}

/** Graphviz could not lay out or render the DOT text. */
export class GraphRenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GraphRenderError';
  }
}

interface PNode {
  key: string;
  node: LineageNode;
  /** label lines, raw (unescaped) */
  lines: string[];
  shape: 'dataset' | 'job' | 'field' | 'other';
}
interface PGroup {
  key: string;
  title: string[];
  members: PNode[];
}
interface PEdge {
  from: string;
  to: string;
  label?: string;
}
interface Prepared {
  /** nodes not in a field group, sorted by id */
  plain: PNode[];
  /** field groups, in the order of their first member */
  groups: PGroup[];
  edges: PEdge[];
  focusKey?: string;
}

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const text = (data: Record<string, unknown>, key: string): string | undefined => {
  const v = data?.[key];
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return undefined;
};

/** Control characters become spaces, every kind of line break becomes `\n`. */
const clean = (s: string): string =>
  s
    .replace(/\r\n?|[\u2028\u2029\u0085\v\f]/g, '\n')
    .replace(/[\u0000-\u0008\u000e-\u001f\u007f-\u0084\u0086-\u009f\t]/g, ' ');

function labelOf(node: LineageNode): Pick<PNode, 'lines' | 'shape'> {
  const d = node.data ?? {};
  const withNs = (name: string | undefined): string[] => {
    const ns = text(d, 'namespace');
    return name === undefined ? [node.id] : ns === undefined ? [name] : [name, ns];
  };
  switch (node.type) {
    case 'DATASET':
      return { shape: 'dataset', lines: withNs(text(d, 'name')) };
    case 'JOB':
      return { shape: 'job', lines: withNs(text(d, 'name')) };
    case 'DATASET_FIELD': {
      const field = text(d, 'field');
      const type = text(d, 'type');
      return { shape: 'field', lines: field === undefined ? [node.id] : type === undefined ? [field] : [field, type] };
    }
    default:
      return { shape: 'other', lines: [String(node.id)] };
  }
}

/** Sorts, numbers, groups and deduplicates; throws {@link GraphTooLargeError} above the limit. */
function prepare(input: readonly LineageNode[], opts: GraphRenderOptions = {}): Prepared {
  const max = opts.maxNodes ?? DEFAULT_MAX_NODES;
  const merged = new Map<string, LineageNode>();
  for (const n of input) {
    const seen = merged.get(n.id);
    if (seen)
      merged.set(n.id, {
        ...seen,
        inEdges: [...(seen.inEdges ?? []), ...(n.inEdges ?? [])],
        outEdges: [...(seen.outEdges ?? []), ...(n.outEdges ?? [])],
      });
    else merged.set(n.id, n);
  }
  if (merged.size > max) throw new GraphTooLargeError(merged.size, max);

  const ids = [...merged.keys()].sort(byId);
  const keyOf = new Map(ids.map((id, i) => [id, `n${i}`]));
  const plain: PNode[] = [];
  const groups = new Map<string, PGroup>();
  for (const id of ids) {
    const node = merged.get(id) as LineageNode;
    const p: PNode = { key: keyOf.get(id) as string, node, ...labelOf(node) };
    const ns = text(node.data ?? {}, 'namespace');
    const ds = text(node.data ?? {}, 'dataset');
    if (p.shape !== 'field' || ns === undefined || ds === undefined) {
      plain.push(p);
      continue;
    }
    const gk = JSON.stringify([ns, ds]);
    let g = groups.get(gk);
    if (!g) groups.set(gk, (g = { key: String(groups.size), title: [ds, ns], members: [] }));
    g.members.push(p);
  }

  const edges = new Map<string, LineageEdge>();
  for (const id of ids) {
    const node = merged.get(id) as LineageNode;
    for (const e of [...(node.outEdges ?? []), ...(node.inEdges ?? [])]) {
      if (!e || !keyOf.has(e.origin) || !keyOf.has(e.destination)) continue;
      const k = JSON.stringify([e.origin, e.destination]);
      if (!edges.has(k)) edges.set(k, e);
    }
  }
  const sorted = [...edges.values()].sort((a, b) => byId(a.origin, b.origin) || byId(a.destination, b.destination));
  return {
    plain,
    groups: [...groups.values()],
    edges: sorted.map((e) => ({
      from: keyOf.get(e.origin) as string,
      to: keyOf.get(e.destination) as string,
      label: opts.edgeLabel?.({ origin: e.origin, destination: e.destination }) || undefined,
    })),
    focusKey: opts.focus === undefined ? undefined : keyOf.get(opts.focus),
  };
}

// ---------------------------------------------------------------------------------------- Mermaid

/** Kept as is; everything else becomes a Mermaid entity code: `#quot;` (documented) or decimal (`#60;`, `#58;`, …). */
const MERMAID_SAFE = /^[\p{L}\p{M}\p{N} ._\-/,+=@$!?*'()]$/u;

/**
 * Escapes one line of label text for a double-quoted Mermaid label. Anything outside letters,
 * digits, space and `._-/,+=@$!?*'()` becomes an entity code, so quotes, brackets, pipes, `;`,
 * `%%`, backticks and `:` (Mermaid rewrites `style…:…#…;` lines before parsing) cannot end the
 * label, start a directive or a click handler.
 */
export function escapeMermaid(s: string): string {
  let out = '';
  for (const ch of clean(s)) {
    if (MERMAID_SAFE.test(ch)) out += ch;
    else out += ch === '"' ? '#quot;' : `#${ch.codePointAt(0) as number};`;
  }
  return out;
}

const mermaidLabel = (lines: string[]): string =>
  `"${lines
    .flatMap((l) => clean(l).split('\n'))
    .map(escapeMermaid)
    .join('<br/>')}"`;

function mermaidNode(p: PNode): string {
  const label = mermaidLabel(p.lines);
  switch (p.shape) {
    case 'dataset':
      return `${p.key}[(${label})]`;
    case 'job':
      return `${p.key}([${label}])`;
    default:
      return `${p.key}[${label}]`;
  }
}

/**
 * Mermaid `flowchart LR` of the graph: datasets as cylinders, jobs as stadiums, fields as
 * rectangles inside one `subgraph` per dataset, the focus node in class `focus`.
 *
 * @throws GraphTooLargeError above `opts.maxNodes` nodes.
 */
export function toMermaid(nodes: readonly LineageNode[], opts?: GraphRenderOptions): string {
  const g = prepare(nodes, opts);
  const out = ['flowchart LR'];
  for (const p of g.plain) out.push(`  ${mermaidNode(p)}`);
  for (const grp of g.groups) {
    out.push(`  subgraph g${grp.key}[${mermaidLabel(grp.title)}]`);
    for (const p of grp.members) out.push(`    ${mermaidNode(p)}`);
    out.push('  end');
  }
  for (const e of g.edges)
    out.push(e.label === undefined ? `  ${e.from} --> ${e.to}` : `  ${e.from} -->|${mermaidLabel([e.label])}| ${e.to}`);
  if (g.focusKey !== undefined) {
    out.push('  classDef focus fill:#fde68a,stroke:#b45309,stroke-width:3px');
    out.push(`  class ${g.focusKey} focus`);
  }
  return `${out.join('\n')}\n`;
}

// -------------------------------------------------------------------------------------------- DOT

/**
 * A DOT double-quoted string: `\` and `"` are backslash-escaped (so `\N`, `\G`, `\l` in a name
 * stay literal) and line breaks become the `\n` label escape.
 */
export function quoteDot(s: string): string {
  return `"${clean(s)
    .replace(/[\\"]/g, (c) => `\\${c}`)
    .replace(/\n/g, '\\n')}"`;
}

const dotLabel = (lines: string[]): string => quoteDot(lines.join('\n'));
const attrs = (a: Array<[string, string]>): string => `[${a.map(([k, v]) => `${k}=${v}`).join(', ')}]`;

function dotNode(p: PNode, focus: boolean): string {
  const a: Array<[string, string]> = [['label', dotLabel(p.lines)]];
  const style: string[] = [];
  if (p.shape === 'dataset') a.push(['shape', 'cylinder']);
  else if (p.shape === 'job') {
    a.push(['shape', 'box']);
    style.push('rounded');
  } else a.push(['shape', 'box']);
  if (focus) {
    style.push('filled', 'bold');
    a.push(['fillcolor', '"#fde68a"'], ['color', '"#b45309"'], ['penwidth', '2']);
  }
  if (style.length) a.push(['style', `"${style.join(',')}"`]);
  return `${p.key} ${attrs(a)};`;
}

/**
 * Graphviz DOT (`digraph lineage { rankdir=LR; … }`) of the graph: datasets as cylinders, jobs as
 * rounded boxes, fields as boxes inside one `subgraph cluster_<n>` per dataset, the focus node
 * filled and bold.
 *
 * @throws GraphTooLargeError above `opts.maxNodes` nodes.
 */
export function toDot(nodes: readonly LineageNode[], opts?: GraphRenderOptions): string {
  const g = prepare(nodes, opts);
  const out = [
    'digraph lineage {',
    '  rankdir=LR;',
    '  node [fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  for (const p of g.plain) out.push(`  ${dotNode(p, p.key === g.focusKey)}`);
  for (const grp of g.groups) {
    out.push(`  subgraph cluster_${grp.key} {`, `    label=${dotLabel(grp.title)};`, '    style=rounded;');
    for (const p of grp.members) out.push(`    ${dotNode(p, p.key === g.focusKey)}`);
    out.push('  }');
  }
  for (const e of g.edges)
    out.push(
      e.label === undefined ? `  ${e.from} -> ${e.to};` : `  ${e.from} -> ${e.to} [label=${quoteDot(e.label)}];`,
    );
  out.push('}');
  return `${out.join('\n')}\n`;
}

// -------------------------------------------------------------------------------------------- SVG

let viz: Promise<Viz> | undefined;

/**
 * The Graphviz instance, created on first use and reused. `@viz-js/viz` is an ES module package
 * with a CommonJS build (`dist/viz.cjs`, its `require` export condition): it is `require`d here, lazily
 * (1.2 MB of WebAssembly), which works the same under Jest (@swc/jest), swc-node and the compiled dist.
 */
function graphviz(): Promise<Viz> {
  if (!viz) {
    const mod = require('@viz-js/viz') as { instance(): Promise<Viz> };
    viz = mod.instance().catch((err: unknown) => {
      viz = undefined; // try again next time
      throw err;
    });
  }
  return viz;
}

/**
 * SVG of {@link toDot}'s output, laid out by Graphviz `dot`. Rendering is synchronous WebAssembly
 * (it holds the event loop for its duration, see the node limit).
 *
 * @throws GraphTooLargeError above `opts.maxNodes` nodes (before Graphviz is loaded).
 * @throws GraphRenderError when Graphviz fails.
 */
export async function toSvg(nodes: readonly LineageNode[], opts?: GraphRenderOptions): Promise<string> {
  const dot = toDot(nodes, opts);
  const instance = await graphviz();
  const result = instance.render(dot, { format: 'svg', engine: 'dot' });
  if (result.status !== 'success') {
    throw new GraphRenderError(
      `graphviz failed: ${result.errors.map((e) => e.message.trim()).join('; ') || 'unknown error'}`,
    );
  }
  return result.output;
}
