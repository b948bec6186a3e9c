import type { Warehouse } from '@weir/platform';
import type { CatalogPort } from '@weir/catalog';
import type { QualitySuites } from '@weir/quality';
import {
  columnPath,
  datasetPath,
  expectationColumns,
  ImpactReport,
  nearest,
  walkColumns,
  walkDatasets,
} from '../domain/impact';
import { datasetNodeId, fieldNodeId, jobNodeId } from '../infrastructure/lineage-graph.repository';
import type { LineageGraph } from '../infrastructure/lineage-graph.repository';
import type { LineageReadRepository } from '../infrastructure/lineage-read.repository';
import { ColumnNotFoundError } from '../lineage.errors';

/** A model's name from its job's (`model.<project>.<name>` or `<name>`). */
const modelNameOf = (job: string) =>
  job
    .replace(/^model\./, '')
    .split('.')
    .pop()!;

/**
 * impact-analysis: what a change to a dataset (or one of its columns) reaches downstream — the
 * datasets, jobs and models along job steps, the columns along field edges, and the quality
 * expectations on the warehouse tables (and columns) reached; the walks are domain/impact.ts.
 */
export class ImpactAnalysis {
  constructor(
    private readonly graph: LineageGraph,
    private readonly reads: LineageReadRepository,
    private readonly warehouse: Warehouse,
    private readonly catalog: CatalogPort,
    private readonly suites: QualitySuites,
    private readonly findDataset: (ref: string) => Promise<{ id: string; namespace: string; name: string }>,
  ) {}

