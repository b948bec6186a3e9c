import { DEFAULT_MAX_NODES, GraphTooLargeError, toDot, toMermaid, toSvg } from './graph-render';
import type { LineageEdge, LineageNode } from './graph-render';

const PG = 'postgres://db:5432';

const dataset = (namespace: string, name: string): LineageNode => ({
  id: `dataset:${namespace}:${name}`,
  type: 'DATASET',
  data: { namespace, name },
  inEdges: [],
  outEdges: [],
});
const job = (namespace: string, name: string): LineageNode => ({
  id: `job:${namespace}:${name}`,
  type: 'JOB',
  data: { namespace, name, type: 'BATCH' },
  inEdges: [],
  outEdges: [],
});
const field = (namespace: string, ds: string, name: string, type?: string): LineageNode => ({
  id: `datasetField:${namespace}:${ds}:${name}`,
  type: 'DATASET_FIELD',
  data: { namespace, dataset: ds, field: name, ...(type ? { type } : {}) },
  inEdges: [],
  outEdges: [],
});
/** Links two nodes the way the API does: the same edge in the origin's outEdges and the destination's inEdges. */
const link = (from: LineageNode, to: LineageNode): LineageEdge => {
  const e = { origin: from.id, destination: to.id };
  from.outEdges.push(e);
  to.inEdges.push({ ...e });
  return e;
};

/** public.orders -> build_totals -> mart.totals */
function small() {
  const orders = dataset(PG, 'public.orders');
  const totals = dataset(PG, 'mart.totals');
  const etl = job('etl', 'build_totals');
  link(orders, etl);
  link(etl, totals);
  return { orders, totals, etl, nodes: [orders, etl, totals] };
}

/** What each line of our Mermaid output may look like: labels are quoted and contain no quote. */
const MERMAID_LINE =
  /^(flowchart LR|  +n\d+(\[\("[^"\n]*"\)\]|\(\["[^"\n]*"\]\)|\["[^"\n]*"\])|  subgraph g\d+\["[^"\n]*"\]|  end|  n\d+ (-->|-\.->)(\|"[^"\n]*"\|)? n\d+|  classDef focus [^\n]*|  class n\d+(,legend_focus)? focus|  subgraph legend\["Legend"\]|    direction LR|    legend_\w+(\[\("[^"\n]*"\)\]|\(\["[^"\n]*"\]\)|\["[^"\n]*"\])|    legend_\w+_from\[" "\] (-->|-\.->)\|"[^"\n]*"\| legend_\w+_to\[" "\]|  linkStyle [\d,]+ [^"\n]*)$/;

