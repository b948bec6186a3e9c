import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { WEIR_CONFIG, WeirConfig } from '@weir/platform';
import type { Alert } from '../domain/alert';
import { ORCHESTRATION_CONFIG, OrchestrationConfig } from '../orchestration.config';
import { SLA_LEDGER, SlaLedger } from './ports/sla-ledger.port';
import { slaMissView, SlaMissView } from './alert.views';
import { AlertsService } from './alerts.service';
import { OrchestrationMetrics } from './orchestration.metrics';
import { PipelinesService } from './pipelines.service';

/**
 * SLAs: a pipeline with `sla` must have each scheduled run succeed within that long after its
 * tick. On instances with the scheduler role, a pass every WEIR_SCHEDULER_TICK_MS finds the ticks
 * past their deadline without a success by then — the run still going, failed, or never started —
 * records each miss once (its (pipeline, tick) row; with several schedulers one insert wins),
 * counts it (`weir_pipeline_sla_misses_total`) and alerts `sla_missed`.
 */
@Injectable()
export class SlaService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('orchestration');
  private timer?: NodeJS.Timeout;
  private passing?: Promise<unknown>;

  constructor(
    @Inject(SLA_LEDGER) private readonly ledger: SlaLedger,
    @Inject(ORCHESTRATION_CONFIG) private readonly cfg: OrchestrationConfig,
    @Inject(WEIR_CONFIG) private readonly config: WeirConfig,
    private readonly alerts: AlertsService,
    private readonly pipelines: PipelinesService,
    private readonly metrics: OrchestrationMetrics,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.roles.has('scheduler')) return;
    this.timer = setInterval(() => {
      if (!this.passing) this.passing = this.check().finally(() => (this.passing = undefined));
    }, this.cfg.tickMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.passing;
  }

  /** One pass: the misses this instance recorded (each alerted). Never throws. */
  async check(now = new Date()): Promise<number> {
    let recorded = 0;
    try {
      for (const t of await this.ledger.overdue(now)) {
        if (!(await this.ledger.record(t))) continue;
        recorded++;
        this.metrics.slaMisses.inc({ pipeline: t.pipeline });
        const state = t.runId === null ? 'its run never started' : `its run is ${t.runStatus}`;
        const alert: Alert = {
          type: 'sla_missed',
          title: `Pipeline ${t.pipeline} missed its SLA: the run scheduled for ${t.scheduledFor.toISOString()} had not succeeded by ${t.deadline.toISOString()} (${state})`,
          pipeline: t.pipeline,
          runId: t.runId,
          partition: t.partition,
          step: null,
          error: null,
          details: {
            scheduledFor: t.scheduledFor.toISOString(),
            deadline: t.deadline.toISOString(),
            runStatus: t.runStatus,
          },
          at: now.toISOString(),
          links: {
            pipeline: `/api/orchestration/pipelines/${t.pipeline}`,
            slaMisses: `/api/orchestration/sla-misses?pipeline=${t.pipeline}`,
            ...(t.runId ? { run: `/api/orchestration/runs/${t.runId}` } : {}),
          },
        };
        await this.alerts.publish(alert, `sla_missed:${t.pipelineId}:${t.scheduledFor.toISOString()}`);
      }
    } catch (e) {
      this.log.error(`SLA pass: ${(e as Error).message}`);
    }
    return recorded;
  }

  async list(filter: { pipeline?: string; limit?: number }): Promise<SlaMissView[]> {
    const p = filter.pipeline ? await this.pipelines.entity(filter.pipeline) : undefined;
    const rows = await this.ledger.list({ pipelineId: p?.id, limit: Math.min(Math.max(filter.limit ?? 100, 1), 1000) });
    return rows.map(slaMissView);
  }
}
