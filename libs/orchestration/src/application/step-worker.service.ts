import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DomainError, PresenceLock, WEIR_CONFIG, WeirConfig } from '@weir/platform';
import { backoffMs } from '../domain/backoff';
import type { Step } from '../domain/pipeline';
import { ORCHESTRATION_CONFIG, OrchestrationConfig } from '../orchestration.config';
import { StepTimeoutError } from '../orchestration.errors';
import { PIPELINE_STORE, PipelineStore } from './ports/pipeline-store.port';
import { LeasedStep, RUN_QUEUE, RunQueue } from './ports/run-queue.port';
import { PipelineRunsService } from './pipeline-runs.service';
import { StepExecutorService } from './step-executor.service';
import { OrchestrationMetrics } from './orchestration.metrics';

/**
 * `wait_for` and `pipeline` steps only wait (a query now and then): they have slots of their own,
 * so that waiting steps never hold the slots of the work they wait for (a parent pipeline step and
 * its child's steps on one instance).
 */
const WAITING_KINDS = ['wait_for', 'pipeline'] as const;
const WAITING_SLOTS = 64;

/**
 * run-worker: leases ready steps (the run queue's FOR UPDATE SKIP LOCKED, shared by every instance
 * with the worker role), runs each through its executor while renewing the lease, and records the
 * attempt: success, a retry after a backoff with full jitter, or the step's failure; then plans the
 * run. Leases that expired (a dead worker) are taken back and their steps retried elsewhere.
 */
