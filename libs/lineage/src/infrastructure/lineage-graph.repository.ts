import type { DataSource } from 'typeorm';
import type { LineageEdge, LineageNode } from '../domain/graph-render';
import { datasetData, type DatasetRow, jobData, type JobRow } from './marquez-shape.mapper';

/** A node named in a Marquez node id, resolved against the store. */
export type ResolvedNode =
  | { kind: 'dataset'; id: string; namespace: string; name: string }
  | { kind: 'job'; id: string; namespace: string; name: string }
  | { kind: 'field'; id: string; datasetId: string; namespace: string; name: string; field: string };

export type Direction = 'both' | 'upstream' | 'downstream';

export const datasetNodeId = (ns: string, name: string) => `dataset:${ns}:${name}`;
export const jobNodeId = (ns: string, name: string) => `job:${ns}:${name}`;
export const fieldNodeId = (ns: string, name: string, field: string) => `datasetField:${ns}:${name}:${field}`;

/** Every way to cut `s` at one ':' (namespace and name may both contain ':'). */
function cuts(s: string): [string, string][] {
  const out: [string, string][] = [];
  for (let i = s.indexOf(':'); i > 0; i = s.indexOf(':', i + 1)) out.push([s.slice(0, i), s.slice(i + 1)]);
  return out;
}

/**
 * Read side of the lineage store: Marquez-shaped graphs by recursive CTEs over the two-way
 * indexed edge tables. Every walk has a depth bound, and the `UNION` (not `UNION ALL`) of
 * (node, depth) rows is the cycle guard: a node is expanded at most once per depth, so a cycle
 * costs at most `depth` rounds instead of looping.
 */
export class LineageGraph {
  constructor(private readonly ds: DataSource) {}

  /** Resolves `dataset:<ns>:<name>`, `job:<ns>:<name>` or `datasetField:<ns>:<name>:<field>`; undefined when unknown. */
  async resolve(nodeId: string): Promise<ResolvedNode | undefined> {
    const m = /^(dataset|job|datasetField):(.+)$/s.exec(nodeId);
    if (!m) return undefined;
    const [, type, rest] = m;
    if (type === 'dataset' || type === 'job') {
      const cs = cuts(rest);
      if (!cs.length) return undefined;
      const table = type === 'dataset' ? 'lineage.datasets' : 'lineage.jobs';
      const rows = await this.prepared<{ id: string; namespace: string; name: string }>(
        `weir_lineage_resolve_${type}`,
        `SELECT t.id, t.namespace, t.name FROM ${table} t JOIN unnest($1::text[], $2::text[]) AS c(ns, n) ON t.namespace = c.ns AND t.name = c.n LIMIT 1`,
        [cs.map((c) => c[0]), cs.map((c) => c[1])],
      );
      return rows[0] ? { kind: type, id: rows[0].id, namespace: rows[0].namespace, name: rows[0].name } : undefined;
    }
    const cands: [string, string, string][] = [];
    for (const [ns, tail] of cuts(rest)) for (const [name, field] of cuts(tail)) cands.push([ns, name, field]);
    if (!cands.length) return undefined;
    const rows = await this.ds.query(
      `SELECT f.id, f.dataset_id, d.namespace, d.name, f.name AS field FROM lineage.datasets d
         JOIN unnest($1::text[], $2::text[], $3::text[]) AS c(ns, n, f) ON d.namespace = c.ns AND d.name = c.n
         JOIN lineage.fields f ON f.dataset_id = d.id AND f.name = c.f LIMIT 1`,
      [cands.map((c) => c[0]), cands.map((c) => c[1]), cands.map((c) => c[2])],
    );
    return rows[0]
      ? {
          kind: 'field',
          id: rows[0].id,
          datasetId: rows[0].dataset_id,
          namespace: rows[0].namespace,
          name: rows[0].name,
          field: rows[0].field,
        }
      : undefined;
  }

