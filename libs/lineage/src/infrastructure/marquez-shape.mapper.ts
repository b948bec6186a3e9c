/** Rows of the lineage store in Marquez's shapes (API responses). */

/** A dataset with the fields of its current schema version. */
export interface DatasetRow {
  id: string;
  namespace: string;
  name: string;
  facets: Record<string, unknown>;
  current_version: number;
  fields: { name: string; type?: string; description?: string }[] | null;
  created_at: Date;
  updated_at: Date;
}
/** A job with the state of its latest run. */
export interface JobRow {
  id: string;
  namespace: string;
  name: string;
  facets: Record<string, unknown>;
  latest_run_id: string | null;
  state: string | null;
  started_at: Date | null;
  ended_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** A dataset in Marquez's shape. */
export function datasetData(d: DatasetRow): Record<string, unknown> {
  const facets = d.facets ?? {};
  const docs = facets['documentation'] as { description?: string } | undefined;
  return {
    id: { namespace: d.namespace, name: d.name },
    type: 'DB_TABLE',
    name: d.name,
    physicalName: d.name,
    namespace: d.namespace,
    sourceName: d.namespace,
    createdAt: d.created_at,
    updatedAt: d.updated_at,
    currentVersion: d.current_version,
    fields: (d.fields ?? []).map((f) => ({
      name: f.name,
      type: f.type ?? null,
      tags: [],
      description: f.description ?? null,
    })),
    description: docs?.description ?? null,
    facets,
  };
}

/** A job in Marquez's shape, with its inputs and outputs. */
export function jobData(
  j: JobRow,
  inputs: { namespace: string; name: string }[],
  outputs: { namespace: string; name: string }[],
): Record<string, unknown> {
  const facets = j.facets ?? {};
  const jobType = facets['jobType'] as { processingType?: string; jobType?: string } | undefined;
  const docs = facets['documentation'] as { description?: string } | undefined;
  return {
    id: { namespace: j.namespace, name: j.name },
    type: jobType?.processingType ?? 'BATCH',
    name: j.name,
    simpleName: j.name.split('.').pop(),
    namespace: j.namespace,
    createdAt: j.created_at,
    updatedAt: j.updated_at,
    inputs,
    outputs,
    description: docs?.description ?? null,
    latestRun: j.latest_run_id
      ? { id: j.latest_run_id, state: j.state, startedAt: j.started_at, endedAt: j.ended_at }
      : null,
    facets,
  };
}
