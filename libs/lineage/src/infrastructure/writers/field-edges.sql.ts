import type { SqlStatement } from './graph-rows.util';

/** A field-derives-from-field edge, by ids. */
export interface FieldEdge {
  target: string;
  source: string;
  type: string;
  subtype: string;
  job: string | null;
  description: string | null;
}

/** The edges into the fields of some datasets, with each target field's dataset (`d`). */
export function edgesIntoDatasetsSql(datasetIds: string[]): SqlStatement {
  return {
    sql: `SELECT e.id, e.target_field_id AS t, e.source_field_id AS s, e.type, e.subtype, e.job_id, e.description, f.dataset_id AS d
             FROM lineage.field_edges e JOIN lineage.fields f ON f.id = e.target_field_id
            WHERE e.target_field_id = ANY (ARRAY(SELECT id FROM lineage.fields WHERE dataset_id = ANY($1::bigint[])))`,
    params: [datasetIds],
  };
}

/** Deletes field edges by id. */
export function deleteFieldEdgesSql(ids: string[]): SqlStatement {
  return { sql: `DELETE FROM lineage.field_edges WHERE id = ANY($1::bigint[])`, params: [ids] };
}

/** Inserts field edges (in target, source, type order), or updates the description of those there. */
export function upsertFieldEdgesSql(edges: FieldEdge[]): SqlStatement {
  return {
    sql: `INSERT INTO lineage.field_edges (target_field_id, source_field_id, type, subtype, job_id, description)
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::varchar[], $4::varchar[], $5::bigint[], $6::text[])
           ON CONFLICT (target_field_id, source_field_id, type, subtype, (COALESCE(job_id, 0))) DO UPDATE SET description = EXCLUDED.description, updated_at = now()`,
    params: [
      edges.map((e) => e.target),
      edges.map((e) => e.source),
      edges.map((e) => e.type),
      edges.map((e) => e.subtype),
      edges.map((e) => e.job),
      edges.map((e) => e.description),
    ],
  };
}

/**
 * Deletes the field edges a job gave into outputs it no longer writes: for each (job, dataset) of
 * `outputs`, the edges of that job into the dataset's fields.
 */
export function deleteJobFieldEdgesSql(outputs: { job: string; dataset: string }[]): SqlStatement {
  return {
    sql: `DELETE FROM lineage.field_edges fe USING unnest($2::bigint[], $3::bigint[]) AS x(j, d), lineage.fields f
          WHERE fe.target_field_id = ANY (ARRAY(SELECT id FROM lineage.fields WHERE dataset_id = ANY($1::bigint[])))
            AND f.id = fe.target_field_id AND f.dataset_id = x.d AND fe.job_id = x.j`,
    params: [[...new Set(outputs.map((e) => e.dataset))], outputs.map((e) => e.job), outputs.map((e) => e.dataset)],
  };
}
