import { Injectable } from '@nestjs/common';
import type { IngestionRunsPort, StartDueRuns, StartIngestionRun } from './ports/ingestion-runs.port';
import { DueRunsService } from './due-runs.service';
import { CancelRunService } from './cancel-run.service';
import { RunRecoveryService } from './run-recovery.service';
import { RunWorkerService } from './run-worker.service';
import type { RunRecord } from '../domain/run';
import type { RunView, TriggerRequest } from './run.views';
import { TriggerRunService } from './trigger-run.service';

export { runView } from './run.views';
export type { RunStatus, RunView, TriggerRequest } from './run.views';

/**
 * Ingestion runs, for the slice's controllers, the CLI and other slices (INGESTION_RUNS): each
 * method forwards to its use case — trigger-run ({@link TriggerRunService}), run-worker
 * ({@link RunWorkerService}) and run-recovery ({@link RunRecoveryService}).
 */
@Injectable()
export class RunsService implements IngestionRunsPort {
  constructor(
    private readonly triggers: TriggerRunService,
    private readonly worker: RunWorkerService,
    private readonly recovery: RunRecoveryService,
    private readonly due: DueRunsService,
    private readonly cancels: CancelRunService,
  ) {}

  cancel(id: string): Promise<RunView> {
    return this.cancels.cancel(id);
  }

  /** A running run whose heartbeat is older than this is taken as interrupted (WEIR_RUN_STALE_SECONDS). */
  get staleMs(): number {
    return this.recovery.staleMs;
  }

  set staleMs(ms: number) {
    this.recovery.staleMs = ms;
  }

  /** How often workers look for runs interrupted elsewhere. */
  get recoverEveryMs(): number {
    return this.recovery.recoverEveryMs;
  }

  set recoverEveryMs(ms: number) {
    this.recovery.recoverEveryMs = ms;
  }

  trigger(sourceIdOrName: string, req: TriggerRequest): Promise<{ run: RunView; created: boolean }> {
    return this.triggers.trigger(sourceIdOrName, req);
  }

  startDue(req: StartDueRuns): Promise<{ runs: RunView[]; created: number }> {
    return this.due.startDue(req);
  }

  start(req: StartIngestionRun): Promise<{ run: RunView; created: boolean }> {
    return this.triggers.start(req);
  }

  get(id: string): Promise<RunView> {
    return this.triggers.get(id);
  }

  /** The run's record (the slice's own services). */
  entity(id: string): Promise<RunRecord> {
    return this.triggers.entity(id);
  }

  list(filter: { sourceId?: string; status?: string; limit?: number }): Promise<RunView[]> {
    return this.triggers.list(filter);
  }

  waitFor(id: string, timeoutMs?: number): Promise<RunView> {
    return this.triggers.waitFor(id, timeoutMs);
  }

  /** Executes queued runs one after the other until none is left. */
  kick(): Promise<void> {
    return this.worker.kick();
  }

  /** Runs one claimed run to its end (succeeded or failed). Never throws. */
  execute(runId: string): Promise<void> {
    return this.worker.execute(runId);
  }

  /** Fails runs whose worker died and drops staging tables nobody owns. */
  recover(staleMs?: number): Promise<void> {
    return this.recovery.recover(staleMs);
  }
}
