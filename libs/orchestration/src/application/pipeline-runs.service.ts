import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { PipelineSpec } from '../domain/pipeline';
import { runOutcome, settle } from '../domain/step-plan';
import { InvalidRunRequestError, PipelineRunNotFoundError } from '../orchestration.errors';
import { PIPELINE_STORE, PipelineRecord, PipelineStore } from './ports/pipeline-store.port';
import {
  LeasedStep,
  PipelineRunRecord,
  PipelineRunStatus,
  RUN_QUEUE,
  RunQueue,
  StepChanges,
} from './ports/run-queue.port';
import { PipelineRunView, pipelineRunView } from './pipeline.views';
import { PipelinesService } from './pipelines.service';
import { pipelineRunEvent } from './pipeline-run.events';
import { OrchestrationMetrics } from './orchestration.metrics';

/** What triggers a run: by hand (API, CLI), a schedule, a backfill, another pipeline. */
export interface TriggerPipelineRun {
  partition?: string;
  params?: Record<string, unknown>;
  /** The same key answers with the same run unless it failed or was cancelled; default: a new run each time. */
  idempotencyKey?: string;
  trigger?: 'api' | 'cli' | 'schedule' | 'backfill' | 'pipeline' | 'dataset';
  createdBy?: string | null;
  /** The backfill starting it. */
  backfillId?: string;
}

/** A partition key: letters, digits and `_ . = - /`, no `..`, at most 200 characters. */
const PARTITION = /^[A-Za-z0-9_.=\-/]{1,200}$/;

/**
 * trigger-pipeline-run: a run of a pipeline's current version with its steps pending, then planned
 * (its first steps queued) once the pipeline has a free slot (`maxActiveRuns`); the reads of runs;
 * cancel. Planning (after every step's end) lives here too: {@link replan}.
 */
@Injectable()
export class PipelineRunsService {
  private readonly log = new Logger('orchestration');
  /** Called after a run was planned with `count` steps queued (the worker takes them at once). */
  onQueued?: (count: number) => void;
  /** Called when a run was cancelled (workers of this process stop its steps at once). */
  readonly onCancelled: ((runId: string) => void)[] = [];
  /** Called when a run ended (backfills advance). */
  readonly onRunEnded: ((run: PipelineRunRecord) => Promise<void>)[] = [];
  /** Called when a step failed for good: its last attempt failed (alerts). */
  readonly onStepFailed: ((step: LeasedStep, error: { code: string; message: string }) => Promise<void>)[] = [];

  constructor(
    private readonly pipelines: PipelinesService,
    @Inject(PIPELINE_STORE) private readonly store: PipelineStore,
    @Inject(RUN_QUEUE) private readonly queue: RunQueue,
    @Optional() private readonly metrics?: OrchestrationMetrics,
  ) {}

  async trigger(idOrName: string, req: TriggerPipelineRun): Promise<{ run: PipelineRunView; created: boolean }> {
    const { run, created, pipeline } = await this.start(idOrName, req);
    return { run: pipelineRunView((await this.queue.findRun(run.id)) ?? run, pipeline), created };
  }