  /**
   * Dataset/job lineage around a node: the jobs within `depth` job hops downstream and/or upstream,
   * each with all its inputs and outputs (Marquez's `/lineage` shape).
   */
  async lineage(
    start: ResolvedNode & { kind: 'dataset' | 'job' },
    depth: number,
    direction: Direction = 'both',
  ): Promise<LineageNode[]> {
    const isDataset = start.kind === 'dataset';
    // one round trip, planned once per connection: the walk, the edges and the nodes as one JSON document
    const [row] = await this.prepared<{ edges: [string, string, string][]; datasets: DatasetRow[]; jobs: JobRow[] }>(
      'weir_lineage_walk',
      `WITH RECURSIVE
        down(job_id, depth) AS (
          SELECT job_id, 1 FROM lineage.job_datasets WHERE $1 AND dataset_id = $2 AND direction = 'input' AND $5
          UNION SELECT $3::bigint, 0 WHERE NOT $1 AND $5
          UNION
          SELECT i.job_id, d.depth + 1 FROM down d
            JOIN lineage.job_datasets o ON o.job_id = d.job_id AND o.direction = 'output'
            JOIN lineage.job_datasets i ON i.dataset_id = o.dataset_id AND i.direction = 'input'
           WHERE d.depth < $4),
        up(job_id, depth) AS (
          SELECT job_id, 1 FROM lineage.job_datasets WHERE $1 AND dataset_id = $2 AND direction = 'output' AND $6
          UNION SELECT $3::bigint, 0 WHERE NOT $1 AND $6
          UNION
          SELECT o.job_id, u.depth + 1 FROM up u
            JOIN lineage.job_datasets i ON i.job_id = u.job_id AND i.direction = 'input'
            JOIN lineage.job_datasets o ON o.dataset_id = i.dataset_id AND o.direction = 'output'
           WHERE u.depth < $4),
        js AS (SELECT job_id FROM down UNION SELECT job_id FROM up UNION SELECT $3::bigint WHERE NOT $1),
        e AS (SELECT jd.job_id, jd.direction, jd.dataset_id FROM lineage.job_datasets jd WHERE jd.job_id = ANY (ARRAY(SELECT job_id FROM js))),
        ds AS (SELECT dataset_id AS id FROM e UNION SELECT $2::bigint WHERE $1)
       SELECT
         (SELECT coalesce(json_agg(json_build_array(e.job_id::text, e.direction, e.dataset_id::text)), '[]') FROM e) AS edges,
         (SELECT coalesce(json_agg(json_build_object('id', d.id::text, 'namespace', d.namespace, 'name', d.name, 'facets', d.facets, 'current_version', d.current_version,
                   'fields', v.fields, 'created_at', d.created_at, 'updated_at', d.updated_at)), '[]')
            FROM lineage.datasets d LEFT JOIN lineage.dataset_versions v ON v.dataset_id = d.id AND v.version = d.current_version
            WHERE d.id = ANY (ARRAY(SELECT id FROM ds))) AS datasets,
         (SELECT coalesce(json_agg(json_build_object('id', j.id::text, 'namespace', j.namespace, 'name', j.name, 'facets', j.facets, 'latest_run_id', j.latest_run_id,
                   'state', r.state, 'started_at', r.started_at, 'ended_at', r.ended_at, 'created_at', j.created_at, 'updated_at', j.updated_at)), '[]')
            FROM lineage.jobs j LEFT JOIN lineage.runs r ON r.id = j.latest_run_id WHERE j.id = ANY (ARRAY(SELECT job_id FROM js))) AS jobs`,
      [
        isDataset,
        isDataset ? start.id : null,
        isDataset ? null : start.id,
        depth,
        direction !== 'upstream',
        direction !== 'downstream',
      ],
    );
    const edges = row.edges.map(([job_id, direction, dataset_id]) => ({ job_id, direction, dataset_id }));
    const datasets = row.datasets;
    const jobRows = row.jobs;

    const nodes = new Map<string, LineageNode>();
    const dsById = new Map(datasets.map((d) => [d.id, d]));
    const inputsOf = new Map<string, { namespace: string; name: string }[]>();
    const outputsOf = new Map<string, { namespace: string; name: string }[]>();
    for (const e of edges) {
      const d = dsById.get(e.dataset_id)!;
      const m = e.direction === 'input' ? inputsOf : outputsOf;
      (m.get(e.job_id) ?? m.set(e.job_id, []).get(e.job_id)!).push({ namespace: d.namespace, name: d.name });
    }
    for (const d of datasets)
      nodes.set(d.id + 'd', {
        id: datasetNodeId(d.namespace, d.name),
        type: 'DATASET',
        data: datasetData(d),
        inEdges: [],
        outEdges: [],
      });
    for (const j of jobRows)
      nodes.set(j.id + 'j', {
        id: jobNodeId(j.namespace, j.name),
        type: 'JOB',
        data: jobData(j, inputsOf.get(j.id) ?? [], outputsOf.get(j.id) ?? []),
        inEdges: [],
        outEdges: [],
      });
    for (const e of edges) {
      const dn = nodes.get(e.dataset_id + 'd')!;
      const jn = nodes.get(e.job_id + 'j');
      if (!jn) continue;
      const edge: LineageEdge =
        e.direction === 'input' ? { origin: dn.id, destination: jn.id } : { origin: jn.id, destination: dn.id };
      (e.direction === 'input' ? dn.outEdges : dn.inEdges).push(edge);
      (e.direction === 'input' ? jn.inEdges : jn.outEdges).push(edge);
    }
    return [...nodes.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** A named (prepared once per connection) statement on the control-plane pool. */
  private async prepared<T>(name: string, text: string, values: unknown[]): Promise<T[]> {
    const pool = (
      this.ds.driver as unknown as {
        master: { query(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: T[] }> };
      }
    ).master;
    return (await pool.query({ name, text, values })).rows;
  }

  /**
   * Column lineage around a field (or every field of a dataset): upstream always, downstream when
   * asked (Marquez's `/column-lineage` shape, DATASET_FIELD nodes).
   */
  async columnLineage(start: ResolvedNode, depth: number, withDownstream: boolean): Promise<LineageNode[]> {
    // one round trip, planned once per connection: the seeds (the field, a dataset's fields or a
    // job's output fields), the walk both ways, and the fields and edges among them as JSON
    const [row] = await this.prepared<{
      fields: [string, string, string | null, string, string, number][];
      edges: [string, string, string, string, string | null][];
    }>(
      'weir_column_lineage_walk',
      `WITH RECURSIVE
        seeds AS (
          SELECT $1::bigint AS id WHERE $4::text = 'field'
          UNION ALL SELECT id FROM lineage.fields WHERE $4::text = 'dataset' AND dataset_id = $1::bigint
          UNION ALL SELECT f.id FROM lineage.job_datasets jd JOIN lineage.fields f ON f.dataset_id = jd.dataset_id
                     WHERE $4::text = 'job' AND jd.job_id = $1::bigint AND jd.direction = 'output'),
        up(field_id, depth) AS (
          SELECT id, 0 FROM seeds
          UNION
          SELECT e.source_field_id, u.depth + 1 FROM up u JOIN lineage.field_edges e ON e.target_field_id = u.field_id WHERE u.depth < $2),
        down(field_id, depth) AS (
          SELECT id, 0 FROM seeds WHERE $3
          UNION
          SELECT e.target_field_id, d.depth + 1 FROM down d JOIN lineage.field_edges e ON e.source_field_id = d.field_id WHERE d.depth < $2),
        ids AS (SELECT field_id AS id FROM up UNION SELECT field_id FROM down)
       SELECT
         (SELECT coalesce(json_agg(json_build_array(f.id::text, f.name, f.type, d.namespace, d.name, d.current_version)), '[]')
            FROM lineage.fields f JOIN lineage.datasets d ON d.id = f.dataset_id WHERE f.id = ANY (ARRAY(SELECT id FROM ids))) AS fields,
         (SELECT coalesce(json_agg(json_build_array(e.target_field_id::text, e.source_field_id::text, e.type, e.subtype, e.description)
                   ORDER BY e.target_field_id, e.source_field_id, e.type, e.subtype), '[]')
            FROM lineage.field_edges e WHERE e.target_field_id = ANY (ARRAY(SELECT id FROM ids)) AND e.source_field_id = ANY (ARRAY(SELECT id FROM ids))) AS edges`,
      [start.id, depth, withDownstream, start.kind],
    );
    const fields = row.fields.map(([id, field, type, namespace, dataset, current_version]) => ({
      id,
      field,
      type,
      namespace,
      dataset,
      current_version,
    }));
    const edges = row.edges.map(([t, s, type, subtype, description]) => ({ t, s, type, subtype, description }));
    const byId = new Map(fields.map((f) => [f.id, f]));
    const nodes = new Map<string, LineageNode>();
    for (const f of fields) {
      nodes.set(f.id, {
        id: fieldNodeId(f.namespace, f.dataset, f.field),
        type: 'DATASET_FIELD',
        data: {
          namespace: f.namespace,
          dataset: f.dataset,
          datasetVersion: f.current_version,
          field: f.field,
          fieldType: f.type,
          inputFields: [] as unknown[],
        },
        inEdges: [],
        outEdges: [],
      });
    }
    const seen = new Set<string>();
    for (const e of edges) {
      const t = nodes.get(e.t)!;
      const s = nodes.get(e.s)!;
      const src = byId.get(e.s)!;
      const inputs = t.data['inputFields'] as {
        namespace: string;
        dataset: string;
        field: string;
        transformations: unknown[];
      }[];
      let input = inputs.find(
        (i) => i.namespace === src.namespace && i.dataset === src.dataset && i.field === src.field,
      );
      if (!input) {
        input = { namespace: src.namespace, dataset: src.dataset, field: src.field, transformations: [] };
        inputs.push(input);
      }
      const tr = input.transformations as { type: string; subtype: string }[];
      if (!tr.some((x) => x.type === e.type && x.subtype === e.subtype))
        tr.push({ type: e.type, subtype: e.subtype, ...(e.description ? { description: e.description } : {}) });
      const k = `${e.s}>${e.t}`;
      if (seen.has(k)) continue;
      seen.add(k);
      const edge = { origin: s.id, destination: t.id };
      s.outEdges.push(edge);
      t.inEdges.push(edge);
    }
    for (const n of nodes.values()) {
      const inputs = n.data['inputFields'] as { transformations: { type: string; subtype: string }[] }[];
      for (const i of inputs)
        Object.assign(i, {
          transformationType: i.transformations.some((t) => t.type === 'DIRECT') ? 'DIRECT' : 'INDIRECT',
          transformationDescription: i.transformations.map((t) => `${t.type}/${t.subtype}`).join(', '),
        });
    }
    return [...nodes.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Everything downstream of a dataset (job hops ≤ depth): the (from, job, to) steps, for paths. */
  async downstreamSteps(
    datasetId: string,
    depth: number,
  ): Promise<{ from_id: string; job_id: string; to_id: string }[]> {
    return this.ds.query(
      `WITH RECURSIVE walk(dataset_id, depth) AS (
         SELECT $1::bigint, 0
         UNION
         SELECT o.dataset_id, w.depth + 1 FROM walk w
           JOIN lineage.job_datasets i ON i.dataset_id = w.dataset_id AND i.direction = 'input'
           JOIN lineage.job_datasets o ON o.job_id = i.job_id AND o.direction = 'output'
          WHERE w.depth < $2)
       SELECT DISTINCT i.dataset_id AS from_id, i.job_id, o.dataset_id AS to_id
         FROM (SELECT dataset_id FROM walk GROUP BY dataset_id HAVING min(depth) < $2) w
         JOIN lineage.job_datasets i ON i.dataset_id = w.dataset_id AND i.direction = 'input'
         JOIN lineage.job_datasets o ON o.job_id = i.job_id AND o.direction = 'output'`,
      [datasetId, depth],
    );
  }

  /** Field edges downstream of some fields (≤ depth hops). */
  async downstreamFieldEdges(
    fieldIds: string[],
    depth: number,
  ): Promise<{ s: string; t: string; type: string; subtype: string }[]> {
    return this.ds.query(
      `WITH RECURSIVE walk(field_id, depth) AS (
         SELECT unnest($1::bigint[]), 0
         UNION
         SELECT e.target_field_id, w.depth + 1 FROM walk w JOIN lineage.field_edges e ON e.source_field_id = w.field_id WHERE w.depth < $2)
       SELECT e.source_field_id AS s, e.target_field_id AS t, e.type, e.subtype
         FROM (SELECT field_id FROM walk GROUP BY field_id HAVING min(depth) < $2) w JOIN lineage.field_edges e ON e.source_field_id = w.field_id`,
      [fieldIds, depth],
    );
  }

  async datasets(ids: string[]): Promise<DatasetRow[]> {
    if (!ids.length) return [];
    return this.ds.query(
      `SELECT d.id, d.namespace, d.name, d.facets, d.current_version, v.fields, d.created_at, d.updated_at
         FROM lineage.datasets d LEFT JOIN lineage.dataset_versions v ON v.dataset_id = d.id AND v.version = d.current_version
        WHERE d.id = ANY($1::bigint[])`,
      [ids],
    );
  }

  async jobs(ids: string[]): Promise<JobRow[]> {
    if (!ids.length) return [];
    return this.ds.query(
      `SELECT j.id, j.namespace, j.name, j.facets, j.latest_run_id, r.state, r.started_at, r.ended_at, j.created_at, j.updated_at
         FROM lineage.jobs j LEFT JOIN lineage.runs r ON r.id = j.latest_run_id
        WHERE j.id = ANY($1::bigint[])`,
      [ids],
    );
  }

  /** Just the names of datasets, for lists of many. */
  async datasetNames(ids: string[]): Promise<{ id: string; namespace: string; name: string }[]> {
    if (!ids.length) return [];
    return this.ds.query(`SELECT id, namespace, name FROM lineage.datasets WHERE id = ANY($1::bigint[])`, [ids]);
  }

  /** Just the names and job types of jobs, for lists of many. */
  async jobNames(ids: string[]): Promise<{ id: string; namespace: string; name: string; job_type: string | null }[]> {
    if (!ids.length) return [];
    return this.ds.query(
      `SELECT id, namespace, name, facets->'jobType'->>'jobType' AS job_type FROM lineage.jobs WHERE id = ANY($1::bigint[])`,
      [ids],
    );
  }

  async fields(
    ids: string[],
  ): Promise<{ id: string; dataset_id: string; name: string; namespace: string; dataset: string }[]> {
    if (!ids.length) return [];
    return this.ds.query(
      `SELECT f.id, f.dataset_id, f.name, d.namespace, d.name AS dataset FROM lineage.fields f JOIN lineage.datasets d ON d.id = f.dataset_id WHERE f.id = ANY($1::bigint[])`,
      [ids],
    );
  }
}
