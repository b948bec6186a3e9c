import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
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
  RunAnnouncer,
  RunQueue,
  StepChanges,
  StepRunRecord,
} from '../application/ports/run-queue.port';
import * as q from './run-queue.sql';

type Row = Record<string, unknown>;
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

  async plan(
    runId: string,
    decide: (states: Map<string, StepState>) => StepChanges,
    announce?: RunAnnouncer,
  ): Promise<PipelineRunStatus | null> {
    return this.ds.transaction(async (em) => {
      const [run] = rowsOf<Row>(
        await em.query(`SELECT status FROM orchestration.runs WHERE id = $1 FOR UPDATE`, [runId]),
      );
      // a run already ended is not planned again (and its end is not told twice)
      if (!run || !['queued', 'running'].includes(run['status'] as string)) return null;
      const rows = rowsOf<Row>(
        await em.query(`SELECT step_id, status FROM orchestration.step_runs WHERE run_id = $1`, [runId]),
      );
      const changes = decide(new Map(rows.map((r) => [r['step_id'] as string, r['status'] as StepState])));
      if (changes.queue.length)
        await em.query(
          `UPDATE orchestration.step_runs SET status = 'queued', ready_at = now()
            WHERE run_id = $1 AND step_id = ANY($2::text[]) AND status = 'pending'`,
          [runId, changes.queue],
        );
      for (const s of changes.skip)
        await em.query(
          `UPDATE orchestration.step_runs SET status = 'skipped', finished_at = now(), error = $3
            WHERE run_id = $1 AND step_id = $2 AND status = 'pending'`,
          [runId, s.stepId, s.reason],
        );
      if (run['status'] === 'queued') await this.announce(em, runId, 'START', null, announce);
      if (changes.end) {
        await em.query(
          `UPDATE orchestration.runs SET status = $2, finished_at = now(), error = $3,
                  started_at = COALESCE(started_at, now()) WHERE id = $1`,
          [runId, changes.end.status, changes.end.error],
        );
        const state = changes.end.status === 'succeeded' ? 'COMPLETE' : 'FAIL';
        await this.announce(em, runId, state, changes.end.error, announce);
        return changes.end.status;
      }
      if (run['status'] === 'queued')
        await em.query(`UPDATE orchestration.runs SET status = 'running', started_at = now() WHERE id = $1`, [runId]);
      return 'running';
    });
  }

  /**
   * In one transaction: a candidate (locked), then for a pooled step the pool's lock and its count
   * taken again under it (see poolRoomSql: why the pool's slots cannot be passed); a pool found full
   * leaves its step to a later lease and the next candidate is tried.
   */
  async lease(owner: string, leaseMs: number, opts: LeaseOptions = {}): Promise<LeasedStep | null> {
    const defaultSlots = opts.defaultPoolSlots ?? q.DEFAULT_POOL_SLOTS;
    const r = await this.ds.transaction(async (em) => {
      // Locks are taken so that no two leases can wait for each other: a lease waits for a run's
      // lock only while it holds no lock, and for a pool's only while it holds no pool's; the holder
      // of a pool's lock never waits. Every other lock is tried, and its step skipped when taken.
      const skip: string[] = [];
      let poolLocked = false;
      let runLocked = false;
      for (let tries = 0; tries < 8; tries++) {
        const [c] = await this.run(q.leaseCandidateSql(opts, skip), em);
        if (!c) return null;
        const runId = c['run_id'] as string;
        const [rl] = await this.run(q.runLockSql(runId, !runLocked && !poolLocked), em);
        if (rl['ok'] !== true) {
          skip.push(String(c['id']));
          continue;
        }
        runLocked = true;
        const [rr] = await this.run(q.runRoomSql(runId, Number(c['concurrency'])), em);
        if (rr['room'] !== true) {
          skip.push(String(c['id']));
          continue;
        }
        const pool = (c['pool'] as string | null) ?? null;
        if (pool !== null) {
          const [lock] = await this.run(q.poolLockSql(pool, !poolLocked), em);
          if (lock['ok'] !== true) {
            skip.push(String(c['id']));
            continue;
          }
          poolLocked = true;
          const [room] = await this.run(q.poolRoomSql(pool, defaultSlots), em);
          if (room['room'] !== true) {
            skip.push(String(c['id']));
            continue;
          }
        }
        const [row] = await this.run(q.claimSql(String(c['id']), owner, leaseMs), em);
        return row ?? null;
      }
      return null;
    });
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
