import type { RunStateEvent } from '@weir/platform';
import type { StepKind } from '../../domain/pipeline';
import type { PartitionRange } from '../../domain/partitions';
import type { StepState } from '../../domain/step-plan';

/** Inject with `@Inject(RUN_QUEUE)`: pipeline runs and the queue of their steps (internal to orchestration). */
export const RUN_QUEUE = Symbol('RUN_QUEUE');

export type PipelineRunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface StepRunRecord {
  id: string;
  runId: string;
  stepId: string;
  kind: StepKind;
  status: StepState;
  /** The step's pool (a named concurrency limit), or null. */
  pool: string | null;
  attempt: number;
  maxAttempts: number;
  readyAt: Date | null;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  errorCode: string | null;
  error: string | null;
  ref: Record<string, unknown> | null;
  output: Record<string, unknown> | null;
}

export interface PipelineRunRecord {
  id: string;
  pipelineId: string;
  version: number;
  status: PipelineRunStatus;
  trigger: string;
  partition: string | null;
  params: Record<string, unknown>;
  idempotencyKey: string;
  createdBy: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
  /** The backfill that started it. */
  backfillId: string | null;
}

/** The latest run of each partition that has one, with when it last succeeded. */
export interface PartitionState {
  partition: string;
  runId: string;
  status: PipelineRunStatus;
  createdAt: Date;
  lastSuccessAt: Date | null;
}

export interface NewPipelineRun {
  pipelineId: string;
  version: number;
  trigger: string;
  partition: string | null;
  params: Record<string, unknown>;
  idempotencyKey: string;
  createdBy: string | null;
  backfillId?: string | null;
  steps: { stepId: string; kind: StepKind; maxAttempts: number; pool?: string | null }[];
}

/** What a worker may lease. */
export interface LeaseOptions {
  /** Only steps of these kinds (default: any). */
  kinds?: readonly StepKind[];
  /** Not steps of these kinds. */
  notKinds?: readonly StepKind[];
  /** The slots of a pool not defined in orchestration.pools (default 16). */
  defaultPoolSlots?: number;
}

/**
 * The event of a run's state change, published with the change (same transaction): START when
 * the run starts, COMPLETE or FAIL when it ends, ABORT when it is cancelled.
 */
export type RunAnnouncer = (state: RunStateEvent['state'], error: string | null) => RunStateEvent;

/** A step leased to a worker until `leaseExpiresAt` (renewed by its heartbeat). */
export interface LeasedStep extends StepRunRecord {
  partition: string | null;
  params: Record<string, unknown>;
  pipelineId: string;
  version: number;
  /** What started the step's run (api, schedule, backfill, dataset, pipeline …). */
  trigger: string;
}

/** How a run is planned. */
export interface PlanOptions {
  /** The run is known queued (its first plan changes it): no read without the lock. */
  queued?: boolean;
  /**
   * A queued run starts only while its pipeline has fewer than `maxActiveRuns` running, counted
   * under the pipeline's lock (taken in the plan's transaction, before the run's): two plans on any
   * instances cannot both take the last slot. Without it, a queued run starts whatever runs.
   */
  startIf?: { pipelineId: string; maxActiveRuns: number };
}

/** What a planning pass changes: steps made ready (queued now), steps skipped with their reason. */
export interface StepChanges {
  queue: string[];
  skip: { stepId: string; reason: string }[];
  /** The run's end, once every step is terminal. */
  end?: { status: 'succeeded' | 'failed'; error: string | null };
}

/**
 * Pipeline runs and their step runs: the run queue. Steps are leased with FOR UPDATE SKIP LOCKED,
 * so workers on any instance share it and no step is leased twice; a lease not renewed expires and
 * the step is taken back. Planning a run (which steps become ready or skipped, the run's end) is
 * serialised per run.
 */
