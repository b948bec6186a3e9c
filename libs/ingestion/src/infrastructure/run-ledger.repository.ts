import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isUuid, Queryable, rowsOf } from '@weir/platform';
import type { Liveness, NewRun, RunFailure, RunLedger, RunSuccess } from '../application/ports/run-ledger.port';
import type { RunRecord, RunRef, RunStatus } from '../domain/run';
import * as q from './run-ledger.sql';

/** A row of ingestion.runs as a record (bigint counts arrive as strings). */
export function runRecordOf(r: Record<string, unknown>): RunRecord {
  const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));
  return {
    id: r['id'] as string,
    sourceId: r['source_id'] as string,
    status: r['status'] as RunStatus,
    trigger: r['trigger'] as string,
    idempotencyKey: r['idempotency_key'] as string,
    input: r['input'] as RunRecord['input'],
    createdBy: (r['created_by'] as string | null) ?? null,
    createdAt: date(r['created_at'])!,
    startedAt: date(r['started_at']),
    finishedAt: date(r['finished_at']),
    heartbeatAt: date(r['heartbeat_at']),
    claimedBy: (r['claimed_by'] as string | null) ?? null,
    bytesRead: Number(r['bytes_read'] ?? 0),
    rowsRead: Number(r['rows_read'] ?? 0),
    rowsLoaded: Number(r['rows_loaded'] ?? 0),
    rowsRejected: Number(r['rows_rejected'] ?? 0),
    rowsDeduplicated: Number(r['rows_deduplicated'] ?? 0),
    columnsDiscarded: (r['columns_discarded'] as Record<string, number> | null) ?? null,
    watermarkBefore: (r['watermark_before'] as string | null) ?? null,
    watermarkAfter: (r['watermark_after'] as string | null) ?? null,
    quality: r['quality'] ?? null,
    errorCode: (r['error_code'] as string | null) ?? null,
    errorMessage: (r['error_message'] as string | null) ?? null,
  };
}

const refs = (rows: Record<string, unknown>[]): RunRef[] =>
  rows.map((r) => ({
    id: r['id'] as string,
    sourceId: r['source_id'] as string,
    ...(r['parent'] ? { parent: r['parent'] as { job: string; runId: string } } : {}),
  }));

/** The run ledger in PostgreSQL (ingestion.runs), SQL from run-ledger.sql.ts. */
@Injectable()
export class PgRunLedger implements RunLedger {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  private async run(tx: Queryable, s: q.Sql): Promise<Record<string, unknown>[]> {
    return rowsOf<Record<string, unknown>>(await tx.query(s.sql, s.params));
  }

  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.ds.transaction((em) => work(em));
  }

  async lockSource(tx: Queryable, sourceId: string): Promise<boolean> {
    return (await this.run(tx, q.lockSourceSql(sourceId))).length > 0;
  }

  async latestByKey(tx: Queryable, sourceId: string, key: string): Promise<RunRecord | null> {
    const [r] = await this.run(tx, q.latestByKeySql(sourceId, key));
    return r ? runRecordOf(r) : null;
  }

  async create(tx: Queryable, run: NewRun): Promise<RunRecord> {
    return runRecordOf((await this.run(tx, q.createRunSql(run)))[0]);
  }

  async start(tx: Queryable, run: NewRun, instanceId: string): Promise<RunRecord> {
    return runRecordOf((await this.run(tx, q.startRunSql(run, instanceId)))[0]);
  }

  async find(id: string): Promise<RunRecord | null> {
    if (!isUuid(id)) return null;
    const [r] = await this.run(this.ds, q.findRunSql(id));
    return r ? runRecordOf(r) : null;
  }

  async list(filter: { sourceId?: string; status?: RunStatus; limit: number }): Promise<RunRecord[]> {
    return (await this.run(this.ds, q.listRunsSql(filter))).map(runRecordOf);
  }

  async countForSource(sourceId: string): Promise<number> {
    return Number((await this.run(this.ds, q.countForSourceSql(sourceId)))[0]['n']);
  }

  async claimNext(tx: Queryable, instanceId: string): Promise<RunRef | null> {
    return refs(await this.run(tx, q.claimNextSql(instanceId)))[0] ?? null;
  }

  async heartbeat(id: string): Promise<boolean> {
    const [r] = await this.run(this.ds, q.heartbeatSql(id));
    return r?.['cancel'] === true;
  }

  async cancelQueued(tx: Queryable, id: string, message: string): Promise<RunRef | null> {
    return refs(await this.run(tx, q.cancelQueuedSql(id, message)))[0] ?? null;
  }

  async requestCancel(id: string): Promise<boolean> {
    return (await this.run(this.ds, q.requestCancelSql(id))).length > 0;
  }

  async progress(id: string, p: { rowsRead: number; rowsRejected: number; bytesRead: number }): Promise<void> {
    await this.run(this.ds, q.progressSql(id, p));
  }

  async succeed(tx: Queryable, id: string, s: RunSuccess): Promise<boolean> {
    const [r] = await this.run(tx, q.succeedSql(id, s));
    if (!r) return false;
    if (s.advanceSourceWatermark) await this.run(tx, q.advanceWatermarkSql(r['source_id'] as string, s.watermarkAfter));
    return true;
  }

  async fail(tx: Queryable, id: string, f: RunFailure): Promise<boolean> {
    return (await this.run(tx, q.failSql(id, f))).length > 0;
  }

  async failIfDead(tx: Queryable, id: string, live: Liveness): Promise<boolean> {
    return (await this.run(tx, q.failIfDeadSql(id, live))).length > 0;
  }

  async failInterrupted(tx: Queryable, staleMs: number, live: Liveness, message: string): Promise<RunRef[]> {
    return refs(await this.run(tx, q.failInterruptedSql(staleMs, live, message)));
  }

  async failLostUploads(tx: Queryable, live: Liveness): Promise<RunRef[]> {
    return refs(await this.run(tx, q.failLostUploadsSql(live)));
  }

  async uploadsInUse(files: string[]): Promise<Map<string, boolean>> {
    const rows = await this.run(this.ds, q.uploadsInUseSql(files));
    return new Map(rows.map((r) => [r['f'] as string, r['live'] as boolean]));
  }
}

