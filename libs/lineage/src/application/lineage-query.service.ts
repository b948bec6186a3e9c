import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Warehouse } from '@weir/platform';
import { CATALOG, CatalogPort } from '@weir/catalog';
import { QUALITY_SUITES, QualitySuites } from '@weir/quality';
import {
  LineageGraph,
  ResolvedNode,
  Direction,
  datasetNodeId,
  jobNodeId,
  fieldNodeId,
} from '../infrastructure/lineage-graph.repository';
import { datasetData, jobData } from '../infrastructure/marquez-shape.mapper';
import { LineageReadRepository, type RunRow } from '../infrastructure/lineage-read.repository';
import type { EventsQuery, SearchQuery } from '../infrastructure/lineage-read.sql';
import type { LineageNode } from '../domain/graph-render';

import type { LineageQueriesPort } from './ports/lineage-queries.port';
import {
  BadDepthError,
  BadNodeIdError,
  ColumnNotFoundError,
  DatasetNotFoundError,
  JobNotFoundError,
  NamespaceNotFoundError,
  NodeNotFoundError,
  RunNotFoundError,
} from '../lineage.errors';

export const MAX_DEPTH = 20;

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

/** Default and largest number of entries per list in an impact report. */
export const IMPACT_LIMIT = { default: 1000, max: 50_000 };

/** Reads of the lineage graph: Marquez-compatible API, impact analysis, pictures. */
@Injectable()
export class LineageQueryService implements LineageQueriesPort {
  readonly graph: LineageGraph;
  private readonly reads: LineageReadRepository;

  constructor(
    ds: DataSource,
    private readonly warehouse: Warehouse,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    @Inject(QUALITY_SUITES) private readonly suites: QualitySuites,
  ) {
    this.graph = new LineageGraph(ds);
    this.reads = new LineageReadRepository(ds);
  }

  private depthOf(depth: number | undefined, fallback: number): number {
    const d = depth ?? fallback;
    if (!Number.isInteger(d) || d < 0 || d > MAX_DEPTH)
      throw new BadDepthError(`depth must be an integer from 0 to ${MAX_DEPTH}`);
    return d;
  }

  async node(nodeId: string): Promise<ResolvedNode> {
    if (!/^(dataset|job|datasetField):/.test(nodeId)) {
      throw new BadNodeIdError(
        'nodeId must be dataset:<namespace>:<name>, job:<namespace>:<name> or datasetField:<namespace>:<name>:<field>',
      );
    }
    const n = await this.graph.resolve(nodeId);
    if (!n) throw new NodeNotFoundError(`No node ${JSON.stringify(nodeId)} in the lineage graph`);
    return n;
  }

  /** Marquez `GET /api/v1/lineage`. */
  async lineage(nodeId: string, depth?: number, direction: Direction = 'both'): Promise<{ graph: LineageNode[] }> {
    const n = await this.node(nodeId);
    if (n.kind === 'field') throw new BadNodeIdError('use /api/v1/column-lineage for datasetField nodes');
    return { graph: await this.graph.lineage(n, this.depthOf(depth, 20), direction) };
  }

  /** Marquez `GET /api/v1/column-lineage`. */
  async columnLineage(nodeId: string, depth?: number, withDownstream = false): Promise<{ graph: LineageNode[] }> {
    const n = await this.node(nodeId);
    return { graph: await this.graph.columnLineage(n, this.depthOf(depth, 20), withDownstream) };
  }

  async namespaces(): Promise<{ namespaces: { name: string; createdAt: Date; updatedAt: Date }[] }> {
    return { namespaces: await this.reads.namespaces() };
  }

  /** Marquez `GET /api/v1/events/lineage`: the raw events, as received, by event time (ties by arrival). */
  async events(
    q: EventsQuery,
  ): Promise<{ events: unknown[]; totalCount: number; warnings: { event: number; warnings: unknown }[] }> {
    const { rows, total } = await this.reads.events(q);
    const warnings = rows.flatMap((r, i) => (r.warnings ? [{ event: i, warnings: r.warnings }] : []));
    return { events: rows.map((r) => r.payload), totalCount: total, warnings };
  }

