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
 * - a column edge is DIRECT when one of the transformations its destination lists for its origin
 *   (`inputFields`) is DIRECT (the value flows), INDIRECT when they all are INDIRECT (it only
 *   shapes the value: join, filter, group by, …): direct edges are solid and blue, indirect ones
 *   dashed and violet, edges whose kind is not given plain;
 * - every picture ends with a legend of what it shows (node kinds, the focus, edge kinds; both
 *   column edge kinds as soon as there is a column edge);
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
/** How an edge is drawn: a dataset/job edge, or a column edge of a kind (`column`: kind not given). */
export type EdgeKind = 'flow' | 'direct' | 'indirect' | 'column';
interface PEdge {
  from: string;
  to: string;
  label?: string;
  kind: EdgeKind;
  /** A column edge's transformations (`DIRECT/IDENTITY, INDIRECT/FILTER`), when given. */
  transformations?: string;
}
/** An entry of the legend. */
type LegendItem = 'dataset' | 'job' | 'field' | 'focus' | EdgeKind;
interface Prepared {
  /** nodes not in a field group, sorted by id */
  plain: PNode[];
  /** field groups, in the order of their first member */
  groups: PGroup[];
  edges: PEdge[];
  focusKey?: string;
  /** what the legend lists, in this order */
  legend: LegendItem[];
}

/** Colours and texts of the legend, shared by the formats. */
const EDGE_COLOUR = { direct: '#1d4ed8', indirect: '#7c3aed' } as const;
const LEGEND_TEXT: Record<LegendItem, string> = {
  dataset: 'dataset',
  job: 'job',
  field: 'column (in a box per dataset)',
  focus: 'the node asked for',
  flow: 'read / written by a job',
  direct: 'direct: the value flows (identity, transformation, aggregation)',
  indirect: 'indirect: shapes the value (join, filter, group by, sort, window, conditional)',
  column: 'column lineage, kind not given',
};
const LEGEND_ORDER: LegendItem[] = ['dataset', 'job', 'field', 'focus', 'flow', 'direct', 'indirect', 'column'];

/**
 * The kind of an edge: between two DATASET_FIELD nodes, from the transformations the destination
 * lists for the origin (`inputFields[].transformations[].type`, or Marquez's `transformationType`).
 */
