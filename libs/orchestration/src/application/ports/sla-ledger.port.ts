/** Inject with `@Inject(SLA_LEDGER)`: missed SLAs of scheduled runs, each recorded once (internal to orchestration). */
export const SLA_LEDGER = Symbol('SLA_LEDGER');

/** A scheduled time whose deadline passed without its run succeeding by then. */
export interface OverdueTick {
  pipelineId: string;
  pipeline: string;
  scheduledFor: Date;
  deadline: Date;
  /** The tick's run (null: it never started), its status and partition now. */
  runId: string | null;
  runStatus: string | null;
  partition: string | null;
}

export interface SlaMissRecord {
  id: string;
  pipelineId: string;
  pipeline: string;
  runId: string | null;
  scheduledFor: Date;
  deadline: Date;
  runStatus: string | null;
  detectedAt: Date;
}

/**
 * SLA misses: found from the schedule ticks of pipelines with an `sla`, and recorded by inserting
 * the (pipeline, scheduled time) row — with several schedulers, the one whose insert wins alerts.
 */
export interface SlaLedger {
  /**
   * Ticks whose deadline (tick + the pipeline's current `sla`) is at or before `now`, at most a day
   * before, and after the pipeline's definition last changed; with no miss recorded and no run
   * that succeeded by the deadline.
   */
  overdue(now: Date): Promise<OverdueTick[]>;
  /** True when this call recorded it (nobody had). */
  record(t: OverdueTick): Promise<boolean>;
  /** Newest first. */
  list(filter: { pipelineId?: string; limit: number }): Promise<SlaMissRecord[]>;
}
