import { maskUrl } from '../domain/alert';
import type { AlertDeliveryRecord, AlertDestinationRecord, DeliveryAttempt } from './ports/alert-store.port';
import type { SlaMissRecord } from './ports/sla-ledger.port';

/** A destination as the API shows it: the URL masked (its path and query often carry the secret). */
export interface AlertDestinationView {
  id: string;
  name: string;
  url: string;
  format: string;
  events: string[];
  pipelines: string[] | null;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
}

export const alertDestinationView = (d: AlertDestinationRecord): AlertDestinationView => ({
  id: d.id,
  name: d.name,
  url: maskUrl(d.url),
  format: d.format,
  events: d.events,
  pipelines: d.pipelines,
  createdBy: d.createdBy,
  createdAt: d.createdAt.toISOString(),
  updatedAt: d.updatedAt.toISOString(),
});

/** A delivery: what was posted, every attempt (HTTP status or error), where it stands. */
export interface AlertDeliveryView {
  id: string;
  destination: string;
  type: string;
  pipeline: string | null;
  status: string;
  attempts: number;
  maxAttempts: number;
  attemptLog: DeliveryAttempt[];
  lastError: string | null;
  responseStatus: number | null;
  /** When a pending delivery is tried again. */
  nextAttemptAt: string | null;
  createdAt: string;
  deliveredAt: string | null;
  payload: Record<string, unknown>;
}

export const alertDeliveryView = (d: AlertDeliveryRecord): AlertDeliveryView => ({
  id: d.id,
  destination: d.destination,
  type: d.alertType,
  pipeline: d.pipeline,
  status: d.status,
  attempts: d.attempts,
  maxAttempts: d.maxAttempts,
  attemptLog: d.attemptLog,
  lastError: d.lastError,
  responseStatus: d.responseStatus,
  nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
  createdAt: d.createdAt.toISOString(),
  deliveredAt: d.deliveredAt ? d.deliveredAt.toISOString() : null,
  payload: d.payload,
});

export interface SlaMissView {
  id: string;
  pipeline: string;
  runId: string | null;
  scheduledFor: string;
  deadline: string;
  /** The run's status when the miss was seen. */
  runStatus: string | null;
  detectedAt: string;
}

export const slaMissView = (m: SlaMissRecord): SlaMissView => ({
  id: m.id,
  pipeline: m.pipeline,
  runId: m.runId,
  scheduledFor: m.scheduledFor.toISOString(),
  deadline: m.deadline.toISOString(),
  runStatus: m.runStatus,
  detectedAt: m.detectedAt.toISOString(),
});
