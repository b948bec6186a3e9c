import { rowsOf, type Queryable } from '@weir/platform';
import type { GraphDelta } from '../../domain/graph-delta';
import { byId, type IdMap, notVisible, oneRowPerKey } from './graph-rows.util';
import { type FieldInput, insertOrFindFieldsSql, updateFieldsSql } from './fields.sql';

/** `${dataset id}\u0001${field name}` -> field id. */
export type FieldIds = Map<string, string>;

/** Adds to the batch's fields those of the schemas that changed (an unchanged schema's fields are already there). */
export function addSchemaFields(
  delta: Pick<GraphDelta, 'schemas' | 'addField'>,
  changedDatasets: Set<string>,
  datasetIds: IdMap,
): void {
  for (const [dk, seq] of delta.schemas) {
    if (!changedDatasets.has(datasetIds.get(dk)!)) continue;
    for (const fs of seq)
      for (const f of fs)
        delta.addField(
          dk,
          String(f['name']),
          (f['type'] as string | undefined) ?? null,
          (f['description'] as string | undefined) ?? null,
        );
  }
}

/**
 * lineage.fields: inserts the new fields, then completes (by primary key) the type and description
 * of existing ones the batch gives and they lack or have otherwise. Returns every field's id.
 */
export async function writeFields(tx: Queryable, fields: GraphDelta['fields'], datasetIds: IdMap): Promise<FieldIds> {
  const fieldIds: FieldIds = new Map();
  if (!fields.size) return fieldIds;
  const fs: FieldInput[] = [...fields.values()]
    .map((f) => ({ ...f, datasetId: datasetIds.get(f.dataset)! }))
    .sort((a, b) =>
      a.datasetId === b.datasetId ? (a.name < b.name ? -1 : 1) : Number(a.datasetId) - Number(b.datasetId),
    );
  const insert = insertOrFindFieldsSql(fs);
  const rows = rowsOf<{
    id: string;
    dataset_id: string;
    name: string;
    type: string | null;
    description: string | null;
    inserted: boolean;
  }>(await tx.query(insert.sql, insert.params));
  const found = oneRowPerKey(rows, (r) => `${r.dataset_id}\u0001${r.name}`);
  const changed: { id: string; type: string | null; description: string | null }[] = [];
  for (const f of fs) {
    const r = found.get(`${f.datasetId}\u0001${f.name}`);
    if (!r) throw notVisible(`field ${f.name}`);
    fieldIds.set(`${f.datasetId}\u0001${f.name}`, r.id);
    const type = f.type ?? r.type;
    const description = f.description ?? r.description;
    if (!r.inserted && (type !== r.type || description !== r.description))
      changed.push({ id: r.id, type, description });
  }
  if (changed.length) {
    const { sql, params } = updateFieldsSql(changed.sort(byId));
    await tx.query(sql, params);
  }
  return fieldIds;
}
