/** Inject with `@Inject(BACKFILL_STORE)`: backfills of pipelines (internal to orchestration). */
export const BACKFILL_STORE = Symbol('BACKFILL_STORE');

export type BackfillStatus = 'running' | 'paused' | 'cancelled' | 'succeeded' | 'failed';

export interface BackfillRecord {
  id: string;
  pipelineId: string;
  /** The partitions in the order they run. */
  partitions: string[];
  /** How many of them have been given a run. */
  nextIndex: number;
  maxParallel: number;
  status: BackfillStatus;
  createdBy: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

/**
 * Backfills: a range of partitions run with bounded parallelism as slots free, surviving restarts
 * (the progress is `nextIndex`, advanced under the backfill's row lock).
 */
export interface BackfillStore {
  create(b: {
    pipelineId: string;
    partitions: string[];
    maxParallel: number;
    createdBy: string | null;
  }): Promise<BackfillRecord>;
  find(id: string): Promise<BackfillRecord | null>;
  list(pipelineId: string): Promise<BackfillRecord[]>;
  /** Running backfills (every instance advances them). */
  running(): Promise<BackfillRecord[]>;
  /** Changes the status from one of `from`; false when it was in none of them. */
  setStatus(id: string, status: BackfillStatus, from: BackfillStatus[]): Promise<boolean>;
  /**
   * Under the backfill's lock, while it is running: `step` gets it and returns how many more of its
   * partitions now have a run (it starts them), and the new index is saved in the same transaction.
   */
  advance(
    id: string,
    step: (b: BackfillRecord) => Promise<{ started: number; end?: 'succeeded' | 'failed' }>,
  ): Promise<void>;
}
