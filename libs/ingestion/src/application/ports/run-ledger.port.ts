import type { Queryable } from '@weir/platform';
import type { RunInput } from '../../domain/source';
import type { RunRecord, RunRef, RunStatus } from '../../domain/run';

/** Inject with `@Inject(RUN_LEDGER)`: the ledger of ingestion runs (internal to ingestion). */
export const RUN_LEDGER = Symbol('RUN_LEDGER');

/** A new queued run. */
export interface NewRun {
  sourceId: string;
  trigger: string;
  idempotencyKey: string;
  input: RunInput;
  createdBy: string | null;
}

/** What a successful run publishes, with its counts (read = loaded + rejected + deduplicated). */
export interface RunSuccess {
  bytesRead: number;
  rowsRead: number;
  rowsLoaded: number;
  rowsRejected: number;
  rowsDeduplicated: number;
  columnsDiscarded: Record<string, number> | null;
  watermarkBefore: string | null;
  watermarkAfter: string | null;
  quality: unknown;
  /** Incremental sources: the source's watermark moves to `watermarkAfter` in the same transaction. */
  advanceSourceWatermark: boolean;
}

/** Why a run failed, with the counts known at that point (null keeps what the run recorded). */
export interface RunFailure {
  code: string;
  message: string;
  bytesRead: number;
  rowsRead: number | null;
  rowsRejected: number | null;
  rowsDeduplicated: number | null;
  quality: unknown;
}

/** Which instances are known dead: the ledger fails what they left running. */
export interface Liveness {
  /** This instance (never taken as dead). */
  instanceId: string;
  /** This instance's ids before a restart: dead at once. */
  previousInstances: string[];
  /** Another instance, not alive, whose heartbeat is older than this (ms), is dead. */
  graceMs: number;
}

/**
 * The run ledger: runs from queued to succeeded or failed, claimed by one worker at a time.
 * Methods taking `tx` write inside the caller's transaction (opened with {@link transaction}), so
 * that the run's event (outbox) and, at success, the target's data commit with the record.
 * A state change happens only from the state it expects (a run failed as interrupted by another
 * instance stays failed: `succeed`/`fail` then answer false).
 */
export interface RunLedger {
  /** Runs `work` in one transaction. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Serialises the triggers of one source until the transaction ends; false when it was deleted. */
  lockSource(tx: Queryable, sourceId: string): Promise<boolean>;
  /** The newest run of the source with this idempotency key. */
  latestByKey(tx: Queryable, sourceId: string, key: string): Promise<RunRecord | null>;
  /** A queued run. */
  create(tx: Queryable, run: NewRun): Promise<RunRecord>;
  /** A run that starts at once on `instanceId` (a stream's micro-batch), never queued. */
  start(tx: Queryable, run: NewRun, instanceId: string): Promise<RunRecord>;
  find(id: string): Promise<RunRecord | null>;
  /** Newest first. */
  list(filter: { sourceId?: string; status?: RunStatus; limit: number }): Promise<RunRecord[]>;
  countForSource(sourceId: string): Promise<number>;
  /**
   * Claims the oldest queued run this instance may run (an upload only on the instance holding its
   * file): running, started and heartbeat now, claimed by `instanceId`. Concurrent claims never
   * take the same run.
   */
  claimNext(tx: Queryable, instanceId: string): Promise<RunRef | null>;
  /** The worker is alive; true when someone asked to cancel the run meanwhile. */
  heartbeat(id: string): Promise<boolean>;
  /** A queued run cancelled (failed, `INGESTION.CANCELLED`); null when it was not queued. */
  cancelQueued(tx: Queryable, id: string, message: string): Promise<RunRef | null>;
  /** A running run asked to stop; false when it was not running. */
  requestCancel(id: string): Promise<boolean>;
  progress(id: string, p: { rowsRead: number; rowsRejected: number; bytesRead: number }): Promise<void>;
  /** running → succeeded with its counts; false when the run is no longer running. */
  succeed(tx: Queryable, id: string, s: RunSuccess): Promise<boolean>;
  /** running → failed; false when the run is no longer running (its verdict stands). */
  fail(tx: Queryable, id: string, f: RunFailure): Promise<boolean>;
  /** The run, running on a dead instance, is failed as interrupted now; true when it was. */
  failIfDead(tx: Queryable, id: string, live: Liveness): Promise<boolean>;
  /** Fails running runs with a stale heartbeat (older than `staleMs`) or a dead instance. */
  failInterrupted(tx: Queryable, staleMs: number, live: Liveness, message: string): Promise<RunRef[]>;
  /** Fails queued uploads held by an instance that is gone (the file went with it). */
  failLostUploads(tx: Queryable, live: Liveness): Promise<RunRef[]>;
  /** Per upload file some run has: whether a queued or running run still needs it. */
  uploadsInUse(files: string[]): Promise<Map<string, boolean>>;
}
