import { rowsOf, type Queryable } from '@weir/platform';
import type { GraphDelta } from '../../domain/graph-delta';
import type { IdMap } from './graph-rows.util';
import { upsertRunsSql } from './runs.sql';

/** A run as the upsert leaves it; `declared` is the set of datasets its events declared so far. */
export interface StoredRun {
  id: string;
  job_id: string;
  state: string;
  ended_at: Date | null;
  declared: Record<string, number>;
  superseded: boolean;
}

/**
 * lineage.runs: upserts every run of the batch (one statement), each keeping the set of datasets
 * its events declared (`{"i<dataset id>": 1, "o<id>": 1}`). Returns the runs as stored.
 */
export async function writeRuns(
  tx: Queryable,
  delta: Pick<GraphDelta, 'runs' | 'runIo'>,
  jobIds: IdMap,
  datasetIds: IdMap,
): Promise<StoredRun[]> {
  if (!delta.runs.size) return [];
  const declaredOf = (runId: string) =>
    Object.fromEntries(
      [...(delta.runIo.get(runId)?.io ?? [])].map((d) => [
        `${d.slice(0, 1)}${datasetIds.get(d.slice(d.indexOf('\u0001') + 1))}`,
        1,
      ]),
    );
  const runs = [...delta.runs.values()]
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((r) => ({ ...r, jobId: jobIds.get(r.job), declared: declaredOf(r.id) }));
  const { sql, params } = upsertRunsSql(runs);
  return rowsOf<StoredRun>(await tx.query(sql, params));
}
