import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { PresenceLock, WEIR_CONFIG, WeirConfig } from '@weir/platform';
import type { PipelineSpec } from '../domain/pipeline';
import { dueTicks, fireTimes, partitionOfTick } from '../domain/schedule';
import { ORCHESTRATION_CONFIG, OrchestrationConfig } from '../orchestration.config';
import { ScheduledPipeline, TICK_LEDGER, TickLedger } from './ports/tick-ledger.port';
import { BackfillsService } from './backfills.service';
import { OrchestrationMetrics } from './orchestration.metrics';
import { PipelineRunsService } from './pipeline-runs.service';

/** A claimed tick without its run after this long is started again (its start failed, or its process died). */
const STARTED_WITHIN_MS = 30_000;
/** Runs of claimed ticks started at once (each start is a few statements; the control-plane pool has 10 connections). */
const START_PARALLEL = 4;

/**
 * Due ticks claimed per statement: a pass claims a share at a time, in an order of its own, so the
 * schedulers of every instance that wake for the same ticks (the same instant) start their runs
 * together instead of one claiming them all.
 */
const CLAIM_CHUNK = 16;

/** Runs `fn` over `items`, at most `limit` at once. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/**
 * schedule-pipelines: on instances with the scheduler role, a pass every `tickMs` fires each
 * pipeline's due ticks (cron in its time zone, or an interval; `catchup` for ticks missed while
 * every instance was down). A tick is claimed by inserting its (pipeline, time) row: with several
 * schedulers it fires exactly once. Schedules change with their pipeline, no restart.
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('orchestration');
  private timer?: NodeJS.Timeout;
  private wake?: NodeJS.Timeout;
  private stopped = false;
  private passing?: Promise<void>;

  constructor(
    @Inject(TICK_LEDGER) private readonly ticks: TickLedger,
    @Inject(ORCHESTRATION_CONFIG) private readonly cfg: OrchestrationConfig,
    @Inject(WEIR_CONFIG) private readonly config: WeirConfig,
    private readonly presence: PresenceLock,
    private readonly runs: PipelineRunsService,
    private readonly backfills: BackfillsService,
    private readonly metrics: OrchestrationMetrics,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.roles.has('scheduler')) return;
    this.timer = setInterval(() => this.kick(), this.cfg.tickMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.wake) clearTimeout(this.wake);
    await this.passing;
  }

  private kick(): void {
    if (!this.passing && !this.stopped)
      this.passing = this.pass()
        .then(() => undefined)
        .finally(() => (this.passing = undefined));
  }

  /**
   * A pass at the next tick due before the next regular pass (`tickMs`), at its instant: a tick
   * waits for no poll (the schedules of the pass just done; one changed since is seen by the next).
   */
  private wakeAtNextTick(scheduled: ScheduledPipeline[]): void {
    if (this.stopped || !this.timer) return;
    const now = Date.now();
    const horizon = new Date(now + this.cfg.tickMs);
    let next = Infinity;
    for (const p of scheduled) {
      if (p.spec.schedule?.datasets) continue;
      const [t] = fireTimes(p.spec.schedule!, new Date(now), horizon, 1);
      if (t && t.getTime() < next) next = t.getTime();
    }
    if (next === Infinity) return;
    if (this.wake) clearTimeout(this.wake);
    this.wake = setTimeout(() => this.kick(), Math.max(0, next - Date.now()) + 1);
    this.wake.unref();
  }

  /** Starts the run of a claimed tick and records it on the tick; undefined when it could not start. */
  private async start(pipelineId: string, name: string, spec: PipelineSpec, at: Date): Promise<string | undefined> {
    try {
      const { run } = await this.runs.start(pipelineId, {
        trigger: 'schedule',
        idempotencyKey: `schedule:${at.toISOString()}`,
        partition: partitionOfTick(spec.partitions, at) ?? undefined,
        createdBy: `scheduler:${this.presence.instanceId}`,
      });
      await this.ticks.recordRun(pipelineId, at, run.id);
      this.metrics.scheduleLag.observe(Math.max(0, Date.now() - at.getTime()) / 1000);
      this.log.log(`pipeline ${name}: tick ${at.toISOString()} → run ${run.id}`);
      return run.id;
    } catch (e) {
      this.log.error(
        `pipeline ${name}: tick ${at.toISOString()} could not start a run (retried): ${(e as Error).message}`,
      );
      return undefined;
    }
  }

  /** One pass: every scheduled pipeline's due ticks, each claimed once and run. Returns the runs started. */
  async pass(now = new Date()): Promise<string[]> {
    const started: string[] = [];
    try {
      const scheduled = await this.ticks.scheduled();
      const specs = new Map(scheduled.map((p) => [p.id, p]));
      const due: { pipelineId: string; at: Date }[] = [];
      for (const p of scheduled) {
        const schedule = p.spec.schedule!;
        if (schedule.datasets) continue; // data-aware: fired by dataset updates (DatasetTriggersService)
        for (const at of dueTicks(schedule, p.lastTick, p.scheduledSince, now)) due.push({ pipelineId: p.id, at });
      }
      // due ticks claimed a share at a time (each by one instance), their runs started a few at a time
      for (let i = due.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [due[i], due[j]] = [due[j], due[i]];
      }
      for (let i = 0; i < due.length; i += CLAIM_CHUNK) {
        const claimed = await this.ticks.claimMany(due.slice(i, i + CLAIM_CHUNK), this.presence.instanceId);
        await eachLimited(claimed, START_PARALLEL, async (t) => {
          const p = specs.get(t.pipelineId)!;
          const id = await this.start(p.id, p.name, p.spec, t.at);
          if (id) started.push(id);
        });
      }
      this.wakeAtNextTick(scheduled);
      // a tick claimed whose run never started (its start failed, or its process died): started now,
      // idempotently (the run's key is the tick's time)
      for (const t of await this.ticks.unstarted(STARTED_WITHIN_MS)) {
        const p = specs.get(t.pipelineId);
        if (p) await this.start(p.id, p.name, p.spec, t.at);
      }
      // backfills go on as slots free (also after a restart)
      await this.backfills.advanceAll();
    } catch (e) {
      this.log.error(`scheduler pass: ${(e as Error).message}`);
    }
    return started;
  }
}