  /**
   * {@link trigger} without the view: the run as it was created or found (its status before its
   * promotion), for callers that only need its id (the scheduler).
   */
  async start(
    idOrName: string,
    req: TriggerPipelineRun,
  ): Promise<{ run: PipelineRunRecord; created: boolean; pipeline: string }> {
    const p = await this.pipelines.entity(idOrName);
    if (req.partition !== undefined && (!PARTITION.test(req.partition) || req.partition.split('/').includes('..')))
      throw new InvalidRunRequestError(
        `partition ${JSON.stringify(req.partition)}: use 1 to 200 letters, digits and _ . = - / (no "..")`,
      );
    if (
      p.spec.partitions?.kind === 'static' &&
      req.partition !== undefined &&
      !p.spec.partitions.values?.includes(req.partition)
    )
      throw new InvalidRunRequestError(`partition "${req.partition}" is not one of pipeline ${p.name}'s partitions`);
    if (
      req.idempotencyKey !== undefined &&
      (typeof req.idempotencyKey !== 'string' || req.idempotencyKey.length > 200 || !req.idempotencyKey)
    )
      throw new InvalidRunRequestError('idempotencyKey: 1 to 200 characters');
    if (
      req.params !== undefined &&
      (typeof req.params !== 'object' || req.params === null || Array.isArray(req.params))
    )
      throw new InvalidRunRequestError('params: an object');
    const key =
      req.idempotencyKey ?? `${req.partition !== undefined ? `partition:${req.partition}:` : ''}${randomUUID()}`;
    const { run, created } = await this.queue.createOrFind({
      pipelineId: p.id,
      version: p.version,
      trigger: req.trigger ?? 'api',
      partition: req.partition ?? null,
      params: req.params ?? {},
      idempotencyKey: key,
      createdBy: req.createdBy ?? null,
      backfillId: req.backfillId ?? null,
      steps: p.spec.steps.map((s) => ({
        stepId: s.id,
        kind: s.kind,
        maxAttempts: s.retries.maxAttempts,
        pool: s.pool,
      })),
    });
    if (!created) {
      // a queued run whose promotion was lost to an error gets its chance again
      if (run.status === 'queued') await this.promote(p.id, p);
      return { run, created: false, pipeline: p.name };
    }
    this.log.log(
      `pipeline ${p.name}: run ${run.id} queued (${run.trigger}${run.partition ? `, partition ${run.partition}` : ''})`,
    );
    await this.promote(p.id, p);
    return { run, created: true, pipeline: p.name };
  }

  /**
   * Starts queued runs of the pipeline, oldest first, while it has fewer than `maxActiveRuns`
   * running: each start counts the running runs under the pipeline's lock in its plan's transaction,
   * so two instances cannot both fill the same slot.
   */
  async promote(pipelineId: string, known?: PipelineRecord): Promise<void> {
    const p = known ?? (await this.store.findById(pipelineId, true));
    if (!p) return;
    // each start counts the pipeline's running runs under the pipeline's lock, in its plan's
    // transaction (PlanOptions.startIf): no transaction waits here for another connection
    for (const r of await this.queue.startable(pipelineId, p.spec.maxActiveRuns))
      await this.replan(r.id, r, { pipelineId, maxActiveRuns: p.spec.maxActiveRuns });
  }

  /**
   * Plans a run: the steps whose upstream allows it are queued, the others skipped; its end once all
   * are done. `run`: its pipeline and version when the caller knows them (a leased step: one read less).
   */
  async replan(
    runId: string,
    run?: { pipelineId: string; version: number; status?: string },
    startIf?: { pipelineId: string; maxActiveRuns: number },
  ): Promise<void> {
    const found = { run: run ?? (await this.queue.findRun(runId)) };
    if (!found.run) return;
    const spec = await this.specOf(found.run.pipelineId, found.run.version);
    if (!spec) return;
    const name = spec.name;
    let queued = 0;
    const status = await this.queue.plan(
      runId,
      (states): StepChanges => {
        const plan = settle(spec.steps, states);
        const outcome = runOutcome(plan.states);
        queued = plan.ready.length;
        return {
          queue: plan.ready,
          skip: plan.skip.map((s) => ({ stepId: s.id, reason: s.reason })),
          end:
            outcome === 'running'
              ? undefined
              : { status: outcome, error: outcome === 'failed' ? this.failureOf(plan.states) : null },
        };
      },
      (state, error) => pipelineRunEvent(name, runId, state, error),
      { queued: run?.status === 'queued', startIf },
    );
    if (queued) this.onQueued?.(queued);
    // ended by this plan: read once more for the hooks (alerts, backfills)
    const after =
      status && status !== 'running' && status !== 'queued' ? { run: await this.queue.findRun(runId) } : null;
    if (after?.run && ['succeeded', 'failed', 'cancelled'].includes(after.run.status)) {
      this.log.log(`pipeline ${name}: run ${runId} ${after.run.status}`);
      this.metrics?.runs.inc({ pipeline: name, status: after.run.status });
      // a slot freed: the oldest queued run takes it (read after this end committed, so a run queued
      // while this one still counted as running is seen here)
      if ((await this.queue.oldestQueued(after.run.pipelineId, 1)).length) await this.promote(after.run.pipelineId);
      for (const f of this.onRunEnded)
        await f(after.run).catch((e: Error) => this.log.error(`after run ${runId}: ${e.message}`));
    }
  }