@Injectable()
export class StepWorkerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('orchestration');
  private timer?: NodeJS.Timeout;
  private readonly running = new Set<Promise<void>>();
  private working = 0;
  private waiting = 0;
  private pumping = false;
  /** A pump was asked for while one was leasing: it goes round once more (a step queued meanwhile is not left to the poll). */
  private pumpAgain = false;
  /**
   * Whether a waiting step may be ready: false once a lease for them found none, true again when a
   * plan here queued steps or at the poll. With every work slot taken, a pump (after each step's
   * end) asks for a waiting step only then, not with an empty lease after every step.
   */
  private waitingMaybe = true;
  private stopping = false;
  private stopWake?: () => Promise<void>;

  constructor(
    @Inject(RUN_QUEUE) private readonly queue: RunQueue,
    @Inject(PIPELINE_STORE) private readonly store: PipelineStore,
    @Inject(ORCHESTRATION_CONFIG) private readonly cfg: OrchestrationConfig,
    @Inject(WEIR_CONFIG) private readonly config: WeirConfig,
    private readonly presence: PresenceLock,
    private readonly runs: PipelineRunsService,
    private readonly executor: StepExecutorService,
    private readonly metrics: OrchestrationMetrics,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.roles.has('worker')) return;
    this.runs.onQueued = (count) => {
      this.waitingMaybe = true;
      // more than this process has free slots for: the other instances take the rest now, not at their poll
      if (count > this.cfg.stepSlots - this.working) void this.queue.wakeWorkers();
      setImmediate(() => void this.pump());
    };
    void this.queue
      .onWake(() => {
        this.waitingMaybe = true;
        setImmediate(() => void this.pump());
      })
      .then((stop) => (this.stopWake = stop))
      .catch((e: Error) => this.log.warn(`listening for queued steps (the poll goes on): ${e.message}`));
    this.runs.onCancelled.push((runId) => this.stopRun(runId));
    this.timer = setInterval(() => void this.tick(), this.cfg.pollMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.stopWake?.();
    await Promise.allSettled([...this.running]);
  }

  private ticks = 0;
  /** Steps running in this process, by step run id. */
  private readonly local = new Map<string, { runId: string; stop: () => void }>();

  /** Takes back expired leases (and plans their runs), now and then plans runs nothing moves on, then fills the free slots. */
  async tick(): Promise<void> {
    if (++this.ticks % 10 === 0) await this.sweep();
    try {
      for (const runId of await this.queue.reclaimExpired()) {
        this.metrics.leaseExpiries.inc();
        this.log.warn(`pipeline run ${runId}: a step's lease expired (its worker died); taken back`);
        await this.runs.replan(runId);
      }
    } catch (e) {
      this.log.error(`reclaiming expired leases: ${(e as Error).message}`);
    }
    this.waitingMaybe = true;
    await this.pump();
  }

  /** Runs a lost plan left still (an error after a step's end): planned again, queued ones promoted. */
  async sweep(): Promise<void> {
    try {
      const stalled = await this.queue.stalledRuns();
      for (const r of stalled.filter((x) => x.status === 'running')) await this.runs.replan(r.id);
      for (const p of new Set(stalled.filter((x) => x.status === 'queued').map((x) => x.pipelineId)))
        await this.runs.promote(p);
    } catch (e) {
      this.log.error(`planning stalled runs: ${(e as Error).message}`);
    }
  }

  /** Leases steps while a slot is free and a step is ready. */
  async pump(): Promise<void> {
    if (this.stopping || !this.config.roles.has('worker')) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        await this.fill();
      } while (this.pumpAgain && !this.stopping);
    } finally {
      this.pumping = false;
    }
  }

  private async fill(): Promise<void> {
    try {
      while (!this.stopping) {
        const work = this.working < this.cfg.stepSlots;
        const wait = this.waiting < WAITING_SLOTS && (work || this.waitingMaybe);
        if (!work && !wait) break;
        const step = await this.queue.lease(this.presence.instanceId, this.cfg.leaseMs, {
          defaultPoolSlots: this.cfg.defaultPoolSlots,
          ...(work && wait ? {} : work ? { notKinds: WAITING_KINDS } : { kinds: WAITING_KINDS }),
        });
        if (!step) {
          if (wait) this.waitingMaybe = false;
          break;
        }
        const waits = (WAITING_KINDS as readonly string[]).includes(step.kind);
        if (waits) this.waiting++;
        else this.working++;
        const p = this.execute(step).finally(() => {
          if (waits) this.waiting--;
          else this.working--;
          this.running.delete(p);
          setImmediate(() => void this.pump());
        });
        this.running.add(p);
      }
    } catch (e) {
      this.log.error(`leasing steps: ${(e as Error).message}`);
    }
  }

  /** Runs one leased attempt to its end and records it. Never throws. */
  async execute(leased: LeasedStep): Promise<void> {
    const owner = this.presence.instanceId;
    const t0 = Date.now();
    const took = (outcome: string) =>
      this.metrics.stepDuration.observe({ kind: leased.kind, outcome }, (Date.now() - t0) / 1000);
    let alive = true;
    const renew = setInterval(
      () => {
        void this.queue
          .renew(leased.id, owner, leased.attempt, this.cfg.leaseMs)
          .then((ok) => {
            if (!ok) alive = false;
          })
          .catch(() => undefined);
      },
      Math.max(200, this.cfg.leaseMs / 3),
    );
    renew.unref();
    // a cancel of the run on this instance tells the step at once (elsewhere: at its next renewal)
    this.local.set(leased.id, { runId: leased.runId, stop: () => (alive = false) });
    try {
      const spec = await this.store.version(leased.pipelineId, leased.version);
      const step = spec?.steps.find((s) => s.id === leased.stepId);
      if (!spec || !step) throw new Error(`step ${leased.stepId} is not in version ${leased.version} of its pipeline`);
      this.log.log(
        `pipeline run ${leased.runId}: step ${step.id} (${step.kind}) attempt ${leased.attempt}/${leased.maxAttempts}`,
      );
      const output = await this.withTimeout(
        step,
        () => (alive = false),
        () =>
          this.executor.execute(step, {
            runId: leased.runId,
            pipeline: spec.name,
            trigger: leased.trigger,
            stepRunId: leased.id,
            attempt: leased.attempt,
            partition: leased.partition,
            partitions: spec.partitions,
            params: leased.params,
            link: (ref) => this.queue.setRef(leased.id, ref),
            alive: () => alive && !this.stopping,
            cancelled: async () => (await this.queue.stepStatus(leased.id)) === 'cancelled',
          }),
      );
      took('succeeded');
      if (!(await this.queue.succeed(leased.id, owner, leased.attempt, output)))
        this.log.warn(
          `pipeline run ${leased.runId}: step ${step.id} ended after its lease was lost; its result is dropped`,
        );
      await this.runs.replan(leased.runId, { pipelineId: leased.pipelineId, version: leased.version });
    } catch (e) {
      took('failed');
      await this.recordFailure(leased, e);
    } finally {
      clearInterval(renew);
      this.local.delete(leased.id);
    }
  }

  /** The steps of a cancelled run running here stop waiting now. */
  stopRun(runId: string): void {
    for (const s of this.local.values()) if (s.runId === runId) s.stop();
  }

  private async recordFailure(leased: LeasedStep, e: unknown): Promise<void> {
    const spec = await this.store.version(leased.pipelineId, leased.version).catch(() => null);
    const step = spec?.steps.find((s) => s.id === leased.stepId);
    const code = e instanceof DomainError ? e.code : 'ORCHESTRATION.STEP_FAILED';
    const message = e instanceof Error ? e.message : String(e);
    const retry = step && leased.attempt < leased.maxAttempts ? backoffMs(step.retries, leased.attempt) : null;
    try {
      const recorded = await this.queue.fail(leased.id, this.presence.instanceId, leased.attempt, {
        code,
        message,
        retryInMs: retry,
      });
      this.log.warn(
        `pipeline run ${leased.runId}: step ${leased.stepId} attempt ${leased.attempt} failed (${code}): ${message}${retry !== null ? `; retry in ${retry} ms` : ''}`,
      );
      if (recorded && retry === null) await this.runs.stepFailed(leased, { code, message });
      await this.runs.replan(leased.runId, { pipelineId: leased.pipelineId, version: leased.version });
    } catch (err) {
      this.log.error(`recording the failure of step ${leased.stepId}: ${(err as Error).message}`);
    }
  }

  /** The attempt, failed past the step's timeout; `stop` tells the work to give up (it stops waiting on its slice). */
  private async withTimeout<T>(step: Step, stop: () => void, work: () => Promise<T>): Promise<T> {
    if (step.timeoutMs === null) return work();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        stop();
        reject(new StepTimeoutError(`step ${step.id} ran past its timeout of ${step.timeoutMs} ms`));
      }, step.timeoutMs!);
    });
    try {
      return await Promise.race([work(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
