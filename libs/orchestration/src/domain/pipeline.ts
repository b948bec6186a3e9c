/**
 * A pipeline: a DAG of steps across the slices, defined over REST or as YAML (`pipelines/*.yml`).
 * These are the validated shapes (see pipeline-spec.ts for the validation of raw input).
 */

export const STEP_KINDS = ['ingest', 'build', 'check', 'sql', 'wait_for', 'pipeline', 'export'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export const TRIGGER_RULES = ['all_success', 'all_done', 'one_failed'] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];

/** Retries of a step: attempts in all (1 = no retry), exponential backoff with full jitter. */
export interface RetryPolicy {
  /** Attempts in all, 1..20 (default 1). */
  maxAttempts: number;
  /** First backoff ceiling in ms (default 1000). */
  baseDelayMs: number;
  /** Backoff ceiling never above this (default 300000). */
  maxDelayMs: number;
}

interface StepBase {
  /** Unique in the pipeline: [A-Za-z0-9_-], 1..100. */
  id: string;
  kind: StepKind;
  /** Steps this one runs after (ids in the same pipeline). */
  dependsOn: string[];
  retries: RetryPolicy;
  /** Milliseconds a single attempt may take (default: none). */
  timeoutMs: number | null;
  triggerRule: TriggerRule;
  /** A named concurrency limit (steps of any pipeline in the same pool share it). */
  pool: string | null;
}

/** Run a source (INGESTION_RUNS), optionally with an input path and the run's partition. */
export interface IngestStep extends StepBase {
  kind: 'ingest';
  source: string;
  path: string | null;
  /**
   * Input whose bytes this source already loaded is not loaded again (the source's own schedules
   * work so). Default: each pipeline run loads its input. Without `path`, a source with an inbox
   * loads each file not loaded before, whatever this says.
   */
  skipLoaded?: boolean;
}
/** Build a model selection of a project (MODEL_BUILDS). */
export interface BuildStep extends StepBase {
  kind: 'build';
  project: string;
  select: string | null;
  fullRefresh: boolean;
}
/** Run a quality suite (QUALITY_RUNS). */
export interface CheckStep extends StepBase {
  kind: 'check';
  suite: string;
}
/** One statement on the warehouse, as the writer; the partition's bounds as bound parameters. */
export interface SqlStep extends StepBase {
  kind: 'sql';
  sql: string;
}
/** Wait for another pipeline's partition to succeed, or a dataset fresher than a duration. */
export interface WaitForStep extends StepBase {
  kind: 'wait_for';
  pipeline: string | null;
  dataset: string | null;
  /** For `dataset`: its last load at most this old (ms). */
  freshWithinMs: number | null;
  /** Give up after this long (ms, default 1 hour). */
  waitMs: number;
}
/** Run another pipeline as a sub-DAG (with this run's partition). */
export interface PipelineStep extends StepBase {
  kind: 'pipeline';
  pipeline: string;
}
/** Export a dataset (or a model's relation) to Parquet files (the catalog's lake export). */
export interface ExportStep extends StepBase {
  kind: 'export';
  dataset: string;
  /** A folder under the export root or `s3://bucket/prefix`; `{partition}` becomes the run's partition. */
  target: string;
  partitionBy: string[];
  compression: string | null;
  /** Only partitions not exported to the target before. */
  incremental: boolean;
  /**
   * `clear`: PII columns are written in clear, as for an admin key; only an admin key (or the CLI)
   * may define such a step. Absent (`pii: masked`, the default): masked, as for an editor key.
   */
  pii?: 'clear';
}
export type Step = IngestStep | BuildStep | CheckStep | SqlStep | WaitForStep | PipelineStep | ExportStep;

export interface Schedule {
  /** Five-field cron, or an alias (@hourly, @daily, @weekly, @monthly, @yearly). */
  cron: string | null;
  /** Every this many ms (instead of cron). */
  everyMs: number | null;
  /** IANA time zone (default UTC). */
  timezone: string;
  catchup: 'none' | 'latest' | 'all';
  /**
   * Data-aware: run when these catalog datasets are updated (their loads and builds, published by
   * the catalog) instead of on a clock. Only on dataset schedules.
   */
  datasets?: string[];
  /** `all` (default, as Airflow's dataset schedules): each of `datasets` updated since the last run; `any`: each update. */
  when?: 'all' | 'any';
}

export interface Partitions {
  kind: 'hourly' | 'daily' | 'monthly' | 'static';
  /** ISO date/time the partitions start at (hourly, daily, monthly). */
  start: string | null;
  /** The partition keys (static). */
  values: string[] | null;
}

export interface PipelineSpec {
  /** [a-z][a-z0-9_]{0,62}. */
  name: string;
  description: string | null;
  steps: Step[];
  schedule: Schedule | null;
  partitions: Partitions | null;
  /** Runs of this pipeline at once (default 1). */
  maxActiveRuns: number;
  /** Steps of one run at once (default 4). */
  concurrency: number;
  /** A scheduled run must succeed within this many ms after its tick, else an SLA miss (needs a schedule). */
  sla: number | null;
  /** Alert destinations (by name) that get this pipeline's alerts; empty: the destinations without a pipeline filter. */
  alerts: string[];
}
