import { type Json, type SqlStatement, withoutDeleted } from './graph-rows.util';

/**
 * Inserts the datasets not there yet and reads back the existing ones with the fields of their
 * current schema version (`= ANY(array)`: a superset the writer narrows). `datasets` in key order.
 */
export function insertOrFindDatasetsSql(datasets: { namespace: string; name: string; facets: Json }[]): SqlStatement {
  return {
    sql: `WITH ins AS (INSERT INTO lineage.datasets (namespace, name, facets) SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::jsonb[])
                      ON CONFLICT (namespace, name) DO NOTHING RETURNING id, namespace, name, facets, current_version)
         SELECT *, NULL::jsonb AS fields, true AS inserted FROM ins
         UNION ALL
         SELECT d.id, d.namespace, d.name, d.facets, d.current_version, v.fields, false FROM lineage.datasets d
           LEFT JOIN lineage.dataset_versions v ON v.dataset_id = d.id AND v.version = d.current_version
          WHERE d.namespace = ANY($4::varchar[]) AND d.name = ANY($2::varchar[])`,
    params: [
      datasets.map((d) => d.namespace),
      datasets.map((d) => d.name),
      datasets.map((d) => JSON.stringify(withoutDeleted(d.facets))),
      [...new Set(datasets.map((d) => d.namespace))],
    ],
  };
}

/** Updates the facets of existing datasets, by primary key (`changed` in id order). */
export function updateDatasetsSql(changed: { id: string; facets: Json }[]): SqlStatement {
  return {
    sql: `UPDATE lineage.datasets d SET facets = x.f, updated_at = now() FROM unnest($1::bigint[], $2::jsonb[]) AS x(id, f) WHERE d.id = ANY($1::bigint[]) AND d.id = x.id`,
    params: [changed.map((c) => c.id), changed.map((c) => JSON.stringify(c.facets))],
  };
}
