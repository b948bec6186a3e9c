import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { QUALITY_EVENTS, QualityAlert, QualityEvents } from '@weir/quality';
import type { Alert } from '../domain/alert';
import { AlertsService } from './alerts.service';
import { PIPELINE_STORE, PipelineStore } from './ports/pipeline-store.port';
import { LeasedStep, PipelineRunRecord, RUN_QUEUE, RunQueue } from './ports/run-queue.port';
import { PipelineRunsService } from './pipeline-runs.service';

const runLink = (id: string) => `/api/orchestration/runs/${id}`;
const pipelineLink = (name: string) => `/api/orchestration/pipelines/${name}`;

/**
 * Where alerts come from: a run that failed, a step whose retries ran out (its last attempt failed,
 * when it had more than one), and the quality slice's alerts (a suite run that failed or warned,
 * anomalies included). SLA misses are raised by {@link SlaService}. Each alert has a key (the run,
 * the step run, the quality run), so it is delivered once per destination however often it is seen.
 */
@Injectable()
export class AlertSourcesService implements OnModuleInit {
  private readonly log = new Logger('orchestration');

  constructor(
    private readonly alerts: AlertsService,
    private readonly runs: PipelineRunsService,
    @Inject(RUN_QUEUE) private readonly queue: RunQueue,
    @Inject(PIPELINE_STORE) private readonly pipelines: PipelineStore,
    @Inject(QUALITY_EVENTS) private readonly quality: QualityEvents,
  ) {}

  onModuleInit(): void {
    this.runs.onRunEnded.push((run) => (run.status === 'failed' ? this.runFailed(run) : Promise.resolve()));
    this.runs.onStepFailed.push((step, error) => this.retriesExhausted(step, error));
    this.quality.onAlert((a) => {
      this.qualityAlert(a).catch((e: Error) => this.log.error(`quality alert ${a.runId}: ${e.message}`));
    });
  }

  private async nameOf(pipelineId: string): Promise<string> {
    return (await this.pipelines.findById(pipelineId, true))?.name ?? pipelineId;
  }

  async runFailed(run: PipelineRunRecord): Promise<void> {
    const name = await this.nameOf(run.pipelineId);
    const steps = (await this.queue.find(run.id))?.steps ?? [];
    const failed = steps.filter((s) => s.status === 'failed');
    const first = failed[0];
    const alert: Alert = {
      type: 'run_failed',
      title: `Pipeline ${name} run failed${run.partition ? ` (partition ${run.partition})` : ''}: ${run.error ?? 'failed'}`,
      pipeline: name,
      runId: run.id,
      partition: run.partition,
      step: first?.stepId ?? null,
      error: first?.error
        ? { code: first.errorCode, message: first.error }
        : run.error
          ? { code: null, message: run.error }
          : null,
      details: {
        trigger: run.trigger,
        version: run.version,
        failedSteps: failed.map((s) => ({
          step: s.stepId,
          kind: s.kind,
          attempts: s.attempt,
          code: s.errorCode,
          message: s.error,
        })),
      },
      at: (run.finishedAt ?? new Date()).toISOString(),
      links: { run: runLink(run.id), pipeline: pipelineLink(name) },
    };
    await this.alerts.publish(alert, `run_failed:${run.id}`);
  }

  async retriesExhausted(step: LeasedStep, error: { code: string; message: string }): Promise<void> {
    if (step.maxAttempts < 2) return; // no retries: the run's failure says it
    const name = await this.nameOf(step.pipelineId);
    const alert: Alert = {
      type: 'retries_exhausted',
      title: `Pipeline ${name}: step ${step.stepId} failed after ${step.attempt} attempts`,
      pipeline: name,
      runId: step.runId,
      partition: step.partition,
      step: step.stepId,
      error,
      details: { kind: step.kind, attempts: step.attempt, maxAttempts: step.maxAttempts },
      at: new Date().toISOString(),
      links: { run: runLink(step.runId), pipeline: pipelineLink(name) },
    };
    await this.alerts.publish(alert, `retries_exhausted:${step.id}`);
  }

  /** A quality run's alert; when a pipeline's `check` step ran it, it is that pipeline's alert. */
  async qualityAlert(a: QualityAlert): Promise<void> {
    const ref = /^pipeline-run:(.+)$/.exec(a.triggerRef ?? '');
    const run = ref ? (await this.queue.find(ref[1]!))?.run : undefined;
    const pipeline = run ? await this.nameOf(run.pipelineId) : null;
    const failed = a.type === 'quality.run.failed';
    const alert: Alert = {
      type: failed ? 'quality_failed' : 'quality_warned',
      title:
        `Quality suite ${a.suite} ${failed ? 'failed' : 'warned'} on ${a.dataset}` +
        (a.anomalies.length ? ` (${a.anomalies.length} anomal${a.anomalies.length === 1 ? 'y' : 'ies'})` : ''),
      pipeline,
      runId: run?.id ?? null,
      partition: run?.partition ?? null,
      step: null,
      error: a.failures[0] ? { code: null, message: a.failures[0].message } : null,
      details: {
        qualityRun: a.runId,
        suite: a.suite,
        dataset: a.dataset,
        target: a.target,
        trigger: a.trigger,
        failures: a.failures,
        anomalies: a.anomalies,
      },
      at: a.at,
      links: {
        qualityRun: `/api/quality/runs/${a.runId}`,
        ...(run && pipeline ? { run: runLink(run.id), pipeline: pipelineLink(pipeline) } : {}),
      },
    };
    await this.alerts.publish(alert, `quality:${a.runId}`);
  }
}
