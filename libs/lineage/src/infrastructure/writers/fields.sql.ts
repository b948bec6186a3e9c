import type { SqlStatement } from './graph-rows.util';

/** A field to insert or complete, by its dataset's id. */
export interface FieldInput {
  datasetId: string;
  name: string;
  type: string | null;
  description: string | null;
}

/**
 * Inserts the fields not there yet (`fields` in dataset id, name order) and reads back the existing
 * ones (`= ANY(array)` on dataset and name: a superset the writer narrows), flagged `inserted`.
 */
export function insertOrFindFieldsSql(fields: FieldInput[]): SqlStatement {
  return {
    sql: `WITH ins AS (INSERT INTO lineage.fields (dataset_id, name, type, description) SELECT * FROM unnest($1::bigint[], $2::varchar[], $3::varchar[], $4::text[])
                        ON CONFLICT (dataset_id, name) DO NOTHING RETURNING id, dataset_id, name, type, description)
           SELECT *, true AS inserted FROM ins
           UNION ALL SELECT id, dataset_id, name, type, description, false FROM lineage.fields WHERE dataset_id = ANY($5::bigint[]) AND name = ANY($6::varchar[])`,
    params: [
      fields.map((f) => f.datasetId),
      fields.map((f) => f.name),
      fields.map((f) => f.type),
      fields.map((f) => f.description),
      [...new Set(fields.map((f) => f.datasetId))],
      [...new Set(fields.map((f) => f.name))],
    ],
  };
}

/** Updates the type and description of existing fields, by primary key (`changed` in id order). */
export function updateFieldsSql(
  changed: { id: string; type: string | null; description: string | null }[],
): SqlStatement {
  return {
    sql: `UPDATE lineage.fields f SET type = x.t, description = x.d FROM unnest($1::bigint[], $2::varchar[], $3::text[]) AS x(id, t, d) WHERE f.id = ANY($1::bigint[]) AND f.id = x.id`,
    params: [changed.map((c) => c.id), changed.map((c) => c.type), changed.map((c) => c.description)],
  };
}
