import type { RunRow } from '../../domain/graph-delta';
import type { SqlStatement } from './graph-rows.util';

/** A run to upsert: the folded run, its job's id and the datasets it declared (`{"i<id>": 1, "o<id>": 1}`). */
export type RunUpsert = RunRow & { jobId: string | undefined; declared: Record<string, number> };

/**
 * Upserts runs (in id order). An end is final (a START or RUNNING after COMPLETE, FAIL or ABORT does
 * not reopen the run), otherwise the later event's state wins; facets and declared datasets merge.
 * Returns each run with `superseded`: it completed, but another run of its job completed later.
 */
export function upsertRunsSql(runs: RunUpsert[]): SqlStatement {
  return {
    sql: `INSERT INTO lineage.runs (id, job_id, state, parent_run_id, nominal_start_time, nominal_end_time, started_at, ended_at, event_time, facets, declared)
         SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::varchar[], $4::uuid[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], $9::timestamptz[], $10::jsonb[], $11::jsonb[])
         ON CONFLICT (id) DO UPDATE SET
           state = CASE
             WHEN lineage.runs.state IN ('COMPLETE', 'FAIL', 'ABORT') AND EXCLUDED.state NOT IN ('COMPLETE', 'FAIL', 'ABORT') THEN lineage.runs.state
             WHEN lineage.runs.state NOT IN ('COMPLETE', 'FAIL', 'ABORT') AND EXCLUDED.state IN ('COMPLETE', 'FAIL', 'ABORT') THEN EXCLUDED.state
             WHEN EXCLUDED.event_time >= lineage.runs.event_time THEN EXCLUDED.state ELSE lineage.runs.state END,
           event_time = GREATEST(lineage.runs.event_time, EXCLUDED.event_time),
           parent_run_id = COALESCE(EXCLUDED.parent_run_id, lineage.runs.parent_run_id),
           nominal_start_time = COALESCE(EXCLUDED.nominal_start_time, lineage.runs.nominal_start_time),
           nominal_end_time = COALESCE(EXCLUDED.nominal_end_time, lineage.runs.nominal_end_time),
           started_at = LEAST(lineage.runs.started_at, EXCLUDED.started_at),
           ended_at = GREATEST(lineage.runs.ended_at, EXCLUDED.ended_at),
           facets = lineage.runs.facets || EXCLUDED.facets, declared = lineage.runs.declared || EXCLUDED.declared, updated_at = now()
         RETURNING id::text, job_id::text, state, ended_at, declared,
           -- another run of the job completed later (seen at statement start; this batch's own runs are compared below)
           state = 'COMPLETE' AND EXISTS (SELECT 1 FROM lineage.runs o WHERE o.job_id = lineage.runs.job_id AND o.event_time > lineage.runs.ended_at
                                            AND o.id <> lineage.runs.id AND o.state = 'COMPLETE' AND o.ended_at > lineage.runs.ended_at) AS superseded`,
    params: [
      runs.map((r) => r.id),
      runs.map((r) => r.jobId),
      runs.map((r) => r.state),
      runs.map((r) => r.parent),
      runs.map((r) => r.nominalStart),
      runs.map((r) => r.nominalEnd),
      runs.map((r) => r.startedAt),
      runs.map((r) => r.endedAt),
      runs.map((r) => r.eventTime),
      runs.map((r) => JSON.stringify(r.facets)),
      runs.map((r) => JSON.stringify(r.declared)),
    ],
  };
}