  /** A step's last attempt failed (the worker tells, before the run is planned again). Never throws. */
  async stepFailed(step: LeasedStep, error: { code: string; message: string }): Promise<void> {
    for (const f of this.onStepFailed)
      await f(step, error).catch((e: Error) => this.log.error(`after step ${step.stepId} failed: ${e.message}`));
  }

  private failureOf(states: Map<string, string>): string {
    const failed = [...states].filter(([, s]) => s === 'failed').map(([id]) => id);
    return `step(s) failed: ${failed.join(', ')}`;
  }

  private async specOf(pipelineId: string, version: number): Promise<PipelineSpec | null> {
    return this.store.version(pipelineId, version);
  }

  async get(id: string): Promise<PipelineRunView> {
    const found = await this.queue.find(id);
    if (!found) throw new PipelineRunNotFoundError(`No pipeline run ${JSON.stringify(id)}`);
    const p = await this.store.findById(found.run.pipelineId, true);
    return pipelineRunView(found.run, p?.name ?? '', found.steps);
  }

  async list(filter: {
    pipeline?: string;
    status?: string;
    partition?: string;
    limit?: number;
  }): Promise<PipelineRunView[]> {
    // by id, a deleted pipeline's runs too (its history stays)
    const p = filter.pipeline ? await this.pipelines.entity(filter.pipeline, true) : undefined;
    const statuses = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
    if (filter.status !== undefined && !statuses.includes(filter.status))
      throw new InvalidRunRequestError(`status: one of ${statuses.join(', ')}`);
    const rows = await this.queue.list({
      pipelineId: p?.id,
      status: filter.status as PipelineRunStatus | undefined,
      partition: filter.partition,
      limit: Math.min(Math.max(filter.limit ?? 100, 1), 1000),
    });
    const names = new Map((await this.store.list(true)).map((x) => [x.id, x.name]));
    return rows.map((r) => pipelineRunView(r, names.get(r.pipelineId) ?? ''));
  }

  /**
   * Cancels a run: its queued and pending steps are cancelled, a running step stops at its next lease
   * renewal; the child runs of its `pipeline` steps are cancelled with it.
   */
  async cancel(id: string): Promise<PipelineRunView> {
    const found = await this.queue.find(id);
    if (!found) throw new PipelineRunNotFoundError(`No pipeline run ${JSON.stringify(id)}`);
    const p = await this.store.findById(found.run.pipelineId, true);
    if (await this.queue.cancel(id, (state, error) => pipelineRunEvent(p?.name ?? 'unknown', id, state, error))) {
      this.log.warn(`pipeline run ${id}: cancelled`);
      for (const f of this.onCancelled) f(id);
      for (const s of found.steps)
        if (typeof s.ref?.['pipelineRun'] === 'string')
          await this.cancel(s.ref['pipelineRun']).catch((e: Error) =>
            this.log.error(`cancelling child run ${String(s.ref?.['pipelineRun'])}: ${e.message}`),
          );
      this.metrics?.runs.inc({ pipeline: p?.name ?? found.run.pipelineId, status: 'cancelled' });
      await this.promote(found.run.pipelineId);
    }
    return this.get(id);
  }

  /** The run once it ended (tests, CLI). */
  async waitFor(id: string, timeoutMs = 600_000): Promise<PipelineRunView> {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      const r = await this.get(id);
      if (['succeeded', 'failed', 'cancelled'].includes(r.status)) return r;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`pipeline run ${id} did not end within ${timeoutMs} ms`);
  }
}
