/**
 * Impact analysis as pure walks over rows the graph store read: breadth-first from the changed
 * dataset (along job steps) and from its columns (along field edges), so the first way found to a
 * node is a shortest one; each node keeps only where it was reached from, and paths are spelled
 * out for the entries reported.
 */

export const MAX_DEPTH = 20;

/** Default and largest number of entries per list in an impact report. */
export const IMPACT_LIMIT = { default: 1000, max: 50_000 };

export interface ImpactStep {
  /** Node ids from the changed dataset/column to this one (datasets, jobs, fields). */
  path: string[];
}
export interface ImpactReport {
  node: string;
  depth: number;
  datasets: ({ namespace: string; name: string; depth: number } & ImpactStep)[];
  columns: ({
    namespace: string;
    dataset: string;
    column: string;
    depth: number;
    transformations: string[];
  } & ImpactStep)[];
  jobs: ({ namespace: string; name: string; jobType: string | null } & ImpactStep)[];
  models: ({ name: string; job: string } & ImpactStep)[];
  expectations: {
    suite: string;
    dataset: string;
    table: string;
    expectation: string;
    column: string | null;
    index: number;
    path: string[];
  }[];
  /** Pipelines are listed once the orchestration slice exists. */
  pipelines: never[];
  /** How many of each there are; a list holds at most `limit` (the nearest first) when `truncated` says so. */
  counts: { datasets: number; columns: number; jobs: number; models: number; expectations: number };
  limit: number;
  truncated: boolean;
}

/** A job step: `job` reads dataset `from` and writes dataset `to`. */
export interface Step {
  from_id: string;
  job_id: string;
  to_id: string;
}
/** A field edge: field `s` feeds field `t`. */
export interface FieldEdge {
  s: string;
  t: string;
  type: string;
  subtype: string;
}

/** Where each node was first reached from, in breadth-first order. */
export interface DatasetWalk {
  datasets: Map<string, { from: string; job: string; depth: number } | null>;
  jobs: Map<string, { from: string; depth: number }>;
}

function groupBy<T>(rows: T[], key: (r: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) (out.get(key(r)) ?? out.set(key(r), []).get(key(r))!).push(r);
  return out;
}

/** Downstream of `start` along job steps. */
export function walkDatasets(start: string, steps: Step[]): DatasetWalk {
  const datasets: DatasetWalk['datasets'] = new Map([[start, null]]);
  const jobs: DatasetWalk['jobs'] = new Map();
  const stepsFrom = groupBy(steps, (s) => s.from_id);
  let frontier = [start];
  for (let depth = 1; frontier.length; depth++) {
    const next: string[] = [];
    for (const from of frontier) {
      for (const s of stepsFrom.get(from) ?? []) {
        if (!jobs.has(s.job_id)) jobs.set(s.job_id, { from, depth });
        if (datasets.has(s.to_id)) continue;
        datasets.set(s.to_id, { from, job: s.job_id, depth });
        next.push(s.to_id);
      }
    }
    frontier = next;
  }
  return { datasets, jobs };
}

/** The path to a dataset of the walk: datasets and the jobs between them, from the start. */
export function datasetPath(
  walk: DatasetWalk,
  id: string,
  dsNode: (id: string) => string,
  jobNode: (id: string) => string,
): string[] {
  const out: string[] = [];
  for (let x: string | undefined = id; x !== undefined;) {
    out.push(dsNode(x));
    const r = walk.datasets.get(x);
    if (r) out.push(jobNode(r.job));
    x = r?.from;
  }
  return out.reverse();
}

/** Where each column was first reached from, and the edges that reach it from the level before. */
export interface ColumnWalk {
  reached: Map<string, { from: string | null; depth: number }>;
  arriving: Map<string, FieldEdge[]>;
}

/** Downstream of the seed fields along field edges. */
export function walkColumns(seeds: string[], edges: FieldEdge[]): ColumnWalk {
  const reached: ColumnWalk['reached'] = new Map(seeds.map((s) => [s, { from: null, depth: 0 }]));
  const arriving: ColumnWalk['arriving'] = new Map();
  const edgesFrom = groupBy(edges, (e) => e.s);
  let front = seeds;
  for (let depth = 1; front.length; depth++) {
    const next: string[] = [];
    for (const from of front) {
      for (const e of edgesFrom.get(from) ?? []) {
        const r = reached.get(e.t);
        if (!r) {
          reached.set(e.t, { from, depth });
          arriving.set(e.t, [e]);
          next.push(e.t);
        } else if (r.depth === depth) arriving.get(e.t)!.push(e);
      }
    }
    front = next;
  }
  return { reached, arriving };
}

/** The path to a column of the walk, from its seed. */
export function columnPath(walk: ColumnWalk, id: string, node: (id: string) => string): string[] {
  const out: string[] = [];
  for (let x: string | null = id; x !== null; x = walk.reached.get(x)!.from) out.push(node(x));
  return out.reverse();
}

/**
 * The nearest `limit` entries of a list in breadth-first order (ties within a depth by `key`),
 * with the list's full count: only the depths needed are sorted.
 */
export function nearest(
  ordered: { id: string; depth: number }[],
  key: (id: string) => string,
  limit: number,
): { count: number; truncated: boolean; kept: { id: string; depth: number }[] } {
  const kept: { id: string; depth: number }[] = [];
  for (let i = 0; i < ordered.length && kept.length < limit;) {
    let j = i;
    while (j < ordered.length && ordered[j].depth === ordered[i].depth) j++;
    const level = ordered.slice(i, j).map((x) => ({ ...x, key: key(x.id) }));
    level.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    for (const x of level.slice(0, limit - kept.length)) kept.push({ id: x.id, depth: x.depth });
    i = j;
  }
  return { count: ordered.length, truncated: ordered.length > limit, kept };
}

/** The columns an expectation names in its kwargs (GX: column, column_A/B, column_list). */
export function expectationColumns(kwargs: Record<string, unknown>): string[] {
  return [
    kwargs['column'],
    kwargs['column_A'],
    kwargs['column_B'],
    ...((kwargs['column_list'] as unknown[]) ?? []),
  ].filter((c): c is string => typeof c === 'string');
}