/**
 * The run ledger in memory, for unit tests of the use cases; passes the same contract suite
 * (libs/ingestion/test/run-ledger.contract.spec.ts). A transaction that throws restores the runs.
 * Instances other than the caller are alive when `isAlive` says so.
 */
export class InMemoryRunLedger implements RunLedger {
  private runs = new Map<string, RunRecord>();
  /** Source watermarks moved by successful incremental runs. */
  readonly watermarks = new Map<string, string | null>();
  private seq = 0;
  private readonly tx: Queryable = {
    query: () => Promise.reject(new Error('the in-memory ledger runs no SQL')),
  };

  constructor(private readonly isAlive: (instanceId: string) => boolean = () => false) {}

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const saved = new Map([...this.runs].map(([k, v]) => [k, { ...v }]));
    try {
      return await work(this.tx);
    } catch (e) {
      this.runs = saved;
      throw e;
    }
  }

  async lockSource(): Promise<boolean> {
    return true;
  }

  private copy(r: RunRecord | undefined): RunRecord | null {
    return r ? { ...r } : null;
  }

  private newest(rs: RunRecord[]): RunRecord[] {
    return rs.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id));
  }

  async latestByKey(_tx: Queryable, sourceId: string, key: string): Promise<RunRecord | null> {
    const rs = [...this.runs.values()].filter((r) => r.sourceId === sourceId && r.idempotencyKey === key);
    return this.copy(this.newest(rs)[0]);
  }

  async create(_tx: Queryable, run: NewRun): Promise<RunRecord> {
    const n = ++this.seq;
    const id = `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
    const r: RunRecord = {
      id,
      ...run,
      status: 'queued',
      createdAt: new Date(Date.now() + n / 1000),
      startedAt: null,
      finishedAt: null,
      heartbeatAt: null,
      claimedBy: null,
      bytesRead: 0,
      rowsRead: 0,
      rowsLoaded: 0,
      rowsRejected: 0,
      rowsDeduplicated: 0,
      columnsDiscarded: null,
      watermarkBefore: null,
      watermarkAfter: null,
      quality: null,
      errorCode: null,
      errorMessage: null,
    };
    this.runs.set(id, r);
    return { ...r };
  }

  async start(tx: Queryable, run: NewRun, instanceId: string): Promise<RunRecord> {
    const r = this.runs.get((await this.create(tx, run)).id)!;
    Object.assign(r, { status: 'running', startedAt: new Date(), heartbeatAt: new Date(), claimedBy: instanceId });
    return { ...r };
  }

  async find(id: string): Promise<RunRecord | null> {
    return this.copy(this.runs.get(id));
  }

  async list(filter: { sourceId?: string; status?: RunStatus; limit: number }): Promise<RunRecord[]> {
    const rs = [...this.runs.values()].filter(
      (r) =>
        (filter.sourceId === undefined || r.sourceId === filter.sourceId) &&
        (filter.status === undefined || r.status === filter.status),
    );
    return this.newest(rs)
      .slice(0, filter.limit)
      .map((r) => ({ ...r }));
  }

  async countForSource(sourceId: string): Promise<number> {
    return [...this.runs.values()].filter((r) => r.sourceId === sourceId).length;
  }

  async claimNext(_tx: Queryable, instanceId: string): Promise<RunRef | null> {
    const queued = [...this.runs.values()]
      .filter((r) => r.status === 'queued' && (r.input.heldBy === undefined || r.input.heldBy === instanceId))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    const r = queued[0];
    if (!r) return null;
    Object.assign(r, { status: 'running', startedAt: new Date(), heartbeatAt: new Date(), claimedBy: instanceId });
    return { id: r.id, sourceId: r.sourceId, ...(r.input.parent ? { parent: r.input.parent } : {}) };
  }

  private readonly cancelRequested = new Set<string>();

  async heartbeat(id: string): Promise<boolean> {
    const r = this.runs.get(id);
    if (r) r.heartbeatAt = new Date();
    return this.cancelRequested.has(id);
  }

  async cancelQueued(_tx: Queryable, id: string, message: string): Promise<RunRef | null> {
    const r = this.runs.get(id);
    if (!r || r.status !== 'queued') return null;
    Object.assign(r, {
      status: 'failed',
      finishedAt: new Date(),
      errorCode: 'INGESTION.CANCELLED',
      errorMessage: message,
    });
    return { id: r.id, sourceId: r.sourceId, ...(r.input.parent ? { parent: r.input.parent } : {}) };
  }

  async requestCancel(id: string): Promise<boolean> {
    const r = this.runs.get(id);
    if (!r || r.status !== 'running') return false;
    this.cancelRequested.add(id);
    return true;
  }

  async progress(id: string, p: { rowsRead: number; rowsRejected: number; bytesRead: number }): Promise<void> {
    const r = this.runs.get(id);
    if (r) Object.assign(r, p, { heartbeatAt: new Date() });
  }

  async succeed(_tx: Queryable, id: string, s: RunSuccess): Promise<boolean> {
    const r = this.runs.get(id);
    if (r?.status !== 'running') return false;
    const { advanceSourceWatermark, ...counts } = s;
    Object.assign(r, counts, { status: 'succeeded', finishedAt: new Date(), heartbeatAt: new Date() });
    if (s.columnsDiscarded && !Object.keys(s.columnsDiscarded).length) r.columnsDiscarded = null;
    if (advanceSourceWatermark) this.watermarks.set(r.sourceId, s.watermarkAfter);
    return true;
  }

  async fail(_tx: Queryable, id: string, f: RunFailure): Promise<boolean> {
    const r = this.runs.get(id);
    if (r?.status !== 'running') return false;
    Object.assign(r, {
      status: 'failed',
      finishedAt: new Date(),
      errorCode: f.code,
      errorMessage: f.message.slice(0, 4000),
      bytesRead: f.bytesRead,
      rowsRead: f.rowsRead ?? r.rowsRead,
      rowsRejected: f.rowsRejected ?? r.rowsRejected,
      rowsDeduplicated: f.rowsDeduplicated ?? r.rowsDeduplicated,
      quality: f.quality ?? r.quality,
    });
    return true;
  }

  private dead(r: RunRecord, live: Liveness): boolean {
    if (!r.claimedBy || r.claimedBy === live.instanceId) return false;
    if (live.previousInstances.includes(r.claimedBy)) return true;
    const old = (r.heartbeatAt?.getTime() ?? 0) < Date.now() - live.graceMs;
    return old && !this.isAlive(r.claimedBy);
  }

  private interrupt(r: RunRecord, code: string, message: string): void {
    Object.assign(r, { status: 'failed', finishedAt: new Date(), errorCode: code, errorMessage: message });
  }

  async failIfDead(_tx: Queryable, id: string, live: Liveness): Promise<boolean> {
    const r = this.runs.get(id);
    if (r?.status !== 'running' || !this.dead(r, live)) return false;
    this.interrupt(
      r,
      'INGESTION.INTERRUPTED',
      'the worker running it stopped (crash or kill) before publishing; the target is unchanged',
    );
    return true;
  }

  async failInterrupted(_tx: Queryable, staleMs: number, live: Liveness, message: string): Promise<RunRef[]> {
    const stale = (r: RunRecord) => !r.heartbeatAt || r.heartbeatAt.getTime() < Date.now() - staleMs;
    const hit = [...this.runs.values()].filter((r) => r.status === 'running' && (stale(r) || this.dead(r, live)));
    for (const r of hit) this.interrupt(r, 'INGESTION.INTERRUPTED', message);
    return hit.map((r) => ({ id: r.id, sourceId: r.sourceId, ...(r.input.parent ? { parent: r.input.parent } : {}) }));
  }

  async failLostUploads(_tx: Queryable, live: Liveness): Promise<RunRef[]> {
    const gone = (r: RunRecord) => {
      const by = r.input.heldBy;
      if (by === undefined || by === live.instanceId) return false;
      const old = r.createdAt.getTime() < Date.now() - q.UPLOAD_ARRIVAL_MS;
      return live.previousInstances.includes(by) || (old && !this.isAlive(by));
    };
    const hit = [...this.runs.values()].filter((r) => r.status === 'queued' && gone(r));
    for (const r of hit)
      this.interrupt(
        r,
        'INGESTION.UPLOAD_LOST',
        `the instance that received this upload (${r.input.heldBy}) is gone, and the file with it; upload it again`,
      );
    return hit.map((r) => ({ id: r.id, sourceId: r.sourceId, ...(r.input.parent ? { parent: r.input.parent } : {}) }));
  }

  async uploadsInUse(files: string[]): Promise<Map<string, boolean>> {
    const out = new Map<string, boolean>();
    for (const r of this.runs.values()) {
      const f = r.input.uploadId;
      if (f === undefined || !files.includes(f)) continue;
      out.set(f, (out.get(f) ?? false) || r.status === 'queued' || r.status === 'running');
    }
    return out;
  }
}
