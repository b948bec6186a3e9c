import type { RunStateEvent } from '@weir/platform';

/**
 * The run events of pipeline runs: a pipeline run is an OpenLineage run of job `pipeline.<name>`
 * (job type DAG, as Airflow's DAG runs), and the parent (the `parent` run facet) of the runs its
 * steps start: ingestion runs, builds, quality runs, child pipeline runs.
 */
export const pipelineJob = (pipeline: string): string => `pipeline.${pipeline}`;

/** What a step passes to the run it starts: this pipeline run as its parent. */
export const parentOf = (pipeline: string, runId: string): { job: string; runId: string } => ({
  job: pipelineJob(pipeline),
  runId,
});

/** The event of a pipeline run's state change (START when it starts; COMPLETE, FAIL or ABORT at its end). */
export function pipelineRunEvent(
  pipeline: string,
  runId: string,
  state: RunStateEvent['state'],
  error: string | null,
  parent?: { job: string; runId: string } | null,
): RunStateEvent {
  return {
    slice: 'orchestration',
    job: pipelineJob(pipeline),
    jobType: 'DAG',
    runId,
    state,
    at: new Date().toISOString(),
    inputs: [],
    outputs: [],
    ...(parent ? { parent } : {}),
    ...(state === 'FAIL' && error
      ? { error: { code: 'ORCHESTRATION.RUN_FAILED', message: error.slice(0, 2000) } }
      : state === 'ABORT'
        ? { error: { code: 'ORCHESTRATION.RUN_CANCELLED', message: error ?? 'cancelled' } }
        : {}),
  };
}
