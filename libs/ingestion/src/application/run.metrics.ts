import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsService } from '@weir/platform';
import type { LoadResult } from '../infrastructure/engine/load.engine';

/** Prometheus counters of ingestion runs (rows read, loaded, rejected, deduplicated; runs; durations). */
@Injectable()
export class RunMetrics {
  readonly metrics: {
    read: Counter;
    loaded: Counter;
    rejected: Counter;
    deduplicated: Counter;
    duration: Histogram;
    runs: Counter;
  };

  constructor(metrics: MetricsService) {
    const reg = [metrics.registry];
    const labelNames = ['source'] as const;
    this.metrics = {
      read: new Counter({
        name: 'weir_ingest_rows_read_total',
        help: 'Rows read by ingestion runs',
        labelNames,
        registers: reg,
      }),
      loaded: new Counter({
        name: 'weir_ingest_rows_loaded_total',
        help: 'Rows published by ingestion runs',
        labelNames,
        registers: reg,
      }),
      rejected: new Counter({
        name: 'weir_ingest_rows_rejected_total',
        help: 'Rows dead-lettered by ingestion runs',
        labelNames,
        registers: reg,
      }),
      deduplicated: new Counter({
        name: 'weir_ingest_rows_deduplicated_total',
        help: 'Rows deduplicated by ingestion runs',
        labelNames,
        registers: reg,
      }),
      runs: new Counter({
        name: 'weir_ingest_runs_total',
        help: 'Finished ingestion runs by status',
        labelNames: ['source', 'status'],
        registers: reg,
      }),
      duration: new Histogram({
        name: 'weir_ingest_run_duration_seconds',
        help: 'Ingestion run duration',
        labelNames,
        buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
        registers: reg,
      }),
    };
  }

  count(source: string, status: string, r: LoadResult, started: number): void {
    this.metrics.read.inc({ source }, r.read);
    this.metrics.loaded.inc({ source }, r.loaded);
    this.metrics.rejected.inc({ source }, r.rejected);
    this.metrics.deduplicated.inc({ source }, r.deduplicated);
    this.metrics.runs.inc({ source, status });
    this.metrics.duration.observe({ source }, (Date.now() - started) / 1000);
  }
}