function edgeKind(origin: LineageNode, destination: LineageNode): Pick<PEdge, 'kind' | 'transformations'> {
  if (origin.type !== 'DATASET_FIELD' || destination.type !== 'DATASET_FIELD') return { kind: 'flow' };
  const o = origin.data ?? {};
  const inputs = (destination.data ?? {})['inputFields'];
  const input = Array.isArray(inputs)
    ? (inputs as Record<string, unknown>[]).find(
        (i) =>
          i &&
          text(i, 'namespace') === text(o, 'namespace') &&
          text(i, 'dataset') === text(o, 'dataset') &&
          text(i, 'field') === text(o, 'field'),
      )
    : undefined;
  if (!input) return { kind: 'column' };
  const listed = Array.isArray(input['transformations'])
    ? (input['transformations'] as Record<string, unknown>[]).filter((t) => t && text(t, 'type'))
    : [];
  const types = listed.length ? listed.map((t) => text(t, 'type') as string) : [text(input, 'transformationType')];
  const transformations = listed.length
    ? listed.map((t) => [text(t, 'type'), text(t, 'subtype')].filter(Boolean).join('/')).join(', ')
    : text(input, 'transformationDescription');
  const kind: EdgeKind = types.includes('DIRECT') ? 'direct' : types.includes('INDIRECT') ? 'indirect' : 'column';
  return { kind, ...(transformations ? { transformations } : {}) };
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
  const drawn: PEdge[] = sorted.map((e) => ({
    from: keyOf.get(e.origin) as string,
    to: keyOf.get(e.destination) as string,
    label: opts.edgeLabel?.({ origin: e.origin, destination: e.destination }) || undefined,
    ...edgeKind(merged.get(e.origin) as LineageNode, merged.get(e.destination) as LineageNode),
  }));
  const focusKey = opts.focus === undefined ? undefined : keyOf.get(opts.focus);
  const shown = new Set<LegendItem>();
  for (const p of [...plain, ...[...groups.values()].flatMap((g) => g.members)])
    if (p.shape !== 'other') shown.add(p.shape);
  for (const e of drawn) shown.add(e.kind);
  // the two kinds of column edge go together: one tells what the other is not
  if (shown.has('direct') || shown.has('indirect') || shown.has('column')) shown.add('direct').add('indirect');
  if (focusKey !== undefined) shown.add('focus');
  return {
    plain,
    groups: [...groups.values()],
    edges: drawn,
    focusKey,
    legend: ids.length ? LEGEND_ORDER.filter((i) => shown.has(i)) : [],
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

/** Mermaid's link of an edge kind: indirect edges dotted (`-.->`), the others solid. */
const mermaidArrow = (kind: EdgeKind): string => (kind === 'indirect' ? '-.->' : '-->');
/** `linkStyle` of a column edge kind (flow and kind-not-given edges keep Mermaid's default). */
const MERMAID_LINK_STYLE: Partial<Record<EdgeKind, string>> = {
  direct: `stroke:${EDGE_COLOUR.direct},stroke-width:2px`,
  indirect: `stroke:${EDGE_COLOUR.indirect},stroke-width:1.5px,stroke-dasharray:6 4`,
};

/**
 * Mermaid `flowchart LR` of the graph: datasets as cylinders, jobs as stadiums, fields as
 * rectangles inside one `subgraph` per dataset, the focus node in class `focus`; direct column
 * edges solid and blue, indirect ones dotted and violet (`linkStyle`), and a `legend` subgraph.
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
  // linkStyle addresses links by their position in the text
  const styled = new Map<EdgeKind, number[]>();
  let link = 0;
  const styleLink = (kind: EdgeKind) => {
    if (MERMAID_LINK_STYLE[kind]) styled.set(kind, [...(styled.get(kind) ?? []), link]);
    link++;
  };
  for (const e of g.edges) {
    const arrow = mermaidArrow(e.kind);
    out.push(
      e.label === undefined
        ? `  ${e.from} ${arrow} ${e.to}`
        : `  ${e.from} ${arrow}|${mermaidLabel([e.label])}| ${e.to}`,
    );
    styleLink(e.kind);
  }
  if (g.legend.length) {
    out.push(`  subgraph legend[${mermaidLabel(['Legend'])}]`, '    direction LR');
    for (const item of g.legend) {
      const label = mermaidLabel([LEGEND_TEXT[item]]);
      if (item === 'dataset') out.push(`    legend_dataset[(${label})]`);
      else if (item === 'job') out.push(`    legend_job([${label}])`);
      else if (item === 'field' || item === 'focus') out.push(`    legend_${item}[${label}]`);
      else {
        out.push(`    legend_${item}_from[" "] ${mermaidArrow(item)}|${label}| legend_${item}_to[" "]`);
        styleLink(item);
      }
    }
    out.push('  end');
  }
  for (const [kind, links] of styled) out.push(`  linkStyle ${links.join(',')} ${MERMAID_LINK_STYLE[kind]}`);
  if (g.focusKey !== undefined) {
    out.push('  classDef focus fill:#fde68a,stroke:#b45309,stroke-width:3px');
    out.push(`  class ${g.focusKey}${g.legend.includes('focus') ? ',legend_focus' : ''} focus`);
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

/** DOT attributes of an edge kind (flow and kind-not-given edges keep the defaults). */
const DOT_EDGE: Partial<Record<EdgeKind, Array<[string, string]>>> = {
  direct: [
    ['style', 'solid'],
    ['color', `"${EDGE_COLOUR.direct}"`],
    ['penwidth', '1.6'],
  ],
  indirect: [
    ['style', 'dashed'],
    ['color', `"${EDGE_COLOUR.indirect}"`],
  ],
};

function dotEdge(e: PEdge): string {
  const a: Array<[string, string]> = [];
  if (e.label !== undefined) a.push(['label', quoteDot(e.label)]);
  if (DOT_EDGE[e.kind]) a.push(...DOT_EDGE[e.kind]!, ['class', `"${e.kind}"`]);
  if (e.transformations) a.push(['tooltip', quoteDot(e.transformations)]);
  return a.length ? `${e.from} -> ${e.to} ${attrs(a)};` : `${e.from} -> ${e.to};`;
}

/** The legend: a cluster of sample nodes and edges, in class `legend` (SVG). */
function dotLegend(items: LegendItem[]): string[] {
  if (!items.length) return [];
  const out = [
    '  subgraph cluster_legend {',
    `    label=${quoteDot('Legend')};`,
    '    style="rounded,dashed";',
    '    color="#9ca3af";',
    '    class="legend";',
    '    node [fontsize=9, class="legend"];',
    '    edge [fontsize=9, class="legend"];',
  ];
  for (const item of items) {
    const label = quoteDot(LEGEND_TEXT[item]);
    if (item === 'dataset') out.push(`    legend_dataset [label=${label}, shape=cylinder];`);
    else if (item === 'job') out.push(`    legend_job [label=${label}, shape=box, style="rounded"];`);
    else if (item === 'field') out.push(`    legend_field [label=${label}, shape=box];`);
    else if (item === 'focus')
      out.push(
        `    legend_focus [label=${label}, shape=box, fillcolor="#fde68a", color="#b45309", penwidth=2, style="filled,bold"];`,
      );
    else {
      // a sample arrow between two dots, its meaning as its label
      out.push(
        `    legend_${item}_from [label="", shape=point, width=0.06];`,
        `    legend_${item}_to [label="", shape=point, width=0.06];`,
        `    legend_${item}_from -> legend_${item}_to ${attrs([['label', label], ...(DOT_EDGE[item] ?? [])])};`,
      );
    }
  }
  out.push('  }');
  return out;
}

/**
 * Graphviz DOT (`digraph lineage { rankdir=LR; … }`) of the graph: datasets as cylinders, jobs as
 * rounded boxes, fields as boxes inside one `subgraph cluster_<n>` per dataset, the focus node
 * filled and bold; direct column edges solid and blue, indirect ones dashed and violet (SVG
 * classes `direct`, `indirect`; their transformations as the tooltip), and a
 * `cluster_legend`.
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
  for (const e of g.edges) out.push(`  ${dotEdge(e)}`);
  out.push(...dotLegend(g.legend));
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
