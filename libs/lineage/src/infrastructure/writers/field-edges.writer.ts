import { rowsOf, type Queryable } from '@weir/platform';
import { graphKey, type GraphDelta } from '../../domain/graph-delta';
import { transformationsOf } from './column-lineage.plan';
import type { FieldIds } from './fields.writer';
import type { IdMap, Json } from './graph-rows.util';
import {
  deleteFieldEdgesSql,
  deleteJobFieldEdgesSql,
  edgesIntoDatasetsSql,
  type FieldEdge,
  upsertFieldEdgesSql,
} from './field-edges.sql';

const edgeKey = (t: string, s: string, type: string, subtype: string, job: string | null) =>
  `${t}/${s}/${type}/${subtype}/${job ?? ''}`;

/**
 * The field edges the batch's column lineage gives, and the (output dataset id, job id) pairs it
 * restates (`${dataset}/${job ?? ''}`): what a job says of an output replaces all it said before.
 */
export function wantedFieldEdges(
  lineage: GraphDelta['lineage'],
  jobIds: IdMap,
  datasetIds: IdMap,
  fieldIds: FieldIds,
): { restated: Set<string>; want: Map<string, FieldEdge> } {
  const restated = new Set<string>();
  const want = new Map<string, FieldEdge>();
  const fieldOf = (i: Json) =>
    fieldIds.get(`${datasetIds.get(graphKey(i['namespace'], i['name']))}\u0001${String(i['field'])}`)!;
  for (const l of lineage.values()) {
    const jobId = l.job ? jobIds.get(l.job)! : null;
    const outId = datasetIds.get(l.dataset)!;
    restated.add(`${outId}/${jobId ?? ''}`);
    for (const [out, f] of Object.entries((l.facet['fields'] as Json) ?? {}) as [string, Json][]) {
      const target = fieldIds.get(`${outId}\u0001${out}`)!;
      for (const i of (f['inputFields'] as Json[] | undefined) ?? []) {
        const source = fieldOf(i);
        for (const t of transformationsOf(i, f))
          want.set(edgeKey(target, source, t.type, t.subtype, jobId), { target, source, ...t, job: jobId });
      }
    }
    for (const out of l.outputs!) {
      const target = fieldIds.get(`${outId}\u0001${out}`)!;
      for (const i of l.datasetLevel!) {
        const source = fieldOf(i);
        for (const t of transformationsOf(i, {}, true))
          want.set(edgeKey(target, source, t.type, t.subtype, jobId), { target, source, ...t, job: jobId });
      }
    }
  }
  return { restated, want };
}

/**
 * lineage.field_edges (field derives from field): what a job says of an output's columns replaces
 * all it said before of that output (columns it no longer names included); edges already there
 * with the same description are not written.
 */
export async function writeFieldEdges(
  tx: Queryable,
  lineage: GraphDelta['lineage'],
  jobIds: IdMap,
  datasetIds: IdMap,
  fieldIds: FieldIds,
): Promise<void> {
  const { restated, want } = wantedFieldEdges(lineage, jobIds, datasetIds, fieldIds);
  const read = edgesIntoDatasetsSql([...new Set([...lineage.values()].map((l) => datasetIds.get(l.dataset)!))]);
  const existing = rowsOf<{
    id: string;
    t: string;
    s: string;
    type: string;
    subtype: string;
    job_id: string | null;
    description: string | null;
    d: string;
  }>(await tx.query(read.sql, read.params));
  const have = new Map(existing.map((e) => [edgeKey(e.t, e.s, e.type, e.subtype, e.job_id), e]));
  // what the same job said before about these outputs and says no more
  const gone = existing.filter(
    (e) => restated.has(`${e.d}/${e.job_id ?? ''}`) && !want.has(edgeKey(e.t, e.s, e.type, e.subtype, e.job_id)),
  );
  const upsert = [...want.entries()]
    .filter(([k, e]) => have.get(k)?.description !== e.description || !have.has(k))
    .map(([, e]) => e)
    .sort(
      (a, b) =>
        Number(a.target) - Number(b.target) ||
        Number(a.source) - Number(b.source) ||
        (a.type + a.subtype < b.type + b.subtype ? -1 : 1),
    );
  if (gone.length) {
    const { sql, params } = deleteFieldEdgesSql(gone.map((e) => e.id));
    await tx.query(sql, params);
  }
  if (upsert.length) {
    const { sql, params } = upsertFieldEdgesSql(upsert);
    await tx.query(sql, params);
  }
}

/** Deletes the column lineage jobs gave into outputs they no longer write (`outputs` in lock order). */
export async function deleteJobFieldEdges(tx: Queryable, outputs: { job: string; dataset: string }[]): Promise<void> {
  if (!outputs.length) return;
  const { sql, params } = deleteJobFieldEdgesSql(outputs);
  await tx.query(sql, params);
}
