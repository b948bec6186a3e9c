import { EventEmitter } from 'node:events';

/** What the quality slice tells other slices when a run does not pass. */
export interface QualityAlert {
  type: 'quality.run.failed' | 'quality.run.warned';
  runId: string;
  suite: string;
  dataset: string;
  target: string;
  trigger: string;
  triggerRef: string | null;
  failures: { type: string; severity: string; message: string }[];
  anomalies: { metric: string; value: number; band: [number, number]; z: number }[];
  at: string;
}

/** Domain events of the quality slice (token {@link QUALITY_EVENTS}); subscribe with `on('alert', …)`. */
export class QualityEvents extends EventEmitter {
  emitAlert(alert: QualityAlert): void {
    this.emit('alert', alert);
  }
  onAlert(listener: (a: QualityAlert) => void): void {
    this.on('alert', listener);
  }
}

export const QUALITY_EVENTS = Symbol('QUALITY_EVENTS');
