import type { OpenLineageKind } from './openlineage-validator';

type Json = Record<string, any>;

/** A dataset's or job's key in a batch: namespace and name. */
export const graphKey = (ns: string, name: string) => `${ns}\u0000${name}`;
const key = graphKey;

/** Facets kept on the dataset node: everything but the per-run ones (those stay in lineage.events). */
const RUN_SCOPED_DATASET_FACETS = new Set([
  'columnLineage',
  'dataQualityMetrics',
  'dataQualityAssertions',
  'outputStatistics',
  'inputStatistics',
]);
const keptFacets = (f: Json) =>
  Object.fromEntries(Object.entries(f).filter(([k]) => !RUN_SCOPED_DATASET_FACETS.has(k)));

/** Run states that end a run. */
export const TERMINAL: ReadonlySet<string> = new Set(['COMPLETE', 'FAIL', 'ABORT']);

/** The state a run keeps when an event in state `next` arrives: an end beats a non-end, else the later event wins. */
export function runState(current: string, next: string, nextIsLater: boolean): string {
  if (TERMINAL.has(current) && !TERMINAL.has(next)) return current;
  if (!TERMINAL.has(current) && TERMINAL.has(next)) return next;
  return nextIsLater ? next : current;
}

/** The dataset-level entries of a column-lineage facet (OpenLineage 1-2-0 `dataset`): inputs that affect the whole output. */
export function datasetLevelOf(facet: Json): Json[] {
  const d = facet['dataset'];
  return Array.isArray(d)
    ? (d as Json[]).filter(
        (i) =>
          i && typeof i['namespace'] === 'string' && typeof i['name'] === 'string' && typeof i['field'] === 'string',
      )
    : [];
}

/** A run as the batch leaves it. */
export interface RunRow {
  id: string;
  job: string;
  state: string;
  parent: string | null;
  nominalStart: string | null;
  nominalEnd: string | null;
  startedAt: string | null;
  endedAt: string | null;
  eventTime: string;
  facets: Json;
}

/**
 * What a batch of OpenLineage events says of the graph, folded in order exactly as if the events
 * were applied one after the other: the latest facets win, a run keeps its latest or terminal
 * state, a job's newer column lineage for an output replaces its older. Pure: the store writes it.
 */
export interface GraphDelta {
  namespaces: Set<string>;
  jobs: Map<string, { namespace: string; name: string; facets: Json; run: string | null }>;
  runs: Map<string, RunRow>;
  datasets: Map<string, { namespace: string; name: string; facets: Json }>;
  /** dataset -> its successive field lists */
  schemas: Map<string, Json[][]>;
  io: Map<string, { job: string; direction: 'input' | 'output'; dataset: string }>;
  /** (job, output) -> its latest columnLineage facet */
  lineage: Map<
    string,
    { job: string | null; dataset: string; facet: Json; at: string; datasetLevel?: Json[]; outputs?: string[] }
  >;
  fields: Map<string, { dataset: string; name: string; type: string | null; description: string | null }>;
  /** what each run of the batch declared (`${direction}\u0001${dataset key}`), and whether it completed */
  runIo: Map<string, { job: string; io: Set<string>; completed: boolean }>;
  /** Adds a field of a dataset, or completes its type and description. */
  addField(dataset: string, name: string, type: string | null, description: string | null): void;
}

