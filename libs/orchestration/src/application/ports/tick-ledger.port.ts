import type { PipelineSpec } from '../../domain/pipeline';

/** Inject with `@Inject(TICK_LEDGER)`: the scheduled times of pipelines, each claimed once (internal). */
export const TICK_LEDGER = Symbol('TICK_LEDGER');

/** A pipeline with a schedule, when its schedule began, and the last tick fired. */
export interface ScheduledPipeline {
  id: string;
  name: string;
  spec: PipelineSpec;
  /** When the pipeline was last defined (its schedule as it is now): no tick before. */
  scheduledSince: Date;
  lastTick: Date | null;
}

/**
 * Ticks of schedules: a (pipeline, scheduled time) row, inserted once — with N schedulers, the one
 * whose insert wins fires the tick, so each tick runs exactly once.
 */
export interface TickLedger {
  scheduled(): Promise<ScheduledPipeline[]>;
  /** True when this instance claimed the tick (nobody had). */
  claim(pipelineId: string, at: Date, by: string): Promise<boolean>;
  /** Claims the ticks nobody had, in one statement; returns those this instance claimed. */
  claimMany(ticks: { pipelineId: string; at: Date }[], by: string): Promise<{ pipelineId: string; at: Date }[]>;
  /** The run the tick started. */
  recordRun(pipelineId: string, at: Date, runId: string): Promise<void>;
  /** Ticks claimed at least `olderThanMs` ago whose run was never recorded (the start failed, the process died). */
  unstarted(olderThanMs: number): Promise<{ pipelineId: string; at: Date }[]>;
}
