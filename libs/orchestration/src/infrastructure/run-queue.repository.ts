import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Client } from 'pg';
import { isUuid, Outbox, Queryable, rowsOf, RUN_EVENTS_TOPIC, RunStateEvent } from '@weir/platform';
import type { StepKind } from '../domain/pipeline';
import type { PartitionRange } from '../domain/partitions';
import type { StepState } from '../domain/step-plan';
import type {
  LeaseOptions,
  LeasedStep,
  NewPipelineRun,
  PartitionState,
  PipelineRunRecord,
  PipelineRunStatus,
  PlanOptions,
  RunAnnouncer,
  RunQueue,
  StepChanges,
  StepRunRecord,
} from '../application/ports/run-queue.port';
import * as q from './run-queue.sql';

type Row = Record<string, unknown>;
/** The channel of {@link PgRunQueue.wakeWorkers}. */
const WAKE_CHANNEL = 'weir_steps_queued';
const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));

function runOf(r: Row): PipelineRunRecord {
  return {
    id: r['id'] as string,
    pipelineId: r['pipeline_id'] as string,
    version: Number(r['version']),
    status: r['status'] as PipelineRunStatus,
    trigger: r['trigger'] as string,
    partition: (r['partition'] as string | null) ?? null,
    params: (r['params'] as Record<string, unknown>) ?? {},
    idempotencyKey: r['idempotency_key'] as string,
    createdBy: (r['created_by'] as string | null) ?? null,
    createdAt: date(r['created_at'])!,
    startedAt: date(r['started_at']),
    finishedAt: date(r['finished_at']),
    error: (r['error'] as string | null) ?? null,
    backfillId: (r['backfill_id'] as string | null) ?? null,
  };
}

function stepOf(r: Row): StepRunRecord {
  return {
    id: String(r['id']),
    runId: r['run_id'] as string,
    stepId: r['step_id'] as string,
    kind: r['kind'] as StepKind,
    status: r['status'] as StepState,
    pool: (r['pool'] as string | null) ?? null,
    attempt: Number(r['attempt']),
    maxAttempts: Number(r['max_attempts']),
    readyAt: date(r['ready_at']),
    leaseOwner: (r['lease_owner'] as string | null) ?? null,
    leaseExpiresAt: date(r['lease_expires_at']),
    startedAt: date(r['started_at']),
    finishedAt: date(r['finished_at']),
    errorCode: (r['error_code'] as string | null) ?? null,
    error: (r['error'] as string | null) ?? null,
    ref: (r['ref'] as Record<string, unknown> | null) ?? null,
    output: (r['output'] as Record<string, unknown> | null) ?? null,
  };
}

function partitionStateOf(r: Row): PartitionState {
  return {
    partition: r['partition'] as string,
    runId: r['id'] as string,
    status: r['status'] as PipelineRunStatus,
    createdAt: date(r['created_at'])!,
    lastSuccessAt: date(r['last_success']),
  };
}