/** Folds a batch of validated events into a {@link GraphDelta}. */
export function foldEvents(items: readonly { kind: OpenLineageKind; event: Json }[]): GraphDelta {
  const namespaces = new Set<string>();
  const jobs = new Map<string, { namespace: string; name: string; facets: Json; run: string | null }>();
  const runs = new Map<string, RunRow>();
  const datasets = new Map<string, { namespace: string; name: string; facets: Json }>();
  const schemas = new Map<string, Json[][]>(); // dataset -> successive field lists
  const io = new Map<string, { job: string; direction: 'input' | 'output'; dataset: string }>();
  // (job, output) -> latest columnLineage; `datasetLevel` and `outputs` (the columns its dataset-level entries reach) are worked out once, below
  const lineage = new Map<
    string,
    { job: string | null; dataset: string; facet: Json; at: string; datasetLevel?: Json[]; outputs?: string[] }
  >();
  const fields = new Map<string, { dataset: string; name: string; type: string | null; description: string | null }>();
  // what each run of the batch declared (`${direction}\u0001${dataset key}`), and whether it completed
  const runIo = new Map<string, { job: string; io: Set<string>; completed: boolean }>();
  const addField = (dataset: string, name: string, type: string | null, description: string | null) => {
    const k = `${dataset}\u0001${name}`;
    const seen = fields.get(k);
    fields.set(k, {
      dataset,
      name,
      type: type ?? seen?.type ?? null,
      description: description ?? seen?.description ?? null,
    });
  };
  const addDataset = (d: Json, facets: Json) => {
    const k = key(d['namespace'], d['name']);
    namespaces.add(d['namespace']);
    const seen = datasets.get(k);
    datasets.set(k, {
      namespace: d['namespace'],
      name: d['name'],
      facets: { ...(seen?.facets ?? {}), ...keptFacets(facets) },
    });
    return k;
  };

  for (const { kind, event } of items) {
    const job = event['job'] as Json | undefined;
    const run = event['run'] as Json | undefined;
    let jobKey: string | null = null;
    if (job) {
      jobKey = key(job['namespace'], job['name']);
      namespaces.add(job['namespace']);
      const seen = jobs.get(jobKey);
      jobs.set(jobKey, {
        namespace: job['namespace'],
        name: job['name'],
        facets: { ...(seen?.facets ?? {}), ...((job['facets'] as Json) ?? {}) },
        run: run?.['runId'] ?? seen?.run ?? null,
      });
    }
    let declared: Set<string> | undefined;
    if (run && jobKey) {
      const state = (event['eventType'] as string | undefined) ?? 'OTHER';
      const r = runIo.get(run['runId']) ?? { job: jobKey, io: new Set<string>(), completed: false };
      if (state === 'COMPLETE') r.completed = true;
      runIo.set(run['runId'], r);
      declared = r.io;
      const at = String(event['eventTime']);
      const facets = (run['facets'] as Json | undefined) ?? {};
      const seen = runs.get(run['runId']);
      const fresh: RunRow = {
        id: run['runId'],
        job: jobKey,
        state,
        parent: facets['parent']?.['run']?.['runId'] ?? null,
        nominalStart: facets['nominalTime']?.['nominalStartTime'] ?? null,
        nominalEnd: facets['nominalTime']?.['nominalEndTime'] ?? null,
        startedAt: state === 'START' || state === 'RUNNING' ? at : null,
        endedAt: TERMINAL.has(state) ? at : null,
        eventTime: at,
        facets,
      };
      if (!seen) runs.set(fresh.id, fresh);
      else {
        const later = Date.parse(at) >= Date.parse(seen.eventTime);
        runs.set(fresh.id, {
          id: fresh.id,
          job: jobKey,
          // a run's end is final: a START or RUNNING arriving after it (or stamped the same millisecond) does not reopen it
          state: runState(seen.state, state, later),
          parent: fresh.parent ?? seen.parent,
          nominalStart: fresh.nominalStart ?? seen.nominalStart,
          nominalEnd: fresh.nominalEnd ?? seen.nominalEnd,
          startedAt:
            [seen.startedAt, fresh.startedAt]
              .filter((x): x is string => !!x)
              .sort((a, b) => Date.parse(a) - Date.parse(b))[0] ?? null,
          endedAt:
            [seen.endedAt, fresh.endedAt]
              .filter((x): x is string => !!x)
              .sort((a, b) => Date.parse(b) - Date.parse(a))[0] ?? null,
          eventTime: later ? at : seen.eventTime,
          facets: { ...seen.facets, ...facets },
        });
      }
    }
    const list: { d: Json; direction?: 'input' | 'output' }[] =
      kind === 'DatasetEvent'
        ? [{ d: event['dataset'] as Json }]
        : [
            ...((event['inputs'] as Json[] | undefined) ?? []).map((d) => ({ d, direction: 'input' as const })),
            ...((event['outputs'] as Json[] | undefined) ?? []).map((d) => ({ d, direction: 'output' as const })),
          ];
    for (const { d, direction } of list) {
      const facets = (d['facets'] as Json | undefined) ?? {};
      const dk = addDataset(d, facets);
      if (direction && jobKey)
        io.set(`${jobKey}\u0001${direction}\u0001${dk}`, { job: jobKey, direction, dataset: dk });
      if (direction) declared?.add(`${direction}\u0001${dk}`);
      const schema = facets['schema'] as Json | undefined;
      if (schema && Array.isArray(schema['fields']) && !schema['_deleted']) {
        const fs = (schema['fields'] as Json[]).map((f) => ({
          name: String(f['name']),
          ...(f['type'] !== undefined ? { type: String(f['type']) } : {}),
          ...(f['description'] ? { description: String(f['description']) } : {}),
        }));
        const seq = schemas.get(dk) ?? [];
        if (JSON.stringify(seq[seq.length - 1]) !== JSON.stringify(fs)) seq.push(fs);
        schemas.set(dk, seq);
      }
      const cl = facets['columnLineage'] as Json | undefined;
      if (cl && !cl['_deleted']) {
        for (const f of Object.values((cl['fields'] as Json) ?? {}) as Json[]) {
          for (const i of (f['inputFields'] as Json[] | undefined) ?? []) addDataset(i, {});
        }
        for (const i of datasetLevelOf(cl)) addDataset(i, {});
        const lk = `${jobKey ?? ''}\u0001${dk}`;
        const at = String(event['eventTime']);
        const seen = lineage.get(lk);
        // the latest facet (by event time) wins; in a tie, the one received last
        if (!seen || Date.parse(at) >= Date.parse(seen.at))
          lineage.set(lk, { job: jobKey, dataset: dk, facet: cl, at });
      }
    }
  }
  return { namespaces, jobs, runs, datasets, schemas, io, lineage, fields, runIo, addField };
}
