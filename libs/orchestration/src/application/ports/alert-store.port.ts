import type { AlertDestinationSpec } from '../../domain/alert';

/** Inject with `@Inject(ALERT_STORE)`: alert destinations and the deliveries to them (internal to orchestration). */
export const ALERT_STORE = Symbol('ALERT_STORE');

export interface AlertDestinationRecord extends AlertDestinationSpec {
  id: string;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One attempt to post a delivery: the HTTP status answered (null: no answer) or the error. */
export interface DeliveryAttempt {
  attempt: number;
  at: string;
  status: number | null;
  error: string | null;
  ms: number;
}

export interface AlertDeliveryRecord {
  id: string;
  destinationId: string;
  destination: string;
  alertType: string;
  dedupeKey: string;
  pipeline: string | null;
  payload: Record<string, unknown>;
  status: DeliveryStatus;
  attempts: number;
  maxAttempts: number;
  attemptLog: DeliveryAttempt[];
  nextAttemptAt: Date;
  lastError: string | null;
  responseStatus: number | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

/** A delivery claimed for one attempt (`attempt` is its number). */
export interface ClaimedDelivery {
  id: string;
  destination: string;
  url: string;
  attempt: number;
  maxAttempts: number;
  payload: Record<string, unknown>;
}

export interface NewDelivery {
  destinationId: string;
  alertType: string;
  dedupeKey: string;
  pipeline: string | null;
  payload: Record<string, unknown>;
  maxAttempts: number;
}

/**
 * Destinations by name, and deliveries: recorded once per (destination, alert key), claimed for an
 * attempt with FOR UPDATE SKIP LOCKED (so instances never post the same attempt twice), every
 * attempt's result kept.
 */
export interface AlertStore {
  /** Null when the name is taken. */
  createDestination(spec: AlertDestinationSpec, by: string | null): Promise<AlertDestinationRecord | null>;
  /** Null when there is no destination of that name. */
  updateDestination(name: string, spec: AlertDestinationSpec): Promise<AlertDestinationRecord | null>;
  removeDestination(name: string): Promise<boolean>;
  findDestination(name: string): Promise<AlertDestinationRecord | null>;
  listDestinations(): Promise<AlertDestinationRecord[]>;
  /** Records a pending delivery, due now; null when the destination already has this alert (its key). */
  enqueue(d: NewDelivery): Promise<string | null>;
  /**
   * Claims up to `limit` pending deliveries that are due (`id`: that one only), counts the attempt
   * and holds them for `leaseMs` (a process dying mid-post leaves it to be retried after that).
   */
  claimDue(limit: number, leaseMs: number, id?: string): Promise<ClaimedDelivery[]>;
  /** Records an attempt and its outcome: delivered, pending again after `retryInMs`, or failed for good. */
  recordAttempt(
    id: string,
    attempt: DeliveryAttempt,
    outcome: { status: 'delivered' } | { status: 'pending'; retryInMs: number } | { status: 'failed' },
  ): Promise<void>;
  findDelivery(id: string): Promise<AlertDeliveryRecord | null>;
  /** Newest first. */
  listDeliveries(filter: {
    destination?: string;
    status?: DeliveryStatus;
    limit: number;
  }): Promise<AlertDeliveryRecord[]>;
}
