import { Inject, Injectable } from '@nestjs/common';
import { inlineParameters, Warehouse, writeAsWriter } from '@weir/platform';
import { INGESTION_RUNS, IngestionRunsPort, RunView } from '@weir/ingestion';
import { MODEL_BUILDS, ModelBuildsPort } from '@weir/modeling';
import { QUALITY_RUNS, QualityRunsPort } from '@weir/quality';
import { LakeExportService } from '@weir/catalog';
import type { Partitions, Step } from '../domain/pipeline';
import { StepFailedError, StepUnsupportedError } from '../orchestration.errors';
import { parentOf } from './pipeline-run.events';
import { DependencyStepsService } from './dependency-steps.service';

/** What a step runs with: its run's partition and parameters, a way to record links, and whether to go on. */
export interface StepContext {
  runId: string;
  /** The pipeline's name (its runs are OpenLineage job `pipeline.<name>`, the parent of the runs steps start). */
  pipeline: string;
  /** What started the run (`schedule`, `api`, `backfill` …). */
  trigger: string;
  stepRunId: string;
  /** This attempt's number (a later attempt of the step holds it after a lost lease). */
  attempt: number;
  partition: string | null;
  partitions: Partitions | null;
  params: Record<string, unknown>;
  /** Records the run underneath (ingestion run, build, quality runs, child pipeline run) on the step run. */
  link(ref: Record<string, unknown>): Promise<void>;
  /** False once the step was cancelled or its lease lost: stop waiting. */
  alive(): boolean;
  /** Whether the step was cancelled (not only its lease lost): then the run underneath is stopped too. */
  cancelled(): Promise<boolean>;
}

/** A step's counts, as recorded on the step run. */
export type StepOutput = Record<string, unknown> | null;

const POLL_MS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The start and end (exclusive) of a time partition, ISO, in UTC; null for static partitions. */
export function partitionBounds(p: Partitions | null, key: string | null): { start: string; end: string } | null {
  if (!p || !key || p.kind === 'static') return null;
  const text =
    p.kind === 'monthly' && /^\d{4}-\d{2}$/.test(key)
      ? `${key}-01T00:00:00Z`
      : /^\d{4}-\d{2}-\d{2}$/.test(key)
        ? `${key}T00:00:00Z`
        : /^\d{4}-\d{2}-\d{2}T\d{2}$/.test(key)
          ? `${key}:00:00Z`
          : key;
  const start = new Date(text);
  if (Number.isNaN(start.getTime())) return null;
  const end = new Date(start);
  if (p.kind === 'hourly') end.setUTCHours(end.getUTCHours() + 1);
  else if (p.kind === 'daily') end.setUTCDate(end.getUTCDate() + 1);
  else end.setUTCMonth(end.getUTCMonth() + 1);
  return { start: start.toISOString(), end: end.toISOString() };
}

/**
 * run-step: one attempt of a step, through the port of the slice that does the work — an ingestion
 * run (INGESTION_RUNS), a build (MODEL_BUILDS), a quality suite (QUALITY_RUNS) or a statement on the
 * warehouse as its writer; `wait_for` and `pipeline` steps wait on other pipelines and datasets
 * (DependencyStepsService). Throws when the attempt failed (the worker retries or fails the step).
 */
@Injectable()
export class StepExecutorService {
  constructor(
    @Inject(INGESTION_RUNS) private readonly ingestion: IngestionRunsPort,
    @Inject(MODEL_BUILDS) private readonly builds: ModelBuildsPort,
    @Inject(QUALITY_RUNS) private readonly quality: QualityRunsPort,
    private readonly warehouse: Warehouse,
    private readonly dependencies: DependencyStepsService,
    private readonly lake: LakeExportService,
  ) {}

