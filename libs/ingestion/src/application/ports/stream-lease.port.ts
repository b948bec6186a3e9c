import type { Queryable } from '@weir/platform';

/** Nest token of {@link StreamLeases}: one consumer per stream source across all instances. */
export const STREAM_LEASES = Symbol('STREAM_LEASES');

/** A held lease: kept while its holder lives (a process that dies loses it at once). */
export interface StreamLease {
  /** False once the lease was lost (its connection broke): the consumer stops. */
  held(): boolean;
  release(): Promise<void>;
}

export interface StreamLeases {
  /** The source's lease for `instanceId`, or null when another instance holds it. */
  tryAcquire(sourceId: string, instanceId: string): Promise<StreamLease | null>;
  /** The instance holding the source's lease, or null. */
  holder(sourceId: string): Promise<string | null>;
  /**
   * In the publish transaction: each dead letter of the run gets the subject and stream sequence
   * of its message (by its record number in the batch).
   */
  noteDeadLetters(tx: Queryable, runId: string, origins: { subject: string; sequence: number }[]): Promise<void>;
}
