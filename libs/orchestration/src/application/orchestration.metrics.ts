import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsService } from '@weir/platform';
import { RUN_QUEUE, RunQueue } from './ports/run-queue.port';

/**
 * Prometheus metrics of orchestration: runs by pipeline and status, step durations, the queue's
 * depth (read at scrape time), lease expiries, schedule lag (a run's start minus its tick), SLA
 * misses and alert delivery attempts.
 */
@Injectable()
export class OrchestrationMetrics {
  readonly runs: Counter;
  readonly stepDuration: Histogram;
  readonly leaseExpiries: Counter;
  readonly scheduleLag: Histogram;
  readonly datasetTriggers: Counter;
  readonly slaMisses: Counter;
  readonly alertDeliveries: Counter;

  constructor(metrics: MetricsService, @Inject(RUN_QUEUE) queue: RunQueue) {
    const registers = [metrics.registry];
    this.runs = new Counter({
      name: 'weir_pipeline_runs_total',
      help: 'Finished pipeline runs by pipeline and status',
      labelNames: ['pipeline', 'status'],
      registers,
    });
    this.stepDuration = new Histogram({
      name: 'weir_pipeline_step_duration_seconds',
      help: 'Duration of pipeline step attempts, by kind and outcome',
      labelNames: ['kind', 'outcome'],
      buckets: [0.05, 0.25, 1, 5, 15, 60, 300, 900, 3600],
      registers,
    });
    this.leaseExpiries = new Counter({
      name: 'weir_pipeline_lease_expiries_total',
      help: 'Steps taken back because their worker stopped renewing the lease',
      registers,
    });
    this.scheduleLag = new Histogram({
      name: 'weir_pipeline_schedule_lag_seconds',
      help: 'Time from a tick to the start of its run',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 15, 60],
      registers,
    });
    this.datasetTriggers = new Counter({
      name: 'weir_pipeline_dataset_triggers_total',
      help: 'Pipeline runs started by dataset updates (data-aware schedules), by pipeline',
      labelNames: ['pipeline'],
      registers,
    });
    this.slaMisses = new Counter({
      name: 'weir_pipeline_sla_misses_total',
      help: "Scheduled runs that did not succeed within their pipeline's SLA, by pipeline",
      labelNames: ['pipeline'],
      registers,
    });
    this.alertDeliveries = new Counter({
      name: 'weir_alert_delivery_attempts_total',
      help: 'Attempts to post alerts to their destinations, by outcome (delivered, retry, failed)',
      labelNames: ['outcome'],
      registers,
    });
    new Gauge({
      name: 'weir_pipeline_queue_depth',
      help: 'Pipeline steps waiting for a worker (queued and due)',
      registers,
      async collect() {
        this.set(await queue.readyDepth().catch(() => 0));
      },
    });
  }
}
