import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Dependent, Warehouse } from '@weir/platform';
import { CATALOG, CatalogPort } from '@weir/catalog';
import { QUALITY_SUITES, QualitySuites } from '@weir/quality';
import {
  LineageGraph,
  ResolvedNode,
  Direction,
  datasetNodeId,
  jobNodeId,
} from '../infrastructure/lineage-graph.repository';
import { datasetData, jobData } from '../infrastructure/marquez-shape.mapper';
import { LineageReadRepository, type RunRow } from '../infrastructure/lineage-read.repository';
import type { EventsQuery, SearchQuery } from '../infrastructure/lineage-read.sql';
import type { LineageNode } from '../domain/graph-render';
import { IMPACT_LIMIT, ImpactReport, MAX_DEPTH } from '../domain/impact';
import { ImpactAnalysis } from './impact-analysis.service';
import { LINEAGE_CONFIG, LineageConfig } from '../lineage.config';

import type { LineageQueriesPort } from './ports/lineage-queries.port';
import {
  BadDepthError,
  BadNodeIdError,
  DatasetNotFoundError,
  JobNotFoundError,
  NamespaceNotFoundError,
  NodeNotFoundError,
  RunNotFoundError,
} from '../lineage.errors';

export { IMPACT_LIMIT, MAX_DEPTH } from '../domain/impact';
export type { ImpactReport, ImpactStep } from '../domain/impact';

/** Reads of the lineage graph: Marquez-compatible API, impact analysis, pictures. */
@Injectable()
export class LineageQueryService implements LineageQueriesPort, OnModuleInit {
  readonly graph: LineageGraph;
  private readonly reads: LineageReadRepository;
  private readonly impacts: ImpactAnalysis;

  constructor(
    ds: DataSource,
    private readonly warehouse: Warehouse,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    @Inject(QUALITY_SUITES) private readonly suites: QualitySuites,
    @Inject(LINEAGE_CONFIG) private readonly config: LineageConfig,
  ) {
    this.graph = new LineageGraph(ds);
    this.reads = new LineageReadRepository(ds);
    this.impacts = new ImpactAnalysis(this.graph, this.reads, warehouse, catalog, suites, (ref) =>
      this.findDataset(ref),
    );
  }

  onModuleInit(): void {
    // a dataset other systems read (as their OpenLineage events say) is not deleted from the catalog
    this.catalog.addDependentsProbe((d) => this.externalReaders(d.schema, d.table));
  }

  /**
   * Jobs of other systems (OpenLineage namespaces other than Weir's own) whose current lineage reads
   * the warehouse relation `schema.table`. Weir's own jobs are left to their slices, which know
   * whether the source, project or pipeline behind them still exists.
   */
  async externalReaders(schema: string, table: string): Promise<Dependent[]> {
    const loc = this.warehouse.location;
    const jobs = await this.reads.readers(loc.namespace, `${loc.database}.${schema}.${table}`, this.config.namespace);
    return jobs.map((j) => ({
      kind: 'job',
      name: `${j.namespace}:${j.name}`,
      detail: 'reads it (its OpenLineage events say so; ?force=true deletes anyway)',
      overridable: true,
    }));
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
   * Marquez `GET /api/v1/search`: datasets and jobs whose name contains `q` (case-insensitive):
   * exact matches first, then prefix matches, then the rest; each group by name or by last update.
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
  /** What a change to a dataset (or one of its columns) reaches downstream; see {@link ImpactAnalysis}. */
  async impact(dataset: string, column?: string, depth?: number, limit = IMPACT_LIMIT.default): Promise<ImpactReport> {
    return this.impacts.impact(dataset, column, this.depthOf(depth, MAX_DEPTH), limit);
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
