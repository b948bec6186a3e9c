import { isDeepStrictEqual } from 'node:util';
import { rowsOf, type Queryable } from '@weir/platform';
import { graphKey, type GraphDelta } from '../../domain/graph-delta';
import { byId, byKey, type IdMap, type Json, notVisible, oneRowPerKey, withoutDeleted } from './graph-rows.util';
import { insertOrFindDatasetsSql, updateDatasetsSql } from './datasets.sql';

/** A dataset as found or inserted, with the fields of its current schema version (null when new). */
export interface DatasetRow {
  id: string;
  namespace: string;
  name: string;
  facets: Json;
  current_version: number;
  fields: Json[] | null;
  inserted: boolean;
}

/** What {@link writeDatasets} leaves for the writers after it. */
export interface WrittenDatasets {
  /** graph key -> dataset id */
  ids: IdMap;
  /** graph key -> the row as it was before this batch (its schema version and fields) */
  found: Map<string, DatasetRow>;
}

/**
 * lineage.datasets: inserts the new datasets (one statement, even for none), then updates (by
 * primary key) only the existing ones whose merged facets change.
 */
export async function writeDatasets(tx: Queryable, datasets: GraphDelta['datasets']): Promise<WrittenDatasets> {
  const insert = insertOrFindDatasetsSql([...datasets.entries()].sort(byKey).map(([, d]) => d));
  const found = oneRowPerKey(rowsOf<DatasetRow>(await tx.query(insert.sql, insert.params)), (r) =>
    graphKey(r.namespace, r.name),
  );
  const ids: IdMap = new Map();
  const changed: { id: string; facets: Json }[] = [];
  for (const [k, d] of datasets) {
    const r = found.get(k);
    if (!r) throw notVisible(`dataset ${d.namespace}/${d.name}`);
    ids.set(k, r.id);
    if (r.inserted) continue;
    const merged = withoutDeleted({ ...r.facets, ...d.facets });
    if (!isDeepStrictEqual(merged, r.facets)) changed.push({ id: r.id, facets: merged });
  }
  if (changed.length) {
    const { sql, params } = updateDatasetsSql(changed.sort(byId));
    await tx.query(sql, params);
  }
  return { ids, found };
}