/** The run queue in PostgreSQL (orchestration.runs, step_runs), SQL from run-queue.sql.ts. */
@Injectable()
export class PgRunQueue implements RunQueue {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly outbox: Outbox,
  ) {}

  /** The run's event, in the transaction of its state change (key `<runId>:<state>`: written once). */
  private async announce(
    tx: Queryable,
    runId: string,
    state: RunStateEvent['state'],
    error: string | null,
    a?: RunAnnouncer,
  ) {
    if (a) await this.outbox.publish(tx, RUN_EVENTS_TOPIC, a(state, error), `${runId}:${state}`);
  }

  private async run(s: q.Sql, tx: { query: DataSource['query'] } = this.ds): Promise<Row[]> {
    return rowsOf<Row>(await tx.query(s.sql, s.params));
  }

  async findLive(pipelineId: string, key: string): Promise<PipelineRunRecord | null> {
    const [r] = await this.run(q.findLiveSql(pipelineId, key));
    return r ? runOf(r) : null;
  }

  async create(run: NewPipelineRun): Promise<PipelineRunRecord> {
    return runOf((await this.run(q.createRunSql(run)))[0]);
  }

  async createOrFind(run: NewPipelineRun): Promise<{ run: PipelineRunRecord; created: boolean }> {
    return this.ds.transaction(async (em) => {
      // two triggers with one key wait for each other here: the second finds the first's run
      await em.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
        `weir.run-key:${run.pipelineId}:${run.idempotencyKey}`,
      ]);
      const [live] = await this.run(q.findLiveSql(run.pipelineId, run.idempotencyKey), em);
      if (live) return { run: runOf(live), created: false };
      return { run: runOf((await this.run(q.createRunSql(run), em))[0]), created: true };
    });
  }

  async whilePromoting(pipelineId: string, fn: () => Promise<void>): Promise<boolean> {
    return this.ds.transaction(async (em) => {
      const [r] = rowsOf<Row>(
        await em.query(`SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS ok`, [
          `weir.promote:${pipelineId}`,
        ]),
      );
      if (r['ok'] !== true) return false;
      await fn();
      return true;
    });
  }

  async find(id: string): Promise<{ run: PipelineRunRecord; steps: StepRunRecord[] } | null> {
    if (!isUuid(id)) return null;
    const [r] = await this.run({ sql: `SELECT ${q.RUN_COLUMNS} FROM orchestration.runs WHERE id = $1`, params: [id] });
    if (!r) return null;
    const steps = await this.run({
      sql: `SELECT ${q.STEP_COLUMNS} FROM orchestration.step_runs WHERE run_id = $1 ORDER BY id`,
      params: [id],
    });
    return { run: runOf(r), steps: steps.map(stepOf) };
  }

  async stepStatus(stepRunId: string): Promise<StepState | null> {
    if (!/^\d+$/.test(stepRunId)) return null;
    const [r] = await this.run({
      sql: `SELECT status FROM orchestration.step_runs WHERE id = $1`,
      params: [stepRunId],
    });
    return r ? (r['status'] as StepState) : null;
  }

  async findRun(id: string): Promise<PipelineRunRecord | null> {
    if (!isUuid(id)) return null;
    const [r] = await this.run({ sql: `SELECT ${q.RUN_COLUMNS} FROM orchestration.runs WHERE id = $1`, params: [id] });
    return r ? runOf(r) : null;
  }

  async countRuns(pipelineId: string, status: PipelineRunStatus): Promise<number> {
    const [r] = await this.run({
      sql: `SELECT count(*)::int AS n FROM orchestration.runs WHERE pipeline_id = $1 AND status = $2`,
      params: [pipelineId, status],
    });
    return Number(r['n']);
  }

  async oldestQueued(pipelineId: string, limit: number): Promise<PipelineRunRecord[]> {
    return (
      await this.run({
        sql: `SELECT ${q.RUN_COLUMNS} FROM orchestration.runs WHERE pipeline_id = $1 AND status = 'queued'
               ORDER BY created_at, id LIMIT $2`,
        params: [pipelineId, limit],
      })
    ).map(runOf);
  }

  async wakeWorkers(): Promise<void> {
    await this.ds.query(`SELECT pg_notify($1, '')`, [WAKE_CHANNEL]).catch(() => undefined);
  }

  async onWake(fn: () => void): Promise<() => Promise<void>> {
    // a connection of its own (LISTEN holds it); lost (a server restart): the worker's poll goes on
    const url = (this.ds.options as { url?: string }).url;
    if (!url) throw new Error('the control plane has no URL to listen on');
    const c = new Client({
      connectionString: url,
      application_name: 'weir-step-wake',
    });
    c.on('error', () => undefined);
    c.on('notification', (n) => {
      if (n.channel === WAKE_CHANNEL) fn();
    });
    await c.connect();
    await c.query(`LISTEN ${WAKE_CHANNEL}`);
    return () => c.end().catch(() => undefined);
  }

  async startable(pipelineId: string, maxActiveRuns: number): Promise<PipelineRunRecord[]> {
    return (await this.run(q.startableSql(pipelineId, maxActiveRuns))).map(runOf);
  }

  async list(f: {
    pipelineId?: string;
    status?: PipelineRunStatus;
    partition?: string;
    limit: number;
  }): Promise<PipelineRunRecord[]> {
    return (await this.run(q.listRunsSql(f))).map(runOf);
  }

  async activeRuns(pipelineId: string): Promise<number> {
    const [r] = await this.run({
      sql: `SELECT count(*)::int AS n FROM orchestration.runs WHERE pipeline_id = $1 AND status IN ('queued', 'running')`,
      params: [pipelineId],
    });
    return Number(r['n']);
  }

  async readyDepth(): Promise<number> {
    const [r] = await this.run({
      sql: `SELECT count(*)::int AS n FROM orchestration.step_runs WHERE status = 'queued' AND ready_at <= now()`,
      params: [],
    });
    return Number(r['n']);
  }

  async activeOfBackfill(backfillId: string): Promise<number> {
    const [r] = await this.run({
      sql: `SELECT count(*)::int AS n FROM orchestration.runs WHERE backfill_id = $1 AND status IN ('queued', 'running')`,
      params: [backfillId],
    });
    return Number(r['n']);
  }

  async partitionStates(pipelineId: string, keys?: string[]): Promise<Map<string, PartitionState>> {
    const rows = await this.run(q.partitionStatesSql(pipelineId, keys));
    return new Map(rows.map((r) => [r['partition'] as string, partitionStateOf(r)]));
  }

  async partitionsCovered(pipelineId: string, range: PartitionRange): Promise<number> {
    const [r] = await this.run(q.partitionsCoveredSql(pipelineId, range));
    return Number(r['n']);
  }

  async gapsPage(
    pipelineId: string,
    range: PartitionRange,
    offset: number,
    limit: number,
  ): Promise<{ partition: string; state: PartitionState | null }[]> {
    return (await this.run(q.gapsPageSql(pipelineId, range, offset, limit))).map((r) => ({
      partition: r['partition'] as string,
      state: r['id'] ? partitionStateOf(r) : null,
    }));
  }

  /**
   * First a read without the lock (one round trip): when `decide` changes nothing on a running run
   * (a step ended and others still run, the common case), that is the plan. A step's end is
   * committed before its run is planned, so of two steps ending at once the later one's plan sees
   * both: a plan that reads a state a little old changes nothing that a later plan would not see.
   * Otherwise (a change, a run's first plan) the run is locked, its states read again (a statement
   * begun under the lock sees every plan committed before), `decide` asked again, and its changes
   * applied in one statement with the run's event.
   */
  async plan(
    runId: string,
    decide: (states: Map<string, StepState>) => StepChanges,
    announce?: RunAnnouncer,
    opts: PlanOptions = {},
  ): Promise<PipelineRunStatus | null> {
    const statesOf = (r: Row) => new Map(Object.entries((r['steps'] as Record<string, StepState> | null) ?? {}));
    if (!opts.queued) {
      const [seen] = await this.run(q.planReadSql(runId));
      if (!seen || !['queued', 'running'].includes(seen['status'] as string)) return null;
      if (seen['status'] === 'running') {
        const c = decide(statesOf(seen));
        if (!c.queue.length && !c.skip.length && !c.end) return 'running';
      }
    }
    return this.ds.transaction(async (em) => {
      // the pipeline's lock first (a start counts its running runs under it), then the run's row
      const [run] = await this.run(q.planLockSql(runId, opts.startIf?.pipelineId ?? null), em);
      // a run already ended is not planned again (and its end is not told twice)
      if (!run || !['queued', 'running'].includes(run['status'] as string)) return null;
      const starts = run['status'] === 'queued';
      // a statement begun under the locks: it sees every plan and start committed before
      const [fresh] = await this.run(q.planReadSql(runId, starts ? (opts.startIf?.pipelineId ?? null) : null), em);
      if (starts && opts.startIf && Number(fresh['running']) >= opts.startIf.maxActiveRuns) return 'queued';
      const changes = decide(statesOf(fresh));
      const status: PipelineRunStatus = changes.end ? changes.end.status : 'running';
      const events: { state: RunStateEvent['state']; error: string | null }[] = [];
      if (starts) events.push({ state: 'START', error: null });
      if (changes.end)
        events.push({ state: changes.end.status === 'succeeded' ? 'COMPLETE' : 'FAIL', error: changes.end.error });
      if (!changes.queue.length && !changes.skip.length && !changes.end && !starts) return status;
      const apply = q.planApplySql(runId, changes, status);
      if (announce && events.length === 1) {
        const [e] = events;
        await this.outbox.publishAlong(
          em,
          apply.statement,
          apply.params,
          RUN_EVENTS_TOPIC,
          announce(e.state, e.error),
          `${runId}:${e.state}`,
          apply.ctes,
        );
      } else {
        await em.query(`WITH ${apply.ctes} ${apply.statement}`, apply.params);
        for (const e of events) await this.announce(em, runId, e.state, e.error, announce);
      }
      return status;
    });
  }

  /** One statement (see leaseSql): the run's and pool's locks are held for its time only. */
  async lease(owner: string, leaseMs: number, opts: LeaseOptions = {}): Promise<LeasedStep | null> {
    const [row] = await this.run(q.leaseSql(owner, leaseMs, opts));
    const r = (row?.['leased'] as Row | null) ?? null;
    if (!r) return null;
    return {
      ...stepOf(r),
      partition: (r['partition'] as string | null) ?? null,
      params: (r['params'] as Record<string, unknown>) ?? {},
      pipelineId: r['pipeline_id'] as string,
      version: Number(r['version']),
      trigger: r['trigger'] as string,
    };
  }

  async renew(stepRunId: string, owner: string, attempt: number, leaseMs: number): Promise<boolean> {
    return (await this.run(q.renewSql(stepRunId, owner, attempt, leaseMs))).length > 0;
  }

  async stalledRuns(): Promise<{ id: string; pipelineId: string; status: PipelineRunStatus }[]> {
    return (await this.run(q.stalledRunsSql())).map((r) => ({
      id: r['id'] as string,
      pipelineId: r['pipeline_id'] as string,
      status: r['status'] as PipelineRunStatus,
    }));
  }

  async setRef(stepRunId: string, ref: Record<string, unknown>): Promise<void> {
    await this.run({
      sql: `UPDATE orchestration.step_runs SET ref = COALESCE(ref, '{}'::jsonb) || $2::jsonb WHERE id = $1`,
      params: [stepRunId, JSON.stringify(ref)],
    });
  }

  async succeed(
    stepRunId: string,
    owner: string,
    attempt: number,
    output: Record<string, unknown> | null,
  ): Promise<boolean> {
    return (await this.run(q.succeedSql(stepRunId, owner, attempt, output))).length > 0;
  }

  async fail(
    stepRunId: string,
    owner: string,
    attempt: number,
    failure: { code: string; message: string; retryInMs: number | null },
  ): Promise<boolean> {
    return (await this.run(q.failSql(stepRunId, owner, attempt, failure))).length > 0;
  }

  async reclaimExpired(): Promise<string[]> {
    return [...new Set((await this.run(q.reclaimSql())).map((r) => r['run_id'] as string))];
  }

  async cancel(runId: string, announce?: RunAnnouncer): Promise<boolean> {
    return this.ds.transaction(async (em) => {
      const rows = rowsOf<Row>(
        await em.query(
          `UPDATE orchestration.runs SET status = 'cancelled', finished_at = now(), error = 'cancelled',
                  started_at = COALESCE(started_at, now())
            WHERE id = $1 AND status IN ('queued', 'running') RETURNING id`,
          [runId],
        ),
      );
      if (!rows.length) return false;
      await this.announce(em, runId, 'ABORT', 'cancelled', announce);
      await em.query(
        `UPDATE orchestration.step_runs SET status = 'cancelled', finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
          WHERE run_id = $1 AND status IN ('pending', 'queued', 'retrying', 'running')`,
        [runId],
      );
      return true;
    });
  }
}
