import { isDeepStrictEqual } from 'node:util';
import { rowsOf, type Queryable } from '@weir/platform';
import { graphKey, type GraphDelta } from '../../domain/graph-delta';
import { byId, byKey, type IdMap, type Json, notVisible, oneRowPerKey, withoutDeleted } from './graph-rows.util';
import { insertOrFindJobsSql, lockJobsSql, updateJobsSql } from './jobs.sql';

interface JobRow {
  id: string;
  namespace: string;
  name: string;
  facets: Json;
  latest_run_id: string | null;
  inserted: boolean;
}

/**
 * lineage.jobs: inserts the new jobs, then updates (by primary key) only the existing ones whose
 * merged facets or latest run change. Returns every job's id by graph key.
 */
export async function writeJobs(tx: Queryable, jobs: GraphDelta['jobs']): Promise<IdMap> {
  const jobIds: IdMap = new Map();
  if (!jobs.size) return jobIds;
  const insert = insertOrFindJobsSql([...jobs.entries()].sort(byKey).map(([, j]) => j));
  const found = oneRowPerKey(rowsOf<JobRow>(await tx.query(insert.sql, insert.params)), (r) =>
    graphKey(r.namespace, r.name),
  );
  const changed: { id: string; facets: Json; run: string | null }[] = [];
  for (const [k, j] of jobs) {
    const r = found.get(k);
    if (!r) throw notVisible(`job ${j.namespace}/${j.name}`);
    jobIds.set(k, r.id);
    if (r.inserted) continue;
    const merged = withoutDeleted({ ...r.facets, ...j.facets });
    if (!isDeepStrictEqual(merged, r.facets) || (j.run !== null && j.run !== r.latest_run_id))
      changed.push({ id: r.id, facets: merged, run: j.run ?? r.latest_run_id });
  }
  if (changed.length) {
    const { sql, params } = updateJobsSql(changed.sort(byId));
    await tx.query(sql, params);
  }
  return jobIds;
}

/**
 * A run completing in this batch makes its job's edges what the run declared: concurrent batches
 * touching the same jobs take turns from here on (each sees the other's runs).
 */
export async function lockCompletingJobs(
  tx: Queryable,
  delta: Pick<GraphDelta, 'runs' | 'runIo'>,
  jobIds: IdMap,
): Promise<void> {
  const completedHere = [...delta.runs.values()].filter((r) => delta.runIo.get(r.id)?.completed);
  const completingJobs = [...new Set(completedHere.map((r) => jobIds.get(r.job)!))].sort(
    (a, b) => Number(a) - Number(b),
  );
  if (!completingJobs.length) return;
  const { sql, params } = lockJobsSql(completingJobs);
  await tx.query(sql, params);
}