describe('toMermaid', () => {
  it('renders a small graph to the exact flowchart (sorted ids, cylinders and stadiums, focus class, edge labels)', () => {
    const { orders, etl, nodes } = small();
    const mmd = toMermaid(nodes, { focus: etl.id, edgeLabel: (e) => (e.origin === orders.id ? 'reads' : undefined) });
    expect(mmd).toBe(
      [
        'flowchart LR',
        '  n0[("mart.totals<br/>postgres#58;//db#58;5432")]',
        '  n1[("public.orders<br/>postgres#58;//db#58;5432")]',
        '  n2(["build_totals<br/>etl"])',
        '  n1 -->|"reads"| n2',
        '  n2 --> n0',
        // what the picture shows: its node kinds, the focus, its edge kind
        '  subgraph legend["Legend"]',
        '    direction LR',
        '    legend_dataset[("dataset")]',
        '    legend_job(["job"])',
        '    legend_focus["the node asked for"]',
        '    legend_flow_from[" "] -->|"read / written by a job"| legend_flow_to[" "]',
        '  end',
        '  classDef focus fill:#fde68a,stroke:#b45309,stroke-width:3px',
        '  class n2,legend_focus focus',
        '',
      ].join('\n'),
    );
  });

  it('is deterministic whatever the input order, and ignores an unknown focus', () => {
    const { nodes } = small();
    const a = toMermaid(nodes, { focus: 'job:nope:nope' });
    expect(toMermaid([...nodes].reverse(), { focus: 'job:nope:nope' })).toBe(a);
    expect(a).not.toContain('focus');
  });

  it('draws an edge listed by both ends (or repeated) once, and drops edges to nodes not in the list', () => {
    const { orders, totals, etl } = small();
    etl.outEdges.push({ origin: etl.id, destination: totals.id }); // repeated
    orders.outEdges.push({ origin: orders.id, destination: 'job:etl:not_loaded' }); // dangling
    orders.inEdges.push({ origin: 'dataset:x:gone', destination: orders.id }); // dangling
    const mmd = toMermaid([orders, etl, totals, { ...etl }]); // and a node listed twice
    expect(mmd.split('\n').filter((l) => /^ {2}n\d+ -->/.test(l))).toEqual(['  n1 --> n2', '  n2 --> n0']);
    expect(mmd.match(/^ {2}n\d+[[(]/gm)).toHaveLength(3);
    // the destination alone still draws the edge it only knows from inEdges
    expect(toMermaid([totals, { ...etl, outEdges: [] }])).toContain('n1 --> n0');
  });

  it('neutralises names that try to close the label, add click handlers, directives or comments', () => {
    const evil = dataset('ns', 'x"]; click n0 call alert(1)');
    const evil2 = job(
      'ns"])\n%%{init: {"securityLevel": "loose"}}%%\nclick n1 href "javascript:alert(1)"',
      'a|b`c`<img src=x onerror=alert(1)>&amp;#quot;',
    );
    link(evil, evil2);
    const mmd = toMermaid([evil, evil2]);
    for (const line of mmd.trimEnd().split('\n')) expect(line).toMatch(MERMAID_LINE);
    expect(mmd).not.toMatch(/^\s*(click|%%)/m);
    // (the legend's sample edges have labels between pipes; no user text is on those lines)
    const ours = mmd
      .split('\n')
      .filter((l) => !/^ {4}legend_\w+_from/.test(l))
      .join('\n');
    expect(ours).not.toMatch(/<img|[|`]|&amp;/);
    expect(mmd).toContain('n0[("x#quot;#93;#59; click n0 call alert(1)<br/>ns")]');
    // a user '#…;' is not taken for an entity; a user line break is a line of the label
    expect(mmd).toContain(
      'n1(["a#124;b#96;c#96;#60;img src=x onerror=alert(1)#62;#38;amp#59;#35;quot#59;<br/>ns#quot;#93;)<br/>#37;#37;#123;init#58; #123;#quot;securityLevel#quot;#58; #quot;loose#quot;#125;#125;#37;#37;<br/>click n1 href #quot;javascript#58;alert(1)#quot;"])',
    );
  });

  it('keeps unicode, and reads names from data, not from the id', () => {
    const d: LineageNode = {
      id: 'dataset:a:b:c',
      type: 'DATASET',
      data: { namespace: 'a:b', name: 'заказы 📦' },
      inEdges: [],
      outEdges: [],
    };
    expect(toMermaid([d])).toBe(
      'flowchart LR\n  n0[("заказы #128230;<br/>a#58;b")]\n  subgraph legend["Legend"]\n    direction LR\n    legend_dataset[("dataset")]\n  end\n',
    );
  });

  it('groups column-level nodes in one subgraph per dataset', () => {
    const id = field(PG, 'public.orders', 'id', 'int4');
    const amount = field(PG, 'public.orders', 'amount', 'numeric');
    const customer = field(PG, 'mart.totals', 'customer_id', 'int4');
    const total = field(PG, 'mart.totals', 'total');
    link(id, customer);
    link(amount, total);
    link(id, total);
    expect(toMermaid([id, amount, customer, total], { focus: total.id })).toBe(
      [
        'flowchart LR',
        '  subgraph g0["mart.totals<br/>postgres#58;//db#58;5432"]',
        '    n0["customer_id<br/>int4"]',
        '    n1["total"]',
        '  end',
        '  subgraph g1["public.orders<br/>postgres#58;//db#58;5432"]',
        '    n2["amount<br/>numeric"]',
        '    n3["id<br/>int4"]',
        '  end',
        '  n2 --> n1',
        '  n3 --> n0',
        '  n3 --> n1',
        // no inputFields: column edges of no known kind, drawn plain; the legend tells both kinds apart
        '  subgraph legend["Legend"]',
        '    direction LR',
        '    legend_field["column (in a box per dataset)"]',
        '    legend_focus["the node asked for"]',
        '    legend_direct_from[" "] -->|"direct#58; the value flows (identity, transformation, aggregation)"| legend_direct_to[" "]',
        '    legend_indirect_from[" "] -.->|"indirect#58; shapes the value (join, filter, group by, sort, window, conditional)"| legend_indirect_to[" "]',
        '    legend_column_from[" "] -->|"column lineage, kind not given"| legend_column_to[" "]',
        '  end',
        '  linkStyle 3 stroke:#1d4ed8,stroke-width:2px',
        '  linkStyle 4 stroke:#7c3aed,stroke-width:1.5px,stroke-dasharray:6 4',
        '  classDef focus fill:#fde68a,stroke:#b45309,stroke-width:3px',
        '  class n1,legend_focus focus',
        '',
      ].join('\n'),
    );
  });
});

describe('toDot', () => {
  it('renders a small graph to the exact DOT text', () => {
    const { orders, etl, nodes } = small();
    expect(toDot(nodes, { focus: etl.id, edgeLabel: (e) => (e.origin === orders.id ? 'reads "raw"' : '') })).toBe(
      [
        'digraph lineage {',
        '  rankdir=LR;',
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
        '  n0 [label="mart.totals\\npostgres://db:5432", shape=cylinder];',
        '  n1 [label="public.orders\\npostgres://db:5432", shape=cylinder];',
        '  n2 [label="build_totals\\netl", shape=box, fillcolor="#fde68a", color="#b45309", penwidth=2, style="rounded,filled,bold"];',
        '  n1 -> n2 [label="reads \\"raw\\""];',
        '  n2 -> n0;',
        '  subgraph cluster_legend {',
        '    label="Legend";',
        '    style="rounded,dashed";',
        '    color="#9ca3af";',
        '    class="legend";',
        '    node [fontsize=9, class="legend"];',
        '    edge [fontsize=9, class="legend"];',
        '    legend_dataset [label="dataset", shape=cylinder];',
        '    legend_job [label="job", shape=box, style="rounded"];',
        '    legend_focus [label="the node asked for", shape=box, fillcolor="#fde68a", color="#b45309", penwidth=2, style="filled,bold"];',
        '    legend_flow_from [label="", shape=point, width=0.06];',
        '    legend_flow_to [label="", shape=point, width=0.06];',
        '    legend_flow_from -> legend_flow_to [label="read / written by a job"];',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('deduplicates and drops dangling edges like toMermaid', () => {
    const { orders, totals, etl } = small();
    orders.outEdges.push({ origin: orders.id, destination: etl.id }, { origin: orders.id, destination: 'job:x:y' });
    expect(
      toDot([orders, etl, totals])
        .split('\n')
        .filter((l) => /^ {2}n\d+ ->/.test(l)),
    ).toEqual(['  n1 -> n2;', '  n2 -> n0;']);
  });

  it('escapes quotes, backslashes and newlines so a name cannot add statements', () => {
    const evil = dataset('ns', '"]; evil -> x [label="');
    const slashes = dataset('ns\\', 'a\\N\\"b\nc\r\nd');
    link(evil, slashes);
    const dot = toDot([evil, slashes]);
    expect(dot).toContain('  n0 [label="\\"]; evil -> x [label=\\"\\nns", shape=cylinder];');
    expect(dot).toContain('  n1 [label="a\\\\N\\\\\\"b\\nc\\nd\\nns\\\\", shape=cylinder];');
    expect(dot.split('\n').filter((l) => l.includes('->') && !l.includes('label='))).toEqual(['  n0 -> n1;']);
  });

  it('puts column-level nodes in one cluster per dataset', () => {
    const a = field(PG, 'public.orders', 'amount', 'numeric');
    const t = field(PG, 'mart.totals', 'total');
    link(a, t);
    expect(toDot([a, t], { focus: a.id })).toBe(
      [
        'digraph lineage {',
        '  rankdir=LR;',
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
        '  subgraph cluster_0 {',
        '    label="mart.totals\\npostgres://db:5432";',
        '    style=rounded;',
        '    n0 [label="total", shape=box];',
        '  }',
        '  subgraph cluster_1 {',
        '    label="public.orders\\npostgres://db:5432";',
        '    style=rounded;',
        '    n1 [label="amount\\nnumeric", shape=box, fillcolor="#fde68a", color="#b45309", penwidth=2, style="filled,bold"];',
        '  }',
        '  n1 -> n0;',
        '  subgraph cluster_legend {',
        '    label="Legend";',
        '    style="rounded,dashed";',
        '    color="#9ca3af";',
        '    class="legend";',
        '    node [fontsize=9, class="legend"];',
        '    edge [fontsize=9, class="legend"];',
        '    legend_field [label="column (in a box per dataset)", shape=box];',
        '    legend_focus [label="the node asked for", shape=box, fillcolor="#fde68a", color="#b45309", penwidth=2, style="filled,bold"];',
        '    legend_direct_from [label="", shape=point, width=0.06];',
        '    legend_direct_to [label="", shape=point, width=0.06];',
        '    legend_direct_from -> legend_direct_to [label="direct: the value flows (identity, transformation, aggregation)", style=solid, color="#1d4ed8", penwidth=1.6];',
        '    legend_indirect_from [label="", shape=point, width=0.06];',
        '    legend_indirect_to [label="", shape=point, width=0.06];',
        '    legend_indirect_from -> legend_indirect_to [label="indirect: shapes the value (join, filter, group by, sort, window, conditional)", style=dashed, color="#7c3aed"];',
        '    legend_column_from [label="", shape=point, width=0.06];',
        '    legend_column_to [label="", shape=point, width=0.06];',
        '    legend_column_from -> legend_column_to [label="column lineage, kind not given"];',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });
});

describe('toSvg', () => {
  it('renders SVG with the node labels and the focus fill', async () => {
    const { etl, nodes } = small();
    const svg = await toSvg(nodes, { focus: etl.id });
    expect(svg).toMatch(/^(<\?xml|<svg)/);
    expect(svg).toContain('<svg');
    for (const label of ['public.orders', 'mart.totals', 'build_totals', 'postgres://db:5432'])
      expect(svg).toContain(`>${label}</text>`);
    expect(svg.match(/class="node"/g)).toHaveLength(3);
    expect(svg.match(/class="edge"/g)).toHaveLength(2);
    expect(svg).toContain('fill="#fde68a"');
  });

  it('keeps markup in names as text: no <script>, and the DOT injection re-parses as a plain label', async () => {
    const script = dataset('ns', '</text><script>alert(1)</script>');
    const dotEvil = dataset('ns', '"]; evil -> x [label="');
    const slash = job('ns', 'a\\N');
    link(script, slash);
    link(slash, dotEvil);
    const svg = await toSvg([script, dotEvil, slash]);
    expect(svg).not.toMatch(/<script/i);
    expect(svg).toContain('>&lt;/text&gt;&lt;script&gt;alert(1)&lt;/script&gt;</text>');
    expect(svg).toContain('>&quot;]; evil &#45;&gt; x [label=&quot;</text>');
    expect(svg).toContain('>a\\N</text>'); // not replaced by the node name
    expect(svg).not.toContain('<title>evil</title>');
    expect(svg.match(/class="node"/g)).toHaveLength(3);
    expect(svg.match(/class="edge"/g)).toHaveLength(2);
  });

  it('draws one cluster per dataset for column-level lineage', async () => {
    const a = field(PG, 'public.orders', 'amount', 'numeric');
    const b = field(PG, 'public.orders', 'id', 'int4');
    const t = field(PG, 'mart.totals', 'total');
    link(a, t);
    link(b, t);
    const svg = await toSvg([a, b, t]);
    expect(svg.match(/class="cluster"/g)).toHaveLength(2);
    expect(svg).toContain('>amount</text>');
    expect(svg).toContain('>public.orders</text>');
  });

  it('serves concurrent renders from one instance', async () => {
    const { nodes } = small();
    const [a, b] = await Promise.all([toSvg(nodes), toSvg(nodes)]);
    expect(a).toBe(b);
  });
});

describe('direct and indirect column edges, and the legend', () => {
  /** Column lineage as the API returns it: the destination lists its inputs with their transformations. */
  function columns() {
    const amount = field(PG, 'public.orders', 'amount');
    const status = field(PG, 'public.orders', 'status');
    const region = field(PG, 'public.orders', 'region');
    const id = field(PG, 'public.orders', 'id');
    const total = field(PG, 'mart.totals', 'total');
    const customer = field(PG, 'mart.totals', 'customer_id');
    const input = (f: LineageNode, rest: Record<string, unknown>) => ({
      namespace: PG,
      dataset: 'public.orders',
      field: f.data['field'],
      ...rest,
    });
    // Weir's shape (transformations); a value that also filters is direct
    total.data['inputFields'] = [
      input(amount, {
        transformations: [
          { type: 'DIRECT', subtype: 'AGGREGATION' },
          { type: 'INDIRECT', subtype: 'FILTER' },
        ],
      }),
      input(status, { transformations: [{ type: 'INDIRECT', subtype: 'FILTER' }] }),
    ];
    // Marquez's shape (transformationType only)
    customer.data['inputFields'] = [input(id, { transformationType: 'DIRECT', transformationDescription: 'IDENTITY' })];
    link(amount, total); // n2 -> n1 direct
    link(id, customer); // n3 -> n0 direct
    link(region, total); // n4 -> n1: not among total's inputFields, kind not given
    link(status, total); // n5 -> n1 indirect
    return [amount, status, region, id, total, customer];
  }

  it('Mermaid: direct solid and blue, indirect dotted and violet, a legend subgraph', () => {
    const mmd = toMermaid(columns());
    for (const line of mmd.trimEnd().split('\n')) expect(line).toMatch(MERMAID_LINE);
    expect(mmd.split('\n').filter((l) => /^ {2}n\d+ /.test(l))).toEqual([
      '  n2 --> n1',
      '  n3 --> n0',
      '  n4 --> n1',
      '  n5 -.-> n1',
    ]);
    // links 0-3 above, then the legend's: direct 4, indirect 5, kind not given 6
    expect(mmd).toContain('  linkStyle 0,1,4 stroke:#1d4ed8,stroke-width:2px\n');
    expect(mmd).toContain('  linkStyle 3,5 stroke:#7c3aed,stroke-width:1.5px,stroke-dasharray:6 4\n');
    expect(mmd.match(/^ {2}linkStyle/gm)).toHaveLength(2);
    const legend = mmd.slice(mmd.indexOf('  subgraph legend'));
    expect(legend.split('\n').slice(0, 7)).toEqual([
      '  subgraph legend["Legend"]',
      '    direction LR',
      '    legend_field["column (in a box per dataset)"]',
      '    legend_direct_from[" "] -->|"direct#58; the value flows (identity, transformation, aggregation)"| legend_direct_to[" "]',
      '    legend_indirect_from[" "] -.->|"indirect#58; shapes the value (join, filter, group by, sort, window, conditional)"| legend_indirect_to[" "]',
      '    legend_column_from[" "] -->|"column lineage, kind not given"| legend_column_to[" "]',
      '  end',
    ]);
  });

  it('DOT: direct solid and blue, indirect dashed and violet, their transformations as tooltips, a legend cluster', () => {
    const dot = toDot(columns());
    const edges = dot.split('\n').filter((l) => /^ {2}n\d+ ->/.test(l));
    expect(edges).toEqual([
      '  n2 -> n1 [style=solid, color="#1d4ed8", penwidth=1.6, class="direct", tooltip="DIRECT/AGGREGATION, INDIRECT/FILTER"];',
      '  n3 -> n0 [style=solid, color="#1d4ed8", penwidth=1.6, class="direct", tooltip="IDENTITY"];',
      '  n4 -> n1;',
      '  n5 -> n1 [style=dashed, color="#7c3aed", class="indirect", tooltip="INDIRECT/FILTER"];',
    ]);
    expect(dot).toContain('  subgraph cluster_legend {\n    label="Legend";');
    expect(dot).toContain(
      '    legend_direct_from -> legend_direct_to [label="direct: the value flows (identity, transformation, aggregation)", style=solid, color="#1d4ed8", penwidth=1.6];',
    );
    expect(dot).toContain(
      '    legend_indirect_from -> legend_indirect_to [label="indirect: shapes the value (join, filter, group by, sort, window, conditional)", style=dashed, color="#7c3aed"];',
    );
    expect(dot).toContain('    legend_column_from -> legend_column_to [label="column lineage, kind not given"];');
    // a graph of datasets and jobs only: its legend has no column edges
    const { nodes } = small();
    expect(toDot(nodes)).not.toContain('legend_direct');
    expect(toDot(nodes)).toContain('legend_flow_from -> legend_flow_to [label="read / written by a job"];');
  });

  it('SVG: the edges drawn in their styles, classed direct / indirect, and the legend drawn', async () => {
    const svg = await toSvg(columns());
    const group = (cls: string) => [
      ...svg.matchAll(new RegExp(`<g id="edge\\d+" class="edge ${cls}">([\\s\\S]*?)</g>\\n</g>`, 'g')),
    ];
    const direct = group('direct');
    const indirect = group('indirect');
    expect([direct.length, indirect.length]).toEqual([2, 1]);
    for (const [g] of direct) {
      expect(g).toMatch(/<path fill="none" stroke="#1d4ed8" stroke-width="1.6"/);
      expect(g).not.toContain('stroke-dasharray');
    }
    expect(indirect[0][0]).toMatch(/<path fill="none" stroke="#7c3aed" stroke-dasharray="5,2"/);
    expect(indirect[0][0]).toContain('xlink:title="INDIRECT/FILTER"');
    // user edges, user nodes and the one cluster per dataset, apart from the legend's
    expect(svg.match(/class="edge[" ]/g)).toHaveLength(4 + 3);
    expect(svg.match(/class="edge legend"/g)).toHaveLength(3);
    expect(svg.match(/class="node"/g)).toHaveLength(6);
    expect(svg.match(/class="cluster"/g)).toHaveLength(2);
    expect(svg.match(/class="cluster legend"/g)).toHaveLength(1);
    for (const text of [
      'Legend',
      'direct: the value flows (identity, transformation, aggregation)',
      'indirect: shapes the value (join, filter, group by, sort, window, conditional)',
    ])
      expect(svg).toContain(`>${text}</text>`);
  });

  it('has no legend for an empty graph', () => {
    expect(toMermaid([])).toBe('flowchart LR\n');
    expect(toDot([])).not.toContain('legend');
  });
});

describe('GraphTooLargeError', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => dataset('ns', `t${i}`));

  it('is thrown by all three formats above maxNodes, with the count', async () => {
    const nodes = many(3);
    expect(() => toMermaid(nodes, { maxNodes: 2 })).toThrow(GraphTooLargeError);
    expect(() => toDot(nodes, { maxNodes: 2 })).toThrow(/3 nodes, more than the 2/);
    const err = await toSvg(nodes, { maxNodes: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphTooLargeError);
    expect(err).toMatchObject({ nodeCount: 3, maxNodes: 2, name: 'GraphTooLargeError' });
    expect(toMermaid(nodes, { maxNodes: 3 })).toContain('n2[(');
  });

  it(`defaults to ${DEFAULT_MAX_NODES} distinct nodes`, () => {
    const nodes = many(DEFAULT_MAX_NODES);
    expect(() => toDot(nodes)).not.toThrow();
    expect(() => toDot([...nodes, nodes[0]])).not.toThrow(); // the same id twice counts once
    expect(() => toDot([...nodes, dataset('ns', 'one_more')])).toThrow(
      expect.objectContaining({ nodeCount: DEFAULT_MAX_NODES + 1 }),
    );
  });
});
