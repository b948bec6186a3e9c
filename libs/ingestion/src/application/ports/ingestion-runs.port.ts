import type { RunView } from '../runs.service';

/** Nest token of {@link IngestionRunsPort}. */
export const INGESTION_RUNS = Symbol('INGESTION_RUNS');

/** What starts one run of a source. */
export interface StartIngestionRun {
  /** The source, by id or name. */
  source: string;
  /**
   * The file: `path` relative to WEIR_INGEST_ROOT (default: the source's `location.path`), or
   * `trustedPath`, absolute, for callers inside the process that picked the file themselves.
   */
  input?: { path?: string; trustedPath?: string };
  /**
   * A partition of the source's data (a date, `2026-12-04`; a key, `region=eu`): recorded on the
   * run, and put in place of `{partition}` in the file's path. Letters, digits, `_ . = - /` only.
   */
  partition?: string;
  /** The same key answers with the same run (unless that run failed); default: partition and checksum. */
  idempotencyKey?: string;
  trigger?: 'api' | 'schedule' | 'cli' | 'pipeline';
  createdBy?: string;
  /** The run that asked for this one (a pipeline run): the OpenLineage parent of the run's events. */
  parent?: { job: string; runId: string };
}

/**
 * Ingestion runs as other slices start and follow them (orchestration, modeling's seeds). A
 * run's end is also published on the run-events topic (`RUN_EVENTS_TOPIC`, COMPLETE or FAIL).
 */
/** What a scheduled load of a source runs (see {@link IngestionRunsPort.startDue}). */
export interface StartDueRuns {
  /** The source, by id or name. */
  source: string;
  partition?: string;
  trigger?: 'schedule' | 'pipeline' | 'cli';
  createdBy?: string;
  /** The run that asked (a pipeline run): the OpenLineage parent of the runs' events. */
  parent?: { job: string; runId: string };
  /** For `location.path`: the key of its run (default: its bytes, so the same file answers with the same run). */
  idempotencyKey?: string;
}

export interface IngestionRunsPort {
  /** Queues a run (idempotent by key); `created` is false when the key answered an existing run. */
  start(req: StartIngestionRun): Promise<{ run: RunView; created: boolean }>;
  /**
   * The runs a scheduled load of the source starts: one per inbox file not loaded before
   * (`location.inbox`, `pattern`), or one of `location.path` (the same bytes answer with the same
   * run). `created`: how many are new.
   */
  startDue(req: StartDueRuns): Promise<{ runs: RunView[]; created: number }>;
  /** The run now. Throws `INGESTION.RUN_NOT_FOUND`. */
  get(id: string): Promise<RunView>;
  /**
   * Cancels the run: a queued one fails at once (`INGESTION.CANCELLED`), a running one stops at its
   * worker's next heartbeat before publishing anything. An ended run stays as it ended.
   */
  cancel(id: string): Promise<RunView>;
  /** The run once it succeeded or failed; throws after `timeoutMs`. */
  waitFor(id: string, timeoutMs?: number): Promise<RunView>;
}
