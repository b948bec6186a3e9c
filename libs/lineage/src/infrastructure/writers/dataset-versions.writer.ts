import { isDeepStrictEqual } from 'node:util';
import type { Queryable } from '@weir/platform';
import type { GraphDelta } from '../../domain/graph-delta';
import type { DatasetRow } from './datasets.writer';
import type { Json } from './graph-rows.util';
import { insertVersionsSql } from './dataset-versions.sql';

/**
 * lineage.dataset_versions: a new version each time a dataset's field list differs from its current
 * one (in the order the batch saw them), stamped with `runId`. Returns the ids of the datasets whose
 * schema changed.
 */
export async function writeDatasetVersions(
  tx: Queryable,
  schemas: GraphDelta['schemas'],
  found: Map<string, DatasetRow>,
  runId: string | null,
): Promise<Set<string>> {
  const versions: { id: string; version: number; fields: Json[] }[] = [];
  for (const [dk, seq] of schemas) {
    const r = found.get(dk)!;
    let version = r.current_version;
    let current = r.fields;
    for (const fs of seq) {
      if (current && isDeepStrictEqual(current, fs)) continue;
      version++;
      current = fs;
      versions.push({ id: r.id, version, fields: fs });
    }
  }
  if (versions.length) {
    versions.sort((a, b) => Number(a.id) - Number(b.id) || a.version - b.version);
    const { sql, params } = insertVersionsSql(versions, runId);
    await tx.query(sql, params);
  }
  return new Set(versions.map((v) => v.id));
}