  /**
   * A dataset written to the lake as Parquet (the catalog's export: Hive partitions, a manifest);
   * `{partition}` in the target becomes the run's partition. The catalog refuses a bad request
   * or target with its own error, which fails the step. A pipeline runs as no key: PII columns
   * are masked, as for an editor, unless the step says `pii: clear` (which only an admin key, or
   * the CLI, may define). The output names the columns masked (as the manifest does).
   */
  private async export(step: Extract<Step, { kind: 'export' }>, ctx: StepContext): Promise<StepOutput> {
    const clear = step.pii === 'clear';
    const r = await this.lake.export(
      step.dataset,
      {
        target: step.target.replace(/\{partition\}/g, ctx.partition ?? ''),
        ...(step.partitionBy.length ? { partitionBy: step.partitionBy } : {}),
        ...(step.compression ? { compression: step.compression } : {}),
        incremental: step.incremental,
      },
      { unmasked: clear },
    );
    await ctx.link({ export: r.manifest });
    return {
      rows: r.rows,
      files: r.files,
      partitionsSkipped: r.skipped,
      manifest: r.manifest,
      pii: clear ? 'clear' : 'masked',
      masked: r.masked,
    };
  }

  async execute(step: Step, ctx: StepContext): Promise<StepOutput> {
    switch (step.kind) {
      case 'ingest':
        return this.ingest(step, ctx);
      case 'build':
        return this.build(step, ctx);
      case 'check':
        return this.check(step, ctx);
      case 'sql':
        return this.sql(step, ctx);
      case 'wait_for':
        return this.dependencies.waitFor(step, ctx);
      case 'pipeline':
        return this.dependencies.subPipeline(step, ctx);
      case 'export':
        return this.export(step, ctx);
      default: {
        // a stored version from a newer Weir, with a kind this one does not know
        const other = step as { id: string; kind: string };
        throw new StepUnsupportedError(`step ${other.id}: kind "${other.kind}" is not run by this version of Weir`);
      }
    }
  }

  /**
   * The source's input: `path`, or what a scheduled load of the source takes (each inbox file not
   * loaded before, or `location.path`); one run per step of this pipeline run unless `skip_loaded`
   * (then the same bytes answer with the run that loaded them). Waits for every run.
   */
  private async ingest(step: Extract<Step, { kind: 'ingest' }>, ctx: StepContext): Promise<StepOutput> {
    const common = {
      source: step.source,
      partition: ctx.partition ?? undefined,
      // a retry of a failed run loads again (a failed run never answers a key)
      idempotencyKey: step.skipLoaded ? undefined : `pipeline:${ctx.runId}:${step.id}`,
      trigger: ctx.trigger === 'schedule' ? ('schedule' as const) : ('pipeline' as const),
      createdBy: `pipeline-run:${ctx.runId}`,
      parent: parentOf(ctx.pipeline, ctx.runId),
    };
    const started = step.path
      ? [(await this.ingestion.start({ ...common, input: { path: step.path } })).run]
      : (await this.ingestion.startDue(common)).runs;
    const ids = started.map((r) => r.id);
    await ctx.link({ ingestionRuns: ids, ...(ids.length === 1 ? { ingestionRun: ids[0] } : {}) });
    const ended: RunView[] = [];
    for (const run of started) {
      let r = run;
      while (r.status !== 'succeeded' && r.status !== 'failed') {
        if (!ctx.alive()) await this.stopped(step, ctx, () => Promise.all(ids.map((id) => this.ingestion.cancel(id))));
        await sleep(POLL_MS);
        r = await this.ingestion.get(run.id);
      }
      ended.push(r);
    }
    const failed = ended.filter((r) => r.status === 'failed');
    if (failed.length)
      throw new StepFailedError(
        failed.map((r) => `ingestion run ${r.id} failed: ${r.error?.code ?? ''}: ${r.error?.message ?? ''}`).join('; '),
        { ingestionRuns: failed.map((r) => r.id) },
      );
    const sum = (f: (r: RunView) => number) => ended.reduce((n, r) => n + f(r), 0);
    return {
      runs: ended.length,
      rowsRead: sum((r) => r.rowsRead),
      rowsLoaded: sum((r) => r.rowsLoaded),
      rowsRejected: sum((r) => r.rowsRejected),
      rowsDeduplicated: sum((r) => r.rowsDeduplicated),
    };
  }

