import { rowsOf, type Queryable } from '@weir/platform';
import type { GraphDelta } from '../../domain/graph-delta';
import type { KnownLineage } from './column-lineage.plan';
import type { IdMap } from './graph-rows.util';
import { deleteJobEdgesSql, insertJobEdgesSql, type JobEdge, stampColumnLineageSql } from './job-datasets.sql';
import type { StoredRun } from './runs.writer';

/** Orders edges by job, direction, dataset: the order statements lock them in. */
export const byEdge = (a: JobEdge, b: JobEdge) =>
  Number(a.job) - Number(b.job) || (a.direction < b.direction ? -1 : 1) || Number(a.dataset) - Number(b.dataset);

/**
 * The jobs whose edges become what one run declared (job id -> `${i|o}${dataset id}` it keeps):
 * a job whose run completed in this batch gets the datasets of that run (over all its events), so
 * a job that stops reading or writing a table loses the edge. The run is the one of the batch that
 * ended last, unless a run of the job that completed later is already stored; a run that declared
 * nothing changes nothing.
 */
export function retargetedJobs(runs: StoredRun[], runIo: GraphDelta['runIo']): Map<string, Set<string>> {
  const chosen = new Map<string, StoredRun>(); // job id -> run
  for (const r of runs) {
    if (r.state !== 'COMPLETE' || !runIo.get(r.id)?.completed || !r.ended_at) continue;
    const c = chosen.get(r.job_id);
    if (!c || r.ended_at.getTime() > c.ended_at!.getTime()) chosen.set(r.job_id, r);
  }
  const target = new Map<string, Set<string>>();
  for (const [job, r] of chosen) {
    if (!r.superseded && Object.keys(r.declared).length) target.set(job, new Set(Object.keys(r.declared)));
  }
  return target;
}

/**
 * lineage.job_datasets: inserts the job-reads/writes-dataset edges of the batch (and, for a
 * retargeted job, those its run declared in earlier batches that a later event took away). Returns
 * what the output edges remember of their column lineage, and the edges of retargeted jobs their
 * run did not declare (`stale`, in lock order), for the caller to drop.
 */
export async function writeJobDatasets(
  tx: Queryable,
  io: GraphDelta['io'],
  target: Map<string, Set<string>>,
  jobIds: IdMap,
  datasetIds: IdMap,
): Promise<{ known: KnownLineage; stale: JobEdge[] }> {
  const known: KnownLineage = new Map();
  const edgeKeys = new Map<string, JobEdge>();
  for (const e of io.values()) {
    const x = { job: jobIds.get(e.job)!, direction: e.direction, dataset: datasetIds.get(e.dataset)! };
    edgeKeys.set(`${x.job}/${x.direction[0]}${x.dataset}`, x);
  }
  for (const [job, keep] of target) {
    for (const d of keep)
      edgeKeys.set(`${job}/${d}`, { job, direction: d[0] === 'i' ? 'input' : 'output', dataset: d.slice(1) });
  }
  const current = new Map<string, Set<string>>(); // job id -> its edges, for the jobs in `target`
  for (const x of edgeKeys.values())
    if (target.has(x.job))
      (current.get(x.job) ?? current.set(x.job, new Set()).get(x.job)!).add(`${x.direction[0]}${x.dataset}`);
  if (edgeKeys.size || target.size) {
    const { sql, params } = insertJobEdgesSql([...edgeKeys.values()].sort(byEdge), [...target.keys()]);
    const rows = rowsOf<{
      job_id: string;
      dataset_id: string;
      hash: string | null;
      at: Date | null;
      direction: 'input' | 'output' | null;
    }>(await tx.query(sql, params));
    for (const r of rows) {
      if (r.direction) current.get(r.job_id)!.add(`${r.direction[0]}${r.dataset_id}`);
      else known.set(`${r.job_id}\u0001${r.dataset_id}`, { hash: r.hash, at: r.at });
    }
  }
  const stale: JobEdge[] = [];
  for (const [job, keep] of target) {
    for (const d of current.get(job) ?? [])
      if (!keep.has(d)) stale.push({ job, direction: d[0] === 'i' ? 'input' : 'output', dataset: d.slice(1) });
  }
  return { known, stale: stale.sort(byEdge) };
}

/** Deletes job edges (`edges` in lock order); none, no statement. */
export async function deleteJobDatasets(tx: Queryable, edges: JobEdge[]): Promise<void> {
  if (!edges.length) return;
  const { sql, params } = deleteJobEdgesSql(edges);
  await tx.query(sql, params);
}

/**
 * Output edges remember a digest of the column lineage their job last gave for them, and the event
 * time it was given at (so unchanged or older lineage is skipped next time).
 */
export async function stampColumnLineage(
  tx: Queryable,
  lineage: GraphDelta['lineage'],
  hashes: Map<string, string>,
  jobIds: IdMap,
  datasetIds: IdMap,
): Promise<void> {
  const stamps = [...lineage.entries()]
    .filter(([, l]) => l.job)
    .map(([k, l]) => ({
      job: jobIds.get(l.job!)!,
      dataset: datasetIds.get(l.dataset)!,
      hash: hashes.get(k)!,
      at: l.at,
    }));
  if (!stamps.length) return;
  const { sql, params } = stampColumnLineageSql(stamps);
  await tx.query(sql, params);
}
