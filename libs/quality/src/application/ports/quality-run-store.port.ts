import type { Queryable } from '@weir/platform';

/** One run of a suite, as recorded. */
export interface NewQualityRun {
  suiteId: string;
  dataset: string;
  targetSchema: string;
  targetTable: string;
  status: 'passed' | 'warned' | 'failed';
  trigger: string;
  triggerRef: string | null;
  startedAt: Date;
  finishedAt: Date;
  rowCount: number;
}

/** One expectation's result in a run, with its evidence. */
export interface QualityResultRecord {
  expectationIndex: number;
  expectationType: string;
  kwargs: Record<string, unknown>;
  severity: string;
  success: boolean;
  evidence: Record<string, unknown>;
  exception: string | null;
}

export interface QualityRunRecord extends NewQualityRun {
  id: string;
  /** By expectation index. */
  results: QualityResultRecord[];
}

/** A run in a list: what was checked, when, how it ended, how many expectations failed. */
export interface QualityRunSummary extends NewQualityRun {
  id: string;
  expectations: number;
  failed: number;
}

export interface MetricPoint {
  metric: string;
  value: number;
  runId: string;
  at: Date;
}

/**
 * Storage port for quality runs, their results and the metric history (quality.runs, results,
 * metrics). Adapters: TypeOrmQualityRunStore and InMemoryQualityRunStore, both passing the contract
 * suite in libs/quality/test/quality-run-store.contract.spec.ts.
 */
export interface QualityRunStore {
  /**
   * Records a run with its results and metrics in one transaction; `along` runs inside it with the
   * transaction and the run's id (the run's events go out with it). Returns the run's id.
   */
  record(
    run: NewQualityRun,
    results: QualityResultRecord[],
    metrics: { metric: string; value: number }[],
    along?: (tx: Queryable, runId: string) => Promise<void>,
  ): Promise<string>;
  get(id: string): Promise<QualityRunRecord | undefined>;
  /** Runs newest first, without their results (a dataset's, a suite's, of a status; `before` a startedAt). */
  list(f: {
    dataset?: string;
    suiteId?: string;
    status?: string;
    before?: Date;
    limit: number;
  }): Promise<QualityRunSummary[]>;
  /**
   * The latest values of a dataset's metric, newest first, from runs with this trigger (gate runs
   * and API runs are separate series); `withoutFailed` leaves out failed runs.
   */
  history(dataset: string, metric: string, trigger: string, limit: number, withoutFailed: boolean): Promise<number[]>;
  /** A dataset's metric points (one metric or all), newest first. */
  metrics(dataset: string, metric: string | undefined, limit: number): Promise<MetricPoint[]>;
}

export const QUALITY_RUN_STORE = Symbol('QUALITY_RUN_STORE');