  private async build(step: Extract<Step, { kind: 'build' }>, ctx: StepContext): Promise<StepOutput> {
    const b = await this.builds.start({
      project: step.project,
      select: step.select ?? undefined,
      fullRefresh: step.fullRefresh,
      parent: parentOf(ctx.pipeline, ctx.runId),
    });
    await ctx.link({ build: b.id });
    let v = b;
    while (v.status === 'running') {
      if (!ctx.alive()) await this.stopped(step, ctx, () => this.builds.cancel(b.id));
      await sleep(POLL_MS);
      v = await this.builds.get(b.id);
    }
    const failed = v.steps.filter((s) => s.status !== 'succeeded');
    if (v.status !== 'succeeded')
      throw new StepFailedError(
        `build ${v.id} ${v.status}: ${failed.map((s) => `${s.node} ${s.status}${s.error ? ` (${s.error})` : ''}`).join(', ')}`,
        { build: v.id },
      );
    return {
      models: v.steps.length,
      rowsAffected: v.steps.reduce((n, s) => n + (s.rowsAffected ?? 0), 0),
    };
  }

  private async check(step: Extract<Step, { kind: 'check' }>, ctx: StepContext): Promise<StepOutput> {
    const runs = await this.quality.run({
      suite: step.suite,
      trigger: 'pipeline',
      triggerRef: `pipeline-run:${ctx.runId}`,
      parent: parentOf(ctx.pipeline, ctx.runId),
    });
    await ctx.link({ qualityRuns: runs.map((r) => r.id) });
    const failed = runs.filter((r) => r.status === 'failed');
    if (failed.length)
      throw new StepFailedError(
        `suite ${step.suite} failed on ${failed.map((r) => r.target).join(', ')}: ${failed
          .flatMap((r) => r.results.filter((x) => !x.success && x.severity === 'error').map((x) => x.type))
          .join(', ')}`,
        { qualityRuns: failed.map((r) => r.id) },
      );
    return {
      rows: runs.reduce((n, r) => n + r.rowCount, 0),
      status: runs.some((r) => r.status === 'warned') ? 'warned' : 'passed',
    };
  }

  /**
   * A step that stops waiting: when it was cancelled, the run underneath is cancelled through its
   * port (it stops before publishing anything); when only its lease was lost, the run goes on for
   * the attempt that took the step over.
   */
  private async stopped(step: Step, ctx: StepContext, stopUnderlying: () => Promise<unknown>): Promise<never> {
    const cancelled = await ctx.cancelled().catch(() => false);
    if (cancelled) await stopUnderlying().catch(() => undefined);
    throw new StepFailedError(`step ${step.id}: stopped (${cancelled ? 'cancelled' : 'lease lost'})`);
  }

  /** One statement as the warehouse writer; $1 is the partition key, $2 and $3 its start and end (time partitions). */
  private async sql(step: Extract<Step, { kind: 'sql' }>, ctx: StepContext): Promise<StepOutput> {
    const bounds = partitionBounds(ctx.partitions, ctx.partition);
    const statement = inlineParameters(step.sql, [ctx.partition, bounds?.start ?? null, bounds?.end ?? null]);
    const client = await this.warehouse.pool.connect();
    try {
      const rows = await writeAsWriter(client, statement);
      return { rowsAffected: rows };
    } catch (e) {
      const err = e as { message?: string; code?: string };
      throw new StepFailedError(`step ${step.id}: the statement failed: ${err.message ?? String(e)}`, {
        sqlstate: err.code,
      });
    } finally {
      client.release();
    }
  }
}