  private async namespaceExists(ns: string): Promise<void> {
    if (!(await this.reads.namespaceExists(ns))) throw new NamespaceNotFoundError(`No namespace ${JSON.stringify(ns)}`);
  }

  async datasets(
    ns: string,
    limit = 100,
    offset = 0,
  ): Promise<{ totalCount: number; datasets: Record<string, unknown>[] }> {
    await this.namespaceExists(ns);
    const ids = await this.reads.page('datasets', ns, limit, offset);
    const rows = await this.graph.datasets(ids.map((r) => r.id));
    rows.sort((a, b) => (a.name < b.name ? -1 : 1));
    return { totalCount: Number(ids[0]?.total ?? 0), datasets: rows.map(datasetData) };
  }

  async jobs(ns: string, limit = 100, offset = 0): Promise<{ totalCount: number; jobs: Record<string, unknown>[] }> {
    await this.namespaceExists(ns);
    const ids = await this.reads.page('jobs', ns, limit, offset);
    return { totalCount: Number(ids[0]?.total ?? 0), jobs: await this.jobsData(ids.map((r) => r.id)) };
  }

  /** Jobs in Marquez's shape (with their inputs, outputs and latest run), by name. */
  private async jobsData(jobIds: string[]): Promise<Record<string, unknown>[]> {
    const rows = await this.graph.jobs(jobIds);
    const io = jobIds.length ? await this.reads.jobDatasets(jobIds) : [];
    rows.sort((a, b) => (a.name < b.name ? -1 : 1));
    const pick = (id: string, dir: string) =>
      io.filter((r) => r.job_id === id && r.direction === dir).map((r) => ({ namespace: r.namespace, name: r.name }));
    return rows.map((j) => jobData(j, pick(j.id, 'input'), pick(j.id, 'output')));
  }

  /** Marquez `GET /api/v1/namespaces/:ns/datasets/:name`. */
  async dataset(ns: string, name: string): Promise<Record<string, unknown>> {
    const r = await this.reads.dataset(ns, name);
    if (!r) throw new DatasetNotFoundError(`No dataset ${JSON.stringify(name)} in namespace ${JSON.stringify(ns)}`);
    return datasetData((await this.graph.datasets([r.id]))[0]);
  }

  /** Marquez `GET /api/v1/namespaces/:ns/jobs/:name`. */
  async job(ns: string, name: string): Promise<Record<string, unknown>> {
    return (await this.jobsData([await this.jobId(ns, name)]))[0];
  }

  /** A job's id by namespace and name; 404 LINEAGE.JOB_NOT_FOUND. */
  private async jobId(ns: string, name: string): Promise<string> {
    const id = await this.reads.jobId(ns, name);
    if (!id) throw new JobNotFoundError(`No job ${JSON.stringify(name)} in namespace ${JSON.stringify(ns)}`);
    return id;
  }

  /**
   * Marquez `GET /api/v1/search`: datasets and jobs whose name contains `q` (case-insensitive), by
   * name or by last update, newest first.
   */
  async search(q: SearchQuery): Promise<{ totalCount: number; results: Record<string, unknown>[] }> {
    const rows = await this.reads.search(q);
    return {
      totalCount: Number(rows[0]?.total ?? 0),
      results: rows.map((r) => ({
        type: r.type,
        name: r.name,
        namespace: r.namespace,
        updatedAt: r.updated_at,
        nodeId: r.type === 'DATASET' ? datasetNodeId(r.namespace, r.name) : jobNodeId(r.namespace, r.name),
      })),
    };
  }

  async runs(
    ns: string,
    job: string,
    limit = 100,
    offset = 0,
  ): Promise<{ totalCount: number; runs: Record<string, unknown>[] }> {
    const j = { id: await this.jobId(ns, job) };
    const rows = await this.reads.runsOfJob(j.id, limit, offset);
    return { totalCount: Number(rows[0]?.total ?? 0), runs: rows.map(runData) };
  }

