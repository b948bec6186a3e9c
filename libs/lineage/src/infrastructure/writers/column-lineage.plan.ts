import { createHash } from 'node:crypto';
import { datasetLevelOf, graphKey, type GraphDelta } from '../../domain/graph-delta';
import type { DatasetRow } from './datasets.writer';
import type { IdMap, Json } from './graph-rows.util';

/** When a job last gave the column lineage of an output: a digest of it, and its event time. */
export interface LineageStamp {
  hash: string | null;
  at: Date | null;
}

/** `${job id}\u0001${dataset id}` -> what its output edge remembers of the column lineage last given. */
export type KnownLineage = Map<string, LineageStamp>;

/**
 * Digest of a column-lineage facet (its fields and dataset-level lineage, not who produced it), as
 * sent: a producer that reorders keys between runs only costs a re-check, never a wrong skip.
 */
export function digest(facet: Json, columns?: string[]): string {
  return createHash('sha1')
    .update(JSON.stringify([facet['fields'] ?? null, facet['dataset'] ?? null, ...(columns ? [columns] : [])]))
    .digest('hex');
}

/** Transformation of an OpenLineage input field, with the deprecated 1-0 fields as fallback. */
export function transformationsOf(
  inputField: Json,
  outputField: Json,
  datasetLevel = false,
): { type: 'DIRECT' | 'INDIRECT'; subtype: string; description: string | null }[] {
  const ts = Array.isArray(inputField['transformations']) ? (inputField['transformations'] as Json[]) : [];
  // dataset-level lineage affects the whole dataset, not a value: INDIRECT unless told otherwise
  if (!ts.length && datasetLevel) return [{ type: 'INDIRECT', subtype: 'INDIRECT', description: null }];
  if (ts.length) {
    return ts.map((t) => ({
      type: t['type'] === 'INDIRECT' ? 'INDIRECT' : 'DIRECT',
      subtype:
        typeof t['subtype'] === 'string' && t['subtype']
          ? String(t['subtype']).toUpperCase().slice(0, 16)
          : t['type'] === 'INDIRECT'
            ? 'INDIRECT'
            : 'TRANSFORMATION',
      description: typeof t['description'] === 'string' ? t['description'] : null,
    }));
  }
  const legacy =
    typeof outputField['transformationType'] === 'string'
      ? String(outputField['transformationType']).toUpperCase()
      : '';
  return [
    {
      type: 'DIRECT',
      subtype: legacy === 'IDENTITY' ? 'IDENTITY' : 'TRANSFORMATION',
      description:
        typeof outputField['transformationDescription'] === 'string' ? outputField['transformationDescription'] : null,
    },
  ];
}

/**
 * Works out, for each (job, output) column-lineage entry of the batch, its dataset-level entries
 * and the output columns they reach (those the facet names and those of the output's latest
 * schema), and returns the digest each output edge will remember (with those columns, when
 * dataset-level entries reach them all). Sets `datasetLevel` and `outputs` on the entries.
 */
export function planColumnLineage(
  delta: Pick<GraphDelta, 'lineage' | 'schemas'>,
  found: Map<string, DatasetRow>,
): Map<string, string> {
  const outputFieldsOf = (l: { dataset: string; facet: Json }): string[] => {
    const names = new Set(Object.keys((l.facet['fields'] as Json) ?? {}));
    const seq = delta.schemas.get(l.dataset);
    for (const f of seq?.[seq.length - 1] ?? found.get(l.dataset)?.fields ?? []) names.add(String(f['name']));
    return [...names];
  };
  const hashes = new Map<string, string>(); // `${job}\u0001${dataset}` (batch keys) -> digest of the new facet
  for (const [k, l] of delta.lineage) {
    l.datasetLevel = datasetLevelOf(l.facet);
    l.outputs = l.datasetLevel.length ? outputFieldsOf(l) : [];
    hashes.set(k, l.datasetLevel.length ? digest(l.facet, [...l.outputs].sort()) : digest(l.facet));
  }
  return hashes;
}

/**
 * Drops the lineage entries with nothing to write: unchanged since their job last gave them, or
 * older than what it gave last. Then adds to the batch's fields every column the rest name.
 */
export function keepChangedLineage(
  delta: Pick<GraphDelta, 'lineage' | 'addField'>,
  known: KnownLineage,
  hashes: Map<string, string>,
  jobIds: IdMap,
  datasetIds: IdMap,
): void {
  const { lineage } = delta;
  for (const [k, l] of [...lineage.entries()]) {
    if (!l.job) continue;
    const was = known.get(`${jobIds.get(l.job)}\u0001${datasetIds.get(l.dataset)}`);
    if (was && (was.hash === hashes.get(k) || (was.at !== null && new Date(l.at).getTime() < was.at.getTime())))
      lineage.delete(k);
  }
  for (const l of lineage.values()) {
    for (const [out, f] of Object.entries((l.facet['fields'] as Json) ?? {}) as [string, Json][]) {
      delta.addField(l.dataset, out, null, null);
      for (const i of (f['inputFields'] as Json[] | undefined) ?? [])
        delta.addField(graphKey(i['namespace'], i['name']), String(i['field']), null, null);
    }
    for (const out of l.outputs!) delta.addField(l.dataset, out, null, null);
    for (const i of l.datasetLevel!)
      delta.addField(graphKey(i['namespace'], i['name']), String(i['field']), null, null);
  }
}