  async impact(dataset: string, column: string | undefined, d: number, limit: number): Promise<ImpactReport> {
    const start = await this.findDataset(dataset);
    // the column walk runs beside the dataset walk (its own connection)
    const columnRows = this.columnRows(start.id, start.name, column, d);
    columnRows.catch(() => undefined); // awaited below; not unhandled if the dataset walk fails first
    const steps = await this.graph.downstreamSteps(start.id, d);
    const [dsRows, jobRows] = await Promise.all([
      this.graph.datasetNames([...new Set([start.id, ...steps.map((s) => s.to_id)])]),
      this.graph.jobNames([...new Set(steps.map((s) => s.job_id))]),
    ]);
    const dsById = new Map(dsRows.map((r) => [r.id, r]));
    const jobById = new Map(jobRows.map((r) => [r.id, r]));
    const walk = walkDatasets(start.id, steps);
    const dsNode = (id: string) => datasetNodeId(dsById.get(id)!.namespace, dsById.get(id)!.name);
    const jobNode = (id: string) => jobNodeId(jobById.get(id)!.namespace, jobById.get(id)!.name);
    const dsPath = (id: string) => datasetPath(walk, id, dsNode, jobNode);
    const jobPath = (id: string) => [...dsPath(walk.jobs.get(id)!.from), jobNode(id)];
    const report: ImpactReport = {
      node: datasetNodeId(start.namespace, start.name),
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
    // each list: every entry counted; the nearest `limit` kept (ties by name), built with their paths
    const pick = <E>(
      k: 'datasets' | 'columns' | 'jobs' | 'models',
      ordered: { id: string; depth: number }[],
      key: (id: string) => string,
      make: (id: string, depth: number) => E,
    ) => {
      const n = nearest(ordered, key, limit);
      report.counts[k] = n.count;
      if (n.truncated) report.truncated = true;
      (report[k] as unknown[]) = n.kept.map((x) => make(x.id, x.depth));
    };
    const dsOrdered = [...walk.datasets].filter(([id]) => id !== start.id).map(([id, r]) => ({ id, depth: r!.depth }));
    pick(
      'datasets',
      dsOrdered,
      (id) => dsById.get(id)!.name,
      (id, depth) => ({ namespace: dsById.get(id)!.namespace, name: dsById.get(id)!.name, depth, path: dsPath(id) }),
    );
    const jobOrdered = [...walk.jobs].map(([id, r]) => ({ id, depth: r.depth }));
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
    const modelName = (id: string) => modelNameOf(jobById.get(id)!.name);
    pick(
      'models',
      jobOrdered.filter((j) => jobById.get(j.id)!.job_type === 'MODEL'),
      modelName,
      (id) => ({ name: modelName(id), job: jobById.get(id)!.name, path: jobPath(id) }),
    );
    const affectedColumns = this.columnImpact(await columnRows, pick);
    const warehouseTables = this.warehouseTables([...walk.datasets.keys()], dsById);
    const cols = (id: string) =>
      column === undefined ? undefined : id === start.id ? new Set([column]) : (affectedColumns.get(id) ?? new Set());
    report.expectations = await this.expectationImpact(warehouseTables, cols, dsPath);
    report.counts.expectations = report.expectations.length;
    if (report.expectations.length > limit) {
      report.expectations = report.expectations.slice(0, limit);
      report.truncated = true;
    }
    return report;
  }

  /** The reached datasets that are warehouse tables, by "schema.table". */
  private warehouseTables(
    ids: string[],
    dsById: Map<string, { namespace: string; name: string }>,
  ): Map<string, string> {
    const out = new Map<string, string>();
    const prefix = `${this.warehouse.location.database}.`;
    for (const id of ids) {
      const r = dsById.get(id)!;
      if (r.namespace === this.warehouse.location.namespace && r.name.startsWith(prefix))
        out.set(r.name.slice(prefix.length), id);
    }
    return out;
  }

  /** The column (or every column of the dataset) and the field edges and fields downstream of it. */
  private async columnRows(datasetId: string, name: string, column: string | undefined, depth: number) {
    const seeds = await this.reads.fieldsOf(datasetId, column ?? null);
    if (column !== undefined && !seeds.length)
      throw new ColumnNotFoundError(`The lineage graph knows no column ${JSON.stringify(column)} on ${name}`);
    if (!seeds.length) return { seeds, edges: [], fieldRows: [] };
    const edges = await this.graph.downstreamFieldEdges(
      seeds.map((s) => s.id),
      depth,
    );
    const fieldRows = await this.graph.fields([
      ...new Set([...seeds.map((s) => s.id), ...edges.flatMap((e) => [e.s, e.t])]),
    ]);
    return { seeds, edges, fieldRows };
  }

  /** The columns list of the report; returns the affected columns per dataset id. */
  private columnImpact(
    rows: Awaited<ReturnType<ImpactAnalysis['columnRows']>>,
    pick: <E>(
      k: 'columns',
      ordered: { id: string; depth: number }[],
      key: (id: string) => string,
      make: (id: string, depth: number) => E,
    ) => void,
  ): Map<string, Set<string>> {
    const affected = new Map<string, Set<string>>();
    if (!rows.seeds.length) return affected;
    const f = new Map(rows.fieldRows.map((r) => [r.id, r]));
    const walk = walkColumns(
      rows.seeds.map((s) => s.id),
      rows.edges,
    );
    const ordered: { id: string; depth: number }[] = [];
    for (const [id, r] of walk.reached) {
      if (r.depth === 0) continue;
      ordered.push({ id, depth: r.depth });
      const x = f.get(id)!;
      (affected.get(x.dataset_id) ?? affected.set(x.dataset_id, new Set()).get(x.dataset_id)!).add(x.name);
    }
    const node = (id: string) => fieldNodeId(f.get(id)!.namespace, f.get(id)!.dataset, f.get(id)!.name);
    pick(
      'columns',
      ordered,
      (id) => f.get(id)!.dataset + f.get(id)!.name,
      (id, depth) => {
        const x = f.get(id)!;
        const transformations = [...new Set(walk.arriving.get(id)!.map((e) => `${e.type}/${e.subtype}`))].sort();
        return {
          namespace: x.namespace,
          dataset: x.dataset,
          column: x.name,
          depth,
          transformations,
          path: columnPath(walk, id, node),
        };
      },
    );
    return affected;
  }

  /** Quality expectations on the affected warehouse tables (for a column: on the affected columns). */
  private async expectationImpact(
    tables: Map<string, string>,
    columnsOf: (datasetId: string) => Set<string> | undefined,
    pathTo: (datasetId: string) => string[],
  ): Promise<ImpactReport['expectations']> {
    const out: ImpactReport['expectations'] = [];
    if (!tables.size) return out;
    const suites = await this.suites.listSuites();
    const names = [...new Set(suites.map((s) => s.dataset))];
    const catalogued = new Map(
      await Promise.all(names.map(async (n) => [n, await this.catalog.findDataset(n)] as const)),
    );
    for (const s of suites) {
      const cat = catalogued.get(s.dataset);
      const hit = cat ? tables.get(`${cat.schema}.${cat.table}`) : undefined;
      if (!cat || hit === undefined) continue;
      const cols = columnsOf(hit);
      s.expectations.forEach((e, index) => {
        const named = expectationColumns(e.kwargs as Record<string, unknown>);
        if (cols && !named.some((c) => cols.has(c))) return;
        out.push({
          suite: s.name,
          dataset: s.dataset,
          table: `${cat.schema}.${cat.table}`,
          expectation: e.type,
          column: named[0] ?? null,
          index,
          path: pathTo(hit),
        });
      });
    }
    return out;
  }
}