  /** Marquez `GET /api/v1/jobs/runs/:id`: one run by its OpenLineage runId. */
  async run(id: string): Promise<Record<string, unknown>> {
    const row = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)
      ? await this.reads.run(id)
      : undefined;
    if (!row) throw new RunNotFoundError(`No run ${JSON.stringify(id)} in the lineage graph`);
    return runData(row);
  }

  /**
   * What changing or dropping `dataset` (or one of its columns) would affect downstream: datasets,
   * columns (DIRECT and INDIRECT dependencies), jobs, models and quality expectations, each with the
   * path that leads to it. `dataset` is a lineage node id, `<namespace>:<name>`, a warehouse
   * `schema.table`, or a catalog dataset name.
   */
  async impact(dataset: string, column?: string, depth?: number, limit = IMPACT_LIMIT.default): Promise<ImpactReport> {
    const d = this.depthOf(depth, MAX_DEPTH);
    const start = await this.findDataset(dataset);
    const startId = datasetNodeId(start.namespace, start.name);
    // the column walk runs beside the dataset walk (its own connection)
    const columnWalk = (async () => {
      const seeds = await this.reads.fieldsOf(start.id, column ?? null);
      if (column !== undefined && !seeds.length)
        throw new ColumnNotFoundError(`The lineage graph knows no column ${JSON.stringify(column)} on ${start.name}`);
      if (!seeds.length) return { seeds, edges: [], fieldRows: [] };
      const edges = await this.graph.downstreamFieldEdges(
        seeds.map((s) => s.id),
        d,
      );
      const fieldRows = await this.graph.fields([
        ...new Set([...seeds.map((s) => s.id), ...edges.flatMap((e) => [e.s, e.t])]),
      ]);
      return { seeds, edges, fieldRows };
    })();
    columnWalk.catch(() => undefined); // awaited below; not unhandled if the dataset walk fails first
    const steps = await this.graph.downstreamSteps(start.id, d);
    const jobIds = [...new Set(steps.map((s) => s.job_id))];
    const dsIds = [...new Set([start.id, ...steps.map((s) => s.to_id)])];
    const [dsRows, jobRows] = await Promise.all([this.graph.datasetNames(dsIds), this.graph.jobNames(jobIds)]);
    const dsById = new Map(dsRows.map((r) => [r.id, r]));
    const jobById = new Map(jobRows.map((r) => [r.id, r]));
    // breadth-first from the start: the first way found to each node is a shortest one. Each node
    // keeps only where it was reached from; paths are spelled out for the entries reported.
    const reachedDs = new Map<string, { from: string; job: string; depth: number } | null>([[start.id, null]]);
    const reachedJob = new Map<string, { from: string; depth: number }>();
    const stepsFrom = new Map<string, typeof steps>();
    for (const st of steps) (stepsFrom.get(st.from_id) ?? stepsFrom.set(st.from_id, []).get(st.from_id)!).push(st);
    let frontier = [start.id];
    for (let depth = 1; frontier.length; depth++) {
      const next: string[] = [];
      for (const from of frontier) {
        for (const s of stepsFrom.get(from) ?? []) {
          if (!reachedJob.has(s.job_id)) reachedJob.set(s.job_id, { from, depth });
          if (reachedDs.has(s.to_id)) continue;
          reachedDs.set(s.to_id, { from, job: s.job_id, depth });
          next.push(s.to_id);
        }
      }
      frontier = next;
    }
    const dsNode = (id: string) => datasetNodeId(dsById.get(id)!.namespace, dsById.get(id)!.name);
    const jobNode = (id: string) => jobNodeId(jobById.get(id)!.namespace, jobById.get(id)!.name);
    const dsPath = (id: string): string[] => {
      const out: string[] = [];
      for (let x: string | undefined = id; x !== undefined;) {
        out.push(dsNode(x));
        const r = reachedDs.get(x);
        if (r) out.push(jobNode(r.job));
        x = r?.from;
      }
      return out.reverse();
    };
    const report: ImpactReport = {
      node: startId,
      depth: d,
      datasets: [],
      columns: [],
      jobs: [],
      models: [],
      expectations: [],
      pipelines: [],
      counts: { datasets: 0, columns: 0, jobs: 0, models: 0, expectations: 0 },
      limit,
      truncated: false,
    };
    // each list: every entry counted; the nearest `limit` kept (ties by name), built and given their
    // paths. `reached` maps are in breadth-first order, so only the depths needed are sorted.
    const pick = <E>(
      k: 'datasets' | 'columns' | 'jobs' | 'models',
      ordered: { id: string; depth: number }[],
      key: (id: string) => string,
      make: (id: string, depth: number) => E,
    ) => {
      report.counts[k] = ordered.length;
      if (ordered.length > limit) report.truncated = true;
      const out: E[] = [];
      for (let i = 0; i < ordered.length && out.length < limit;) {
        let j = i;
        while (j < ordered.length && ordered[j].depth === ordered[i].depth) j++;
        const level = ordered.slice(i, j).map((x) => ({ ...x, key: key(x.id) }));
        level.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
        for (const x of level.slice(0, limit - out.length)) out.push(make(x.id, x.depth));
        i = j;
      }
      (report[k] as unknown[]) = out;
    };
    const dsOrdered = [...reachedDs].filter(([id]) => id !== start.id).map(([id, r]) => ({ id, depth: r!.depth }));
    pick(
      'datasets',
      dsOrdered,
      (id) => dsById.get(id)!.name,
      (id, depth) => ({ namespace: dsById.get(id)!.namespace, name: dsById.get(id)!.name, depth, path: dsPath(id) }),
    );
    const jobPath = (id: string) => [...dsPath(reachedJob.get(id)!.from), jobNode(id)];
    const jobOrdered = [...reachedJob].map(([id, r]) => ({ id, depth: r.depth }));
    pick(
      'jobs',
      jobOrdered,
      (id) => jobById.get(id)!.name,
      (id) => ({
        namespace: jobById.get(id)!.namespace,
        name: jobById.get(id)!.name,
        jobType: jobById.get(id)!.job_type,
        path: jobPath(id),
      }),
    );
    const modelName = (id: string) =>
      jobById
        .get(id)!
        .name.replace(/^model\./, '')
        .split('.')
        .pop()!;
    pick(
      'models',
      jobOrdered.filter((j) => jobById.get(j.id)!.job_type === 'MODEL'),
      modelName,
      (id) => ({ name: modelName(id), job: jobById.get(id)!.name, path: jobPath(id) }),
    );

    // columns: from the column (or every column of the dataset) along field edges
    const { seeds, edges, fieldRows } = await columnWalk;
    const affectedColumns = new Map<string, Set<string>>(); // dataset id -> columns
    if (seeds.length) {
      const f = new Map(fieldRows.map((r) => [r.id, r]));
      const fid = (id: string) => fieldNodeId(f.get(id)!.namespace, f.get(id)!.dataset, f.get(id)!.name);
      const reached = new Map<string, { from: string | null; depth: number }>(
        seeds.map((s) => [s.id, { from: null, depth: 0 }]),
      );
      const edgesFrom = new Map<string, typeof edges>();
      for (const e of edges) (edgesFrom.get(e.s) ?? edgesFrom.set(e.s, []).get(e.s)!).push(e);
      // the edges that reach a column from the level before it (their transformations are listed)
      const arriving = new Map<string, typeof edges>();
      let front = seeds.map((s) => s.id);
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
      const colPath = (id: string): string[] => {
        const out: string[] = [];
        for (let x: string | null = id; x !== null; x = reached.get(x)!.from) out.push(fid(x));
        return out.reverse();
      };
      const colOrdered: { id: string; depth: number }[] = [];
      for (const [id, r] of reached) {
        if (r.depth === 0) continue;
        colOrdered.push({ id, depth: r.depth });
        const x = f.get(id)!;
        (affectedColumns.get(x.dataset_id) ?? affectedColumns.set(x.dataset_id, new Set()).get(x.dataset_id)!).add(
          x.name,
        );
      }
      pick(
        'columns',
        colOrdered,
        (id) => f.get(id)!.dataset + f.get(id)!.name,
        (id, depth) => {
          const x = f.get(id)!;
          const transformations = [...new Set(arriving.get(id)!.map((e) => `${e.type}/${e.subtype}`))].sort();
          return {
            namespace: x.namespace,
            dataset: x.dataset,
            column: x.name,
            depth,
            transformations,
            path: colPath(id),
          };
        },
      );
    }

    // quality expectations on the affected warehouse tables (and, for a column, on the affected columns)
    const affected = new Map<string, { id: string }>(); // "schema.table" -> dataset
    const prefix = `${this.warehouse.location.database}.`;
    for (const id of reachedDs.keys()) {
      const r = dsById.get(id)!;
      if (r.namespace === this.warehouse.location.namespace && r.name.startsWith(prefix))
        affected.set(r.name.slice(prefix.length), { id });
    }
    if (affected.size) {
      const suites = await this.suites.listSuites();
      const names = [...new Set(suites.map((s) => s.dataset))];
      const catalogued = new Map(
        await Promise.all(names.map(async (n) => [n, await this.catalog.findDataset(n)] as const)),
      );
      for (const s of suites) {
        const cat = catalogued.get(s.dataset);
        if (!cat) continue;
        const hit = affected.get(`${cat.schema}.${cat.table}`);
        if (!hit) continue;
        const cols =
          column !== undefined
            ? hit.id === start.id
              ? new Set([column])
              : (affectedColumns.get(hit.id) ?? new Set<string>())
            : undefined;
        s.expectations.forEach((e, index) => {
          const kw = e.kwargs as Record<string, unknown>;
          const named = [
            kw['column'],
            kw['column_A'],
            kw['column_B'],
            ...((kw['column_list'] as unknown[]) ?? []),
          ].filter((c): c is string => typeof c === 'string');
          if (cols && !named.some((c) => cols.has(c))) return;
          report.expectations.push({
            suite: s.name,
            dataset: s.dataset,
            table: `${cat.schema}.${cat.table}`,
            expectation: e.type,
            column: named[0] ?? null,
            index,
            path: dsPath(hit.id),
          });
        });
      }
    }
    report.counts.expectations = report.expectations.length;
    if (report.expectations.length > limit) {
      report.expectations = report.expectations.slice(0, limit);
      report.truncated = true;
    }
    return report;
  }

  /** A dataset by lineage node id, `<namespace>:<name>`, warehouse `schema.table` or catalog name. */
  async findDataset(ref: string): Promise<{ id: string; namespace: string; name: string }> {
    const tryName = (ns: string, name: string) => this.reads.dataset(ns, name);
    const loc = this.warehouse.location;
    if (ref.startsWith('dataset:')) {
      const n = await this.graph.resolve(ref);
      if (n?.kind === 'dataset') return n;
    } else {
      const n = await this.graph.resolve(`dataset:${ref}`);
      if (n?.kind === 'dataset') return n;
      if (/^[^.:]+\.[^.:]+$/.test(ref)) {
        const r = await tryName(loc.namespace, `${loc.database}.${ref}`);
        if (r) return r;
      }
      const cat = /^[A-Za-z_][A-Za-z0-9_]*$/.test(ref) ? await this.catalog.findDataset(ref) : undefined;
      if (cat) {
        const r = await tryName(loc.namespace, `${loc.database}.${cat.schema}.${cat.table}`);
        if (r) return r;
      }
    }
    throw new DatasetNotFoundError(
      `The lineage graph has no dataset ${JSON.stringify(ref)} (give a catalog name, schema.table, or <namespace>:<name>)`,
    );
  }
}

/** A run in Marquez's shape (its states named as Marquez names them). */
function runData(r: RunRow): Record<string, unknown> {
  return {
    id: r['id'],
    state:
      r['state'] === 'START'
        ? 'RUNNING'
        : r['state'] === 'COMPLETE'
          ? 'COMPLETED'
          : r['state'] === 'FAIL'
            ? 'FAILED'
            : r['state'] === 'ABORT'
              ? 'ABORTED'
              : r['state'],
    createdAt: r['created_at'],
    updatedAt: r['updated_at'],
    nominalStartTime: r['nominal_start_time'],
    nominalEndTime: r['nominal_end_time'],
    startedAt: r.started_at,
    endedAt: r.ended_at,
    durationMs: r.started_at && r.ended_at ? r.ended_at.getTime() - r.started_at.getTime() : null,
    parentRunId: r['parent_run_id'],
    jobVersion: { namespace: r['job_namespace'], name: r['job_name'] },
    facets: r['facets'],
  };
}