export interface RunQueue {
  /** The newest run of the pipeline with this key that did not fail or get cancelled. */
  findLive(pipelineId: string, key: string): Promise<PipelineRunRecord | null>;
  /** A run with its steps pending. */
  create(run: NewPipelineRun): Promise<PipelineRunRecord>;
  /**
   * The live run of the pipeline with the run's key (not failed or cancelled), or a new one: one
   * of two triggers with the same key at once creates it, the other gets it.
   */
  createOrFind(run: NewPipelineRun): Promise<{ run: PipelineRunRecord; created: boolean }>;
  /** Runs `fn` while holding the pipeline's promotion lock; false (fn not run) when another holds it. */
  whilePromoting(pipelineId: string, fn: () => Promise<void>): Promise<boolean>;
  find(id: string): Promise<{ run: PipelineRunRecord; steps: StepRunRecord[] } | null>;
  /** A step run's status now (null: no such step run). */
  stepStatus(stepRunId: string): Promise<StepState | null>;
  /** The run without its steps. */
  findRun(id: string): Promise<PipelineRunRecord | null>;
  /** Runs of the pipeline in this status. */
  countRuns(pipelineId: string, status: PipelineRunStatus): Promise<number>;
  /**
   * Tells the workers of every instance that steps were queued (they lease at once instead of at
   * their next poll). Never throws.
   */
  wakeWorkers(): Promise<void>;
  /** Calls `fn` when some instance called {@link wakeWorkers}; returns how to stop listening. */
  onWake(fn: () => void): Promise<() => Promise<void>>;
  /** The oldest queued runs of the pipeline, oldest first. */
  oldestQueued(pipelineId: string, limit: number): Promise<PipelineRunRecord[]>;
  /**
   * The oldest queued runs of the pipeline that may start while fewer than `maxActiveRuns` run (as
   * many as there are free slots), oldest first, in one statement (under the promotion lock).
   */
  startable(pipelineId: string, maxActiveRuns: number): Promise<PipelineRunRecord[]>;
  list(filter: {
    pipelineId?: string;
    status?: PipelineRunStatus;
    partition?: string;
    limit: number;
  }): Promise<PipelineRunRecord[]>;
  activeRuns(pipelineId: string): Promise<number>;
  /** Steps queued whose time has come (the queue's depth). */
  readyDepth(): Promise<number>;
  /** Runs of a backfill that are queued or running. */
  activeOfBackfill(backfillId: string): Promise<number>;
  /** Per partition of the pipeline that has runs: the latest, and when one last succeeded. */
  partitionStates(pipelineId: string, keys?: string[]): Promise<Map<string, PartitionState>>;
  /** How many partitions of the range are not gaps (their latest run is queued, running or succeeded). */
  partitionsCovered(pipelineId: string, range: PartitionRange): Promise<number>;
  /** The gaps of the range (no run, or the latest failed or was cancelled), oldest first, paged. */
  gapsPage(
    pipelineId: string,
    range: PartitionRange,
    offset: number,
    limit: number,
  ): Promise<{ partition: string; state: PartitionState | null }[]>;
  /**
   * Plans the run under its lock: `decide` gets the steps' states and returns the changes, which
   * are applied in the same transaction (a run's first plan also marks it running). `decide` may
   * be asked twice (a read without the lock first: when it changes nothing on a running run, the
   * lock is not taken), so it must not count its calls. See {@link PlanOptions} for a queued run. Returns the
   * run's status after the plan, or null when there was nothing to plan (no such run, or it had ended).
   */
  plan(
    runId: string,
    decide: (states: Map<string, StepState>) => StepChanges,
    announce?: RunAnnouncer,
    opts?: PlanOptions,
  ): Promise<PipelineRunStatus | null>;
  /**
   * Leases the step ready longest (status queued, ready_at passed) to `owner` for `leaseMs`, within
   * its run's `concurrency` and its pool's slots: a step of pool P is leased only while fewer than
   * slots(P) step runs of P are running, counted across every instance.
   */
  lease(owner: string, leaseMs: number, opts?: LeaseOptions): Promise<LeasedStep | null>;
  /** Renews a lease (the owner's attempt); false when it no longer holds it (taken back, cancelled, retried). */
  renew(stepRunId: string, owner: string, attempt: number, leaseMs: number): Promise<boolean>;
  /** Records a link to the run underneath (ingestion run, build, quality runs) while the step runs. */
  setRef(stepRunId: string, ref: Record<string, unknown>): Promise<void>;
  /** The attempt succeeded. False when the lease was lost. */
  succeed(stepRunId: string, owner: string, attempt: number, output: Record<string, unknown> | null): Promise<boolean>;
  /**
   * The attempt failed: queued again after `retryInMs` when attempts are left (status retrying →
   * queued at ready_at), else failed. False when the lease was lost.
   */
  fail(
    stepRunId: string,
    owner: string,
    attempt: number,
    failure: { code: string; message: string; retryInMs: number | null },
  ): Promise<boolean>;
  /** Runs nothing moves on (a plan lost to an error): running with no step queued or running, or queued. */
  stalledRuns(): Promise<{ id: string; pipelineId: string; status: PipelineRunStatus }[]>;
  /** Steps whose lease expired: queued again when attempts are left, else failed; returns their runs. */
  reclaimExpired(): Promise<string[]>;
  /** Cancels the run's queued and pending steps and the run itself; returns whether it was still going. */
  cancel(runId: string, announce?: RunAnnouncer): Promise<boolean>;
}
