import { Inject, Injectable, Logger } from '@nestjs/common';
import { CATALOG, CatalogPort } from '@weir/catalog';
import type { PipelineStep, WaitForStep } from '../domain/pipeline';
import { ORCHESTRATION_CONFIG, OrchestrationConfig } from '../orchestration.config';
import {
  PipelineNotFoundError,
  StepFailedError,
  SubPipelineRefusedError,
  WaitTargetNotFoundError,
  WaitTimedOutError,
} from '../orchestration.errors';
import { PIPELINE_STORE, PipelineStore } from './ports/pipeline-store.port';
import { PipelineRunRecord, RUN_QUEUE, RunQueue } from './ports/run-queue.port';
import { PipelineRunsService } from './pipeline-runs.service';
import type { StepContext, StepOutput } from './step-executor.service';

/** Pipelines run by `pipeline` steps inside one another at most this deep (the top run is 1). */
export const MAX_PIPELINE_DEPTH = 10;
/** How a run started by a `pipeline` step names its parent run (`createdBy`). */
const PARENT = 'pipeline-run:';
const ENDED = ['succeeded', 'failed', 'cancelled'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The steps that depend on other pipelines or datasets rather than do work themselves: `wait_for`
 * (another pipeline's partition, or a dataset fresh enough, read through the CATALOG port) and
 * `pipeline` (another pipeline run as a sub-DAG). Both hold their lease while they wait (the worker
 * renews it) and stop when the step is cancelled, times out or loses its lease (`ctx.alive()`).
 */
@Injectable()
export class DependencyStepsService {
  private readonly log = new Logger('orchestration');

  constructor(
    @Inject(PIPELINE_STORE) private readonly store: PipelineStore,
    @Inject(RUN_QUEUE) private readonly queue: RunQueue,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    @Inject(ORCHESTRATION_CONFIG) private readonly cfg: OrchestrationConfig,
    private readonly runs: PipelineRunsService,
  ) {}

  /** How often a waiting step looks again: four times the worker's poll (2 s by default). */
  private get pollMs(): number {
    return this.cfg.pollMs * 4;
  }

  /**
   * Waits until what the step names is there, looking again every {@link pollMs}; gives up after
   * its `wait` (ORCHESTRATION.WAIT_TIMED_OUT). What counts:
   * - `pipeline`, this run with a partition and the other pipeline partitioned: a succeeded run of
   *   that pipeline for the same partition (finished within `fresh_within`, when given);
   * - `pipeline` otherwise: a run of it that succeeded within `fresh_within` of now, or, without
   *   `fresh_within`, one that finished after this run was created;
   * - `dataset`: its last load (catalog) within `fresh_within` of now, or, without `fresh_within`,
   *   after this run was created.
   * A pipeline or dataset that does not exist fails the step (ORCHESTRATION.WAIT_TARGET_NOT_FOUND).
   */
  async waitFor(step: WaitForStep, ctx: StepContext): Promise<StepOutput> {
    const run = await this.runOf(ctx.runId);
    const deadline = Date.now() + step.waitMs;
    const what = step.pipeline ? `pipeline ${step.pipeline}` : `dataset ${step.dataset}`;
    for (;;) {
      const found = step.pipeline
        ? await this.pipelineDone(step.pipeline, step.freshWithinMs, run)
        : await this.datasetFresh(step.dataset!, step.freshWithinMs, run);
      if (found) return found;
      if (Date.now() >= deadline)
        throw new WaitTimedOutError(
          `step ${step.id}: ${what} was not ${step.pipeline ? 'done' : 'fresh'} within ${step.waitMs} ms` +
            (step.pipeline && run.partition ? ` (partition ${run.partition})` : ''),
        );
      await this.pause(Math.min(this.pollMs, deadline - Date.now()), ctx, step.id);
    }
  }

  /**
   * Runs the other pipeline with this run's partition and parameters and ends as it ends. Its key
   * is this run's and step's: an attempt after a lost lease finds the child still going (or done)
   * instead of starting another; a child that failed or was cancelled is not found, so a retry
   * starts a new one. Refused at run time when the child's pipeline is already in this run's chain
   * of parents (a cycle made by a later version) or the chain would pass {@link MAX_PIPELINE_DEPTH}.
   */
  async subPipeline(step: PipelineStep, ctx: StepContext): Promise<StepOutput> {
    const child = await this.store.findByName(step.pipeline);
    if (!child) throw new PipelineNotFoundError(`step ${step.id}: no pipeline ${JSON.stringify(step.pipeline)}`);
    const chain = await this.chainOf(ctx.runId);
    const names = await Promise.all(
      chain.map(async (r) => (await this.store.findById(r.pipelineId, true))?.name ?? r.pipelineId),
    );
    const at = chain.findIndex((r) => r.pipelineId === child.id);
    if (at >= 0)
      throw new SubPipelineRefusedError(
        `step ${step.id}: pipeline ${child.name} is already running above this run: ${[...names.slice(0, at + 1).reverse(), child.name].join(' -> ')}`,
      );
    if (chain.length + 1 > MAX_PIPELINE_DEPTH)
      throw new SubPipelineRefusedError(
        `step ${step.id}: pipeline ${child.name} would run ${chain.length + 1} pipelines deep (at most ${MAX_PIPELINE_DEPTH}): ${[...names.reverse(), child.name].join(' -> ')}`,
      );
    const { run } = await this.runs.start(child.id, {
      partition: ctx.partition ?? undefined,
      params: ctx.params,
      idempotencyKey: `pipeline-step:${ctx.runId}:${step.id}`,
      trigger: 'pipeline',
      createdBy: `${PARENT}${ctx.runId}`,
    });
    await ctx.link({ pipelineRun: run.id });
    let r = (await this.queue.find(run.id))?.run;
    while (r && !ENDED.includes(r.status)) {
      if (!ctx.alive()) {
        await this.stopChild(run.id, ctx);
        throw new StepFailedError(`step ${step.id}: stopped (cancelled, timed out or lease lost)`, {
          pipelineRun: run.id,
        });
      }
      await sleep(Math.min(this.pollMs, 200));
      r = (await this.queue.find(run.id))?.run;
    }
    if (!r || r.status !== 'succeeded')
      throw new StepFailedError(
        `pipeline ${child.name}: run ${run.id} ${r?.status ?? 'removed'}${r?.error ? `: ${r.error}` : ''}`,
        { pipelineRun: run.id },
      );
    return { pipelineRun: r.id, pipeline: child.name, version: r.version };
  }

  /** The child run is cancelled unless a later attempt of this step holds it now (it adopts the child). */
  private async stopChild(childRunId: string, ctx: StepContext): Promise<void> {
    const own = (await this.queue.find(ctx.runId))?.steps.find((s) => s.id === ctx.stepRunId);
    if (own && own.attempt > ctx.attempt && ['queued', 'running'].includes(own.status)) return;
    await this.runs
      .cancel(childRunId)
      .catch((e: Error) => this.log.error(`cancelling pipeline run ${childRunId}: ${e.message}`));
  }

  /** This run and the runs above it (the pipeline steps that started them), nearest first. */
  private async chainOf(runId: string): Promise<PipelineRunRecord[]> {
    const chain: PipelineRunRecord[] = [];
    let r: PipelineRunRecord | undefined = await this.runOf(runId);
    while (r && chain.length <= MAX_PIPELINE_DEPTH) {
      chain.push(r);
      const parent: string | null =
        r.trigger === 'pipeline' && r.createdBy?.startsWith(PARENT) ? r.createdBy.slice(PARENT.length) : null;
      r = parent ? (await this.queue.find(parent))?.run : undefined;
    }
    return chain;
  }

  private async runOf(runId: string): Promise<PipelineRunRecord> {
    const found = await this.queue.find(runId);
    if (!found) throw new StepFailedError(`pipeline run ${runId} is gone`);
    return found.run;
  }

  private async pipelineDone(name: string, freshWithinMs: number | null, run: PipelineRunRecord) {
    const p = await this.store.findByName(name);
    if (!p) throw new WaitTargetNotFoundError(`wait_for: no pipeline ${JSON.stringify(name)}`);
    const byPartition = run.partition !== null && p.spec.partitions !== null;
    const succeeded = await this.queue.list({
      pipelineId: p.id,
      status: 'succeeded',
      partition: byPartition ? run.partition! : undefined,
      limit: 20,
    });
    const since =
      freshWithinMs !== null ? Date.now() - freshWithinMs : byPartition ? -Infinity : run.createdAt.getTime();
    const hit = succeeded.find((r) => (r.finishedAt?.getTime() ?? 0) >= since);
    return hit
      ? { pipeline: name, pipelineRun: hit.id, partition: hit.partition, finishedAt: hit.finishedAt!.toISOString() }
      : null;
  }

  private async datasetFresh(name: string, freshWithinMs: number | null, run: PipelineRunRecord) {
    const d = await this.catalog.findDataset(name);
    if (!d) throw new WaitTargetNotFoundError(`wait_for: no dataset ${JSON.stringify(name)}`);
    const since = freshWithinMs !== null ? Date.now() - freshWithinMs : run.createdAt.getTime();
    const at = d.lastLoad ? new Date(d.lastLoad.at).getTime() : null;
    return at !== null && at >= since ? { dataset: name, lastLoadAt: d.lastLoad!.at } : null;
  }

  /** Sleeps `ms`, looking every 100 ms whether the step should stop. */
  private async pause(ms: number, ctx: StepContext, stepId: string): Promise<void> {
    const until = Date.now() + Math.max(0, ms);
    do {
      if (!ctx.alive()) throw new StepFailedError(`step ${stepId}: stopped (cancelled, timed out or lease lost)`);
      await sleep(Math.min(100, Math.max(0, until - Date.now())));
    } while (Date.now() < until);
  }
}
