import type { QualityRunView } from '../quality.views';

/** Nest token of {@link QualityRunsPort}. */
export const QUALITY_RUNS = Symbol('QUALITY_RUNS');

/** What a quality run checks: one suite, or every suite of a dataset; on its table or another. */
export interface RunQualityRequest {
  /** One suite, by id or name. */
  suite?: string;
  /** Every suite of this dataset (when `suite` is not given). */
  dataset?: string;
  /** `schema.table` to check instead of the dataset's own table (a staging table, say). */
  table?: string;
  trigger?: 'api' | 'pipeline';
  /** Who asked: a pipeline run, a step. Kept on the run. */
  triggerRef?: string;
  /** The run that asked (a pipeline run): the OpenLineage parent of the quality runs' events. */
  parent?: { job: string; runId: string };
}

/** Quality runs as other slices start and read them (orchestration). */
export interface QualityRunsPort {
  /** Runs the suite(s) now and returns their runs; throws `QUALITY.SUITE_NOT_FOUND` or `QUALITY.NO_SUITES`. */
  run(req: RunQualityRequest): Promise<QualityRunView[]>;
  /** A run. Throws `QUALITY.RUN_NOT_FOUND`. */
  get(id: string): Promise<QualityRunView>;
}
