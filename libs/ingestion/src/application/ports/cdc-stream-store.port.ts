import type { Queryable } from '@weir/platform';
import type { CdcState } from '../../domain/cdc';

/** Inject with `@Inject(CDC_STREAM_STORE)`: the CDC streams' state, leases and progress (internal). */
export const CDC_STREAM_STORE = Symbol('CDC_STREAM_STORE');

/** A CDC source's stream as stored (ingestion.cdc_streams). */
export interface CdcStreamRecord {
  sourceId: string;
  state: CdcState;
  slot: string;
  publication: string;
  /** End LSN of the last source commit applied (or the snapshot's consistent point); null before the snapshot. */
  confirmedLsn: string | null;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  changesRead: number;
  changesApplied: number;
  changesDeduplicated: number;
  deadLetters: number;
  lagBytes: number | null;
  lagAlert: boolean;
  lastChangeAt: Date | null;
  lastAppliedAt: Date | null;
  errorCode: string | null;
  errorMessage: string | null;
}

/** What a batch adds, stored in its own transaction. */
export interface CdcProgress {
  lsn: string;
  read: number;
  applied: number;
  deduplicated: number;
  deadLetters: number;
  lastChangeAt: Date | null;
  /** The snapshot moves the stream to `streaming`. */
  state?: CdcState;
}

export interface CdcDeadLetter {
  lsn: string;
  record: Record<string, unknown>;
  reason: string;
  message: string;
}

/**
 * The streams: one row per CDC source. A stream is consumed by the instance holding its lease
 * (claimed when free, expired or held by a dead instance; renewed while consuming). Every batch
 * stores its confirmed LSN in the transaction that applies it, only while its consumer holds the lease.
 */
export interface CdcStreamStore {
  create(sourceId: string, slot: string, publication: string): Promise<void>;
  get(sourceId: string): Promise<CdcStreamRecord | null>;
  list(): Promise<CdcStreamRecord[]>;
  /** Leases up to `limit` streams (snapshotting or streaming) nobody live holds to `owner`. */
  claim(owner: string, leaseMs: number, limit: number): Promise<CdcStreamRecord[]>;
  /** Extends the lease; false when it is lost (taken over, paused, failed, removed). */
  renew(sourceId: string, owner: string, leaseMs: number): Promise<boolean>;
  release(sourceId: string, owner: string): Promise<void>;
  /** Pause, resume (a failed stream resumes from its confirmed LSN, or snapshots again without one). */
  setState(sourceId: string, state: CdcState, from: CdcState[]): Promise<boolean>;
  /** Fails the stream with its reason (only while `owner` holds it, when given). */
  fail(sourceId: string, owner: string | null, code: string, message: string): Promise<void>;
  /** Forgets the slot's position (the slot was dropped: the next start snapshots again). */
  resetPosition(sourceId: string): Promise<void>;
  recordLag(sourceId: string, bytes: number | null, alert: boolean): Promise<void>;
  /** In the batch's transaction; false when `owner` no longer holds the stream (the caller rolls back). */
  saveProgress(tx: Queryable, sourceId: string, owner: string, p: CdcProgress): Promise<boolean>;
  deadLetter(tx: Queryable, sourceId: string, rows: CdcDeadLetter[]): Promise<void>;
}
