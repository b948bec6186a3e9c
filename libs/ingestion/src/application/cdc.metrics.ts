import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsService } from '@weir/platform';

/** Prometheus metrics of CDC sources: slot lag, changes by outcome, commit-to-applied latency. */
@Injectable()
export class CdcMetrics {
  readonly lag: Gauge;
  readonly changes: Counter;
  readonly latency: Histogram;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.lag = new Gauge({
      name: 'weir_cdc_slot_lag_bytes',
      help: "WAL bytes between the source server's position and the CDC slot's confirmed position",
      labelNames: ['source'],
      registers,
    });
    this.changes = new Counter({
      name: 'weir_cdc_changes_total',
      help: 'CDC changes by outcome (read, applied, deduplicated, dead_lettered)',
      labelNames: ['source', 'outcome'],
      registers,
    });
    this.latency = new Histogram({
      name: 'weir_cdc_apply_latency_seconds',
      help: 'Time from the first source commit of a CDC batch to its commit in the target',
      labelNames: ['source'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
  }
}
