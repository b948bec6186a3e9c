import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PoolClient } from 'pg';
import {
  DomainError,
  HEARTBEAT_MS,
  instanceAliveSql,
  liveStaleMs,
  MetricsService,
  Outbox,
  periodic,
  PeriodicTask,
  Queryable,
  rowsOf,
  RUN_EVENTS_TOPIC,
  RunStateEvent,
  WEIR_CONFIG,
  Warehouse,
  WeirConfig,
  PresenceLock,
} from '@weir/platform';
import { CATALOG, CatalogPort } from '@weir/catalog';
import { QUALITY_GATE, QualityGate } from '@weir/quality';
import { Counter, Histogram } from 'prom-client';
import { RunInput, SourceFormat } from '../domain/source';
import { RunOrmEntity } from '../infrastructure/run.orm-entity';
import { SourceOrmEntity } from '../infrastructure/source.orm-entity';
import { LoadEngine, LoadFailedError, LoadResult } from '../infrastructure/engine/load-engine';
import { assertReadableFile, fileChecksum, resolveInRoot } from '../infrastructure/input';
import { openRecords } from '../infrastructure/readers/open-records';
import { InputUnreadableError, ReaderBatch } from '../infrastructure/readers/record';
import { INGESTION_CONFIG, IngestionConfig } from '../ingestion.config';
import { SourcesService } from './sources.service';
import type { IngestionRunsPort, StartIngestionRun } from './ports/ingestion-runs.port';
import {
  FileNotFoundError,
  InterruptedError,
  InvalidIdempotencyKeyError,
  InvalidPartitionError,
  NoInputError,
  PartitionRequiredError,
  RunNotFoundError,
  SeparateWarehouseUnsupportedError,
} from '../ingestion.errors';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface RunView {
  id: string;
  sourceId: string;
  status: RunStatus;
  trigger: string;
  idempotencyKey: string;
  input: RunInput;
  /** The partition the run loads (`input.partition`), if any. */
  partition: string | null;
  createdBy: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  bytesRead: number;
  rowsRead: number;
  rowsLoaded: number;
  rowsRejected: number;
  rowsDeduplicated: number;
  /** Rows per second so far (running) or overall (finished). */
  rate: number | null;
  columnsDiscarded: Record<string, number> | null;
  watermarkBefore: string | null;
  watermarkAfter: string | null;
  quality: unknown;
  error: { code: string; message: string } | null;
}

export function runView(r: RunOrmEntity): RunView {
  const started = r.startedAt?.getTime();
  const end = r.finishedAt?.getTime() ?? (r.status === 'running' ? Date.now() : undefined);
  const durationMs = started !== undefined && end !== undefined ? end - started : null;
  const rowsRead = Number(r.rowsRead);
  return {
    id: r.id,
    sourceId: r.sourceId,
    status: r.status as RunStatus,
    trigger: r.trigger,
    idempotencyKey: r.idempotencyKey,
    input: r.input,
    partition: r.input?.partition ?? null,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    startedAt: r.startedAt?.toISOString() ?? null,
    finishedAt: r.finishedAt?.toISOString() ?? null,
    durationMs,
    bytesRead: Number(r.bytesRead),
    rowsRead,
    rowsLoaded: Number(r.rowsLoaded),
    rowsRejected: Number(r.rowsRejected),
    rowsDeduplicated: Number(r.rowsDeduplicated),
    rate: durationMs && durationMs > 0 ? Math.round((rowsRead * 1000) / durationMs) : null,
    columnsDiscarded: r.columnsDiscarded,
    watermarkBefore: r.watermarkBefore,
    watermarkAfter: r.watermarkAfter,
    quality: r.quality,
    error: r.errorCode ? { code: r.errorCode, message: r.errorMessage ?? '' } : null,
  };
}

export interface TriggerRequest {
  /** File to load, relative to WEIR_INGEST_ROOT (default: the source's location.path). */
  path?: string;
  idempotencyKey?: string;
  trigger: 'api' | 'upload' | 'schedule' | 'replay' | 'cli' | 'pipeline';
  /** A partition of the source's data: recorded on the run, put in place of `{partition}` in the path. */
  partition?: string;
  createdBy?: string;
  /** Absolute path outside the ingest root: only the local CLI may ask for it. */
  trustedPath?: string;
  /** Upload runs: the uploaded file (already inside the data dir). */
  upload?: { file: string; checksum: string; bytes: number; originalName?: string };
  replayOf?: string;
}

/** A partition value: letters, digits and `_ . = - /`, no `..`, at most 200 characters. */
export function assertPartition(p: string): void {
  if (typeof p !== 'string' || !/^[A-Za-z0-9_.=\-/]{1,200}$/.test(p) || p.split('/').includes('..')) {
    throw new InvalidPartitionError(
      `partition ${JSON.stringify(p)}: use 1 to 200 letters, digits and _ . = - / (no "..")`,
    );
  }
}

/** `{partition}` in a path is the run's partition; a path that needs one and has none is refused. */
function partitionPath(p: string, partition: string | undefined): string {
  if (!p.includes('{partition}')) return p;
  if (partition === undefined)
    throw new PartitionRequiredError(`The path ${JSON.stringify(p)} holds {partition}: give the run a partition`);
  return p.split('{partition}').join(partition);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Runs: triggering (idempotent), the worker that executes queued runs (leased with
 * FOR UPDATE SKIP LOCKED, so several instances share the queue), recovery of interrupted runs.
 */
@Injectable()
export class RunsService implements IngestionRunsPort, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('ingestion');
  private readonly engine: LoadEngine;
  private readonly instance = `${os.hostname()}:${process.pid}`;
  private timer?: NodeJS.Timeout;
  /** A running run whose heartbeat is older than this is taken as interrupted (WEIR_RUN_STALE_SECONDS). */
  staleMs: number;
  /** How often workers look for runs interrupted elsewhere (a dead instance), besides at start. */
  recoverEveryMs: number;
  private recovery?: PeriodicTask;
  private working = false;
  private stopping = false;
  private current?: Promise<void>;
  private readonly metrics: {
    read: Counter;
    loaded: Counter;
    rejected: Counter;
    deduplicated: Counter;
    duration: Histogram;
    runs: Counter;
  };

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly warehouse: Warehouse,
    private readonly sources: SourcesService,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    @Inject(QUALITY_GATE) private readonly gate: QualityGate,
    @Inject(INGESTION_CONFIG) private readonly cfg: IngestionConfig,
    @Inject(WEIR_CONFIG) private readonly config: WeirConfig,
    metrics: MetricsService,
    private readonly outbox: Outbox,
    private readonly presence: PresenceLock,
  ) {
    this.engine = new LoadEngine(warehouse);
    this.staleMs = config.runStaleMs;
    this.recoverEveryMs = Math.max(5000, this.staleMs / 2);
    const reg = [metrics.registry];
    const labelNames = ['source'] as const;
    this.metrics = {
      read: new Counter({
        name: 'weir_ingest_rows_read_total',
        help: 'Rows read by ingestion runs',
        labelNames,
        registers: reg,
      }),
      loaded: new Counter({
        name: 'weir_ingest_rows_loaded_total',
        help: 'Rows published by ingestion runs',
        labelNames,
        registers: reg,
      }),
      rejected: new Counter({
        name: 'weir_ingest_rows_rejected_total',
        help: 'Rows dead-lettered by ingestion runs',
        labelNames,
        registers: reg,
      }),
      deduplicated: new Counter({
        name: 'weir_ingest_rows_deduplicated_total',
        help: 'Rows deduplicated by ingestion runs',
        labelNames,
        registers: reg,
      }),
      runs: new Counter({
        name: 'weir_ingest_runs_total',
        help: 'Finished ingestion runs by status',
        labelNames: ['source', 'status'],
        registers: reg,
      }),
      duration: new Histogram({
        name: 'weir_ingest_run_duration_seconds',
        help: 'Ingestion run duration',
        labelNames,
        buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
        registers: reg,
      }),
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.roles.has('worker')) return;
    await this.recover();
    // runs another instance left behind when it died are failed by the survivors, not only at a restart
    this.recovery = periodic({
      everyMs: () => this.recoverEveryMs,
      run: () => this.recover(liveStaleMs(this.staleMs)),
      onError: (e) => this.log.error(`recovering interrupted runs: ${e.message}`),
    });
    this.timer = setInterval(() => void this.kick(), 1000);
    this.timer.unref();
  }

  /** Stops claiming runs and lets the current one finish, before pools close. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.recovery?.stop();
    await this.current?.catch(() => undefined);
  }

  /** Fails runs whose worker died (stale heartbeat) and drops staging tables nobody owns. */
  async recover(staleMs = this.staleMs): Promise<void> {
    const message =
      'the worker running it stopped (crash or kill) before publishing; the target is unchanged, trigger it again';
    const rows = await this.ds.transaction(async (em) => {
      // stale heartbeat; or claimed by an instance known dead (this one before a restart, or one
      // whose presence connection is gone and whose heartbeat stopped): no need to wait the timeout
      const stale = await em.query(
        `UPDATE ingestion.runs SET status = 'failed', finished_at = now(), error_code = 'INGESTION.INTERRUPTED', error_message = $2
          WHERE status = 'running' AND (heartbeat_at IS NULL OR heartbeat_at < now() - $1::interval
                OR claimed_by = ANY($3::text[])
                OR (claimed_by IS NOT NULL AND claimed_by <> $4 AND heartbeat_at < now() - $5::interval AND NOT ${instanceAliveSql('claimed_by')}))
          RETURNING id, source_id`,
        [
          `${staleMs / 1000} seconds`,
          message,
          this.presence.previousInstances,
          this.presence.instanceId,
          `${(2 * HEARTBEAT_MS) / 1000} seconds`,
        ],
      );
      // uploads held by an instance that is gone cannot be read by anyone else: failed clearly
      const lost = await em.query(
        `UPDATE ingestion.runs SET status = 'failed', finished_at = now(), error_code = 'INGESTION.UPLOAD_LOST',
                error_message = 'the instance that received this upload (' || (input->>'heldBy') || ') is gone, and the file with it; upload it again'
          WHERE status = 'queued' AND input->>'heldBy' IS NOT NULL AND input->>'heldBy' <> $2
            AND (input->>'heldBy' = ANY($1::text[]) OR (created_at < now() - interval '10 seconds' AND NOT ${instanceAliveSql(`(input->>'heldBy')`)}))
          RETURNING id, source_id`,
        [this.presence.previousInstances, this.presence.instanceId],
      );
      const lostRows = rowsOf<{ id: string; source_id: string }>(lost);
      if (lostRows.length)
        this.log.warn(
          `failed ${lostRows.length} queued upload run(s) whose instance is gone: ${lostRows.map((r) => r.id).join(', ')}`,
        );
      const rs = [...rowsOf<{ id: string; source_id: string }>(stale), ...lostRows];
      const sources = rs.length
        ? await em.getRepository(SourceOrmEntity).findBy({ id: In([...new Set(rs.map((r) => r.source_id))]) })
        : [];
      const byId = new Map(sources.map((x) => [x.id, x]));
      for (const r of rs) {
        const source = byId.get(r.source_id);
        if (source)
          await this.publishRunEvent(em, r.id, source, 'FAIL', { error: { code: 'INGESTION.INTERRUPTED', message } });
      }
      return rs;
    });
    if (rows.length)
      this.log.warn(
        `marked ${rows.length} interrupted run(s) failed: ${rows.map((r: { id: string }) => r.id).join(', ')}`,
      );
    const orphans = await this.warehouse.query<{ s: string; t: string }>(
      `SELECT n.nspname AS s, c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND c.relname LIKE '\\_\\_weir\\_stage\\_%'
          AND NOT EXISTS (SELECT 1 FROM ingestion.runs r WHERE r.status = 'running' AND replace(r.id::text, '-', '') LIKE substr(c.relname, 14) || '%')`,
    );
    for (const o of orphans)
      await this.warehouse.query(`DROP TABLE IF EXISTS "${o.s}"."${o.t}"`).catch(() => undefined);
    await this.removeLeftoverUploads();
  }

  /**
   * Upload files no queued or running run needs (their run ended while a process was killed before it
   * could remove them, or the upload never became a run) are removed; a file younger than an hour
   * without a run may still be arriving and is kept.
   */
  private async removeLeftoverUploads(): Promise<void> {
    const dir = this.cfg.uploadDir;
    if (!fs.existsSync(dir)) return;
    const names = fs.readdirSync(dir).filter((n) => /^[0-9a-f-]{36}$/.test(n));
    if (!names.length) return;
    const files = names.map((n) => path.join(dir, n));
    // per file: whether some run still needs it (queued or running), absent when no run has it
    const live = new Map(
      rowsOf<{ f: string; live: boolean }>(
        await this.ds.query(
          `SELECT input->>'uploadId' AS f, bool_or(status IN ('queued', 'running')) AS live FROM ingestion.runs WHERE input->>'uploadId' = ANY($1::text[]) GROUP BY 1`,
          [files],
        ),
      ).map((r) => [r.f, r.live]),
    );
    let removed = 0;
    for (const f of files) {
      if (live.get(f)) continue;
      const young = Date.now() - (fs.statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0) < 3_600_000;
      if (!live.has(f) && young) continue; // no run yet: maybe still arriving
      fs.rmSync(f, { force: true });
      removed++;
    }
    if (removed) this.log.warn(`removed ${removed} upload file(s) left behind by ended runs in ${dir}`);
  }

  /**
   * A run the idempotency key found: when it is running on an instance that is dead (this one before a
   * restart, or one gone with its heartbeat stopped), it is failed as interrupted now; returns true.
   */
  private async failIfDead(
    em: { query: (sql: string, p?: unknown[]) => Promise<unknown> },
    run: RunOrmEntity,
  ): Promise<boolean> {
    if (run.status !== 'running' || !run.claimedBy || run.claimedBy === this.presence.instanceId) return false;
    const r = rowsOf<{ id: string }>(
      await em.query(
        `UPDATE ingestion.runs SET status = 'failed', finished_at = now(), error_code = 'INGESTION.INTERRUPTED',
                error_message = 'the worker running it stopped (crash or kill) before publishing; the target is unchanged'
          WHERE id = $1 AND status = 'running'
            AND (claimed_by = ANY($2::text[]) OR (heartbeat_at < now() - $3::interval AND NOT ${instanceAliveSql('claimed_by')}))
          RETURNING id`,
        [run.id, this.presence.previousInstances, `${(2 * HEARTBEAT_MS) / 1000} seconds`],
      ),
    );
    if (r.length)
      this.log.warn(
        `run ${run.id} (same input) was left running by a dead instance: failed as interrupted, running the input again`,
      );
    return r.length > 0;
  }

  /** Creates a queued run, or returns the run that already has this idempotency key. */
  async trigger(sourceIdOrName: string, req: TriggerRequest): Promise<{ run: RunView; created: boolean }> {
    if (this.config.warehouseUrl !== undefined && this.config.warehouseUrl !== this.config.databaseUrl) {
      // The publish transaction writes the target, the run record and the watermark together;
      // across two databases that would no longer be atomic, so it is refused rather than faked.
      throw new SeparateWarehouseUnsupportedError(
        'Ingestion needs the warehouse in the control-plane database (WEIR_WAREHOUSE_URL unset or equal to DATABASE_URL) so that publishing stays one transaction',
      );
    }
    const source = await this.sources.entity(sourceIdOrName);
    // a dataset a modeling project manages (or another project's seed) is never loaded over
    await this.sources.claim(
      await this.catalog.getDataset(source.dataset),
      source.managedBy,
      false,
      `ingestion:${source.name}`,
    );
    const input: RunInput = {};
    let key = req.idempotencyKey;
    if (req.replayOf) {
      input.replayOf = req.replayOf;
    } else if (req.upload) {
      // the file is on this instance's disk: this instance runs it (another one fails it clearly if this one dies)
      Object.assign(input, {
        uploadId: req.upload.file,
        checksum: req.upload.checksum,
        bytes: req.upload.bytes,
        originalName: req.upload.originalName,
        heldBy: this.presence.instanceId,
      });
    } else {
      if (!req.path && !req.trustedPath && !source.location.path) {
        throw new NoInputError(`Source "${source.name}" has no location.path; give "path" in the request`);
      }
      const given = partitionPath(req.path ?? source.location.path ?? '', req.partition);
      const file = req.trustedPath
        ? partitionPath(req.trustedPath, req.partition)
        : resolveInRoot(this.cfg.ingestRoot, given);
      assertReadableFile(file, req.trustedPath ? file : given);
      const sum = await fileChecksum(file);
      Object.assign(input, { path: file, checksum: sum.checksum, bytes: sum.bytes });
    }
    if (req.partition !== undefined) input.partition = req.partition;
    // the same bytes for another partition are another run
    key ??= req.replayOf
      ? `replay:${req.replayOf}`
      : `${req.partition !== undefined ? `partition:${req.partition}:` : ''}sha256:${input.checksum}`;
    if (key.length > 200) throw new InvalidIdempotencyKeyError('idempotencyKey is at most 200 characters');
    const result = await this.ds.transaction(async (em) => {
      await em.query(`SELECT id FROM ingestion.sources WHERE id = $1 FOR UPDATE`, [source.id]);
      const existing = await em.findOne(RunOrmEntity, {
        where: { sourceId: source.id, idempotencyKey: key },
        order: { createdAt: 'DESC' },
      });
      // the key answers with a succeeded or live run only: one whose instance died is failed now and run again
      if (existing && existing.status !== 'failed' && !(await this.failIfDead(em, existing)))
        return { run: existing, created: false };
      const run = await em.save(
        em.create(RunOrmEntity, {
          sourceId: source.id,
          status: 'queued',
          trigger: req.trigger,
          idempotencyKey: key!,
          input,
          createdBy: req.createdBy ?? null,
        }),
      );
      return { run: await em.findOneByOrFail(RunOrmEntity, { id: run.id }), created: true };
    });
    if (result.created) {
      this.log.log(`run ${result.run.id} queued for source ${source.name} (${req.trigger}, key ${key})`);
      setImmediate(() => void this.kick());
    }
    return { run: runView(result.run), created: result.created };
  }

  /** INGESTION_RUNS: a run of a source with an input, a partition and an idempotency key. */
  async start(req: StartIngestionRun): Promise<{ run: RunView; created: boolean }> {
    if (req.partition !== undefined) assertPartition(req.partition);
    return this.trigger(req.source, {
      path: req.input?.path,
      trustedPath: req.input?.trustedPath,
      idempotencyKey: req.idempotencyKey,
      trigger: req.trigger ?? 'api',
      createdBy: req.createdBy,
      partition: req.partition,
    });
  }

  async get(id: string): Promise<RunView> {
    return runView(await this.entity(id));
  }

  async entity(id: string): Promise<RunOrmEntity> {
    const r = UUID.test(id) ? await this.ds.getRepository(RunOrmEntity).findOne({ where: { id } }) : null;
    if (!r) throw new RunNotFoundError(`No run with id ${JSON.stringify(id)}`);
    return r;
  }

  async list(filter: { sourceId?: string; status?: string; limit?: number }): Promise<RunView[]> {
    const where: Record<string, unknown> = {};
    if (filter.sourceId) where['sourceId'] = (await this.sources.entity(filter.sourceId)).id;
    if (filter.status) where['status'] = filter.status;
    const rows = await this.ds
      .getRepository(RunOrmEntity)
      .find({ where, order: { createdAt: 'DESC' }, take: Math.min(filter.limit ?? 100, 1000) });
    return rows.map(runView);
  }

  /** Waits until the run is finished (tests, CLI). */
  async waitFor(id: string, timeoutMs = 600_000): Promise<RunView> {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      const r = await this.get(id);
      if (r.status === 'succeeded' || r.status === 'failed') return r;
      await this.kick();
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error(`run ${id} did not finish within ${timeoutMs} ms`);
  }

  /** Executes queued runs one after the other until none is left. */
  async kick(): Promise<void> {
    if (this.working || this.stopping || !this.config.roles.has('worker')) return;
    this.working = true;
    try {
      while (!this.stopping) {
        // the claim and its START event commit together
        const rows = await this.ds.transaction(async (em) => {
          const claimed = await em.query(
            // an upload is run by the instance that holds its file (input.heldBy)
            `UPDATE ingestion.runs SET status = 'running', started_at = now(), heartbeat_at = now(), claimed_by = $1
              WHERE id = (SELECT id FROM ingestion.runs WHERE status = 'queued' AND (input->>'heldBy' IS NULL OR input->>'heldBy' = $1)
                           ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1)
              RETURNING id, source_id`,
            [this.presence.instanceId],
          );
          const rs = rowsOf<{ id: string; source_id: string }>(claimed);
          const source = rs.length ? await em.getRepository(SourceOrmEntity).findOneBy({ id: rs[0].source_id }) : null;
          if (source) await this.publishRunEvent(em, rs[0].id, source, 'START');
          return rs;
        });
        if (!rows.length) break;
        this.current = this.execute(rows[0].id);
        await this.current;
      }
    } catch (e) {
      this.log.error(`worker loop: ${(e as Error).message}`);
    } finally {
      this.working = false;
    }
  }

  /** Runs one claimed run to its end (succeeded or failed). Never throws. */
  async execute(runId: string): Promise<void> {
    const started = Date.now();
    const run = await this.entity(runId);
    const source = await this.ds.getRepository(SourceOrmEntity).findOneByOrFail({ id: run.sourceId });
    const heartbeat = setInterval(() => {
      void this.ds
        .query(`UPDATE ingestion.runs SET heartbeat_at = now() WHERE id = $1`, [runId])
        .catch(() => undefined);
    }, HEARTBEAT_MS);
    heartbeat.unref();
    let cleanup: () => void = () => undefined;
    let bytesRead = () => 0;
    try {
      const dataset = await this.catalog.getDataset(source.dataset);
      let batches: AsyncIterable<ReaderBatch>;
      if (run.input.replayOf) {
        batches = this.replayBatches(run.input.replayOf);
      } else {
        const file = run.input.uploadId ?? run.input.path!;
        if (!fs.existsSync(file)) throw new FileNotFoundError(`The input file is gone: ${file}`);
        const opened = await openRecords(file, source.format as SourceFormat, source.options);
        batches = opened.batches;
        cleanup = opened.cleanup;
        bytesRead = opened.bytesRead;
      }
      this.log.log(
        `run ${runId}: loading ${run.input.originalName ?? run.input.path ?? `dead letters of ${run.input.replayOf}`} into ${dataset.schema}.${dataset.table} (${source.strategy.kind})`,
      );
      const result = await this.engine.run({
        runId,
        sourceName: source.name,
        dataset: { name: dataset.name, schema: dataset.schema, table: dataset.table, contract: dataset.contract },
        format: source.format as SourceFormat,
        strategy: source.strategy,
        drift: source.drift as 'evolve' | 'freeze' | 'discard_columns',
        options: source.options,
        maxRejectedRatio: source.maxRejectedRatio,
        watermark: source.watermark,
        batches,
        qualityGate: this.gate,
        evolve: async (cols) =>
          (await this.catalog.addColumns(dataset.name, cols, `drift:evolve:${source.name}`)).contract,
        onProgress: (p) => {
          const secs = (Date.now() - started) / 1000;
          this.log.log(
            `run ${runId}: ${p.rowsRead} rows read (${Math.round(p.rowsRead / secs)} rows/s), ${p.rowsRejected} rejected`,
          );
          void this.ds
            .query(
              `UPDATE ingestion.runs SET rows_read = $2, rows_rejected = $3, bytes_read = $4, heartbeat_at = now() WHERE id = $1`,
              [runId, p.rowsRead, p.rowsRejected, bytesRead()],
            )
            .catch(() => undefined);
        },
        recordPublish: (client, r) => this.recordSuccess(client, runId, source, r, bytesRead()),
      });
      await this.catalog.recordLoad(dataset.name, { runId, at: new Date(), rows: result.loaded });
      this.count(source.name, 'succeeded', result, started);
      this.log.log(
        `run ${runId} succeeded: read ${result.read} = loaded ${result.loaded} + rejected ${result.rejected} + deduplicated ${result.deduplicated} in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
          `(stream ${(result.phases.stream / 1000).toFixed(1)} s, settle ${(result.phases.settle / 1000).toFixed(1)} s, publish ${(result.phases.publish / 1000).toFixed(1)} s)`,
      );
    } catch (e) {
      const code =
        e instanceof DomainError
          ? e.code
          : e instanceof InputUnreadableError
            ? 'INGESTION.UNREADABLE_INPUT'
            : 'INGESTION.LOAD_FAILED';
      const message = e instanceof Error ? e.message : String(e);
      const counts = e instanceof LoadFailedError ? e.counts : undefined;
      const failed = [
        runId,
        code,
        message.slice(0, 4000),
        bytesRead(),
        counts?.read ?? null,
        counts?.rejected ?? null,
        counts?.deduplicated ?? null,
        e instanceof LoadFailedError && e.quality ? JSON.stringify(e.quality) : null,
      ];
      await this.ds.transaction(async (em) => {
        // a run another worker already failed as interrupted keeps that verdict (and its one FAIL event)
        const updated = rowsOf(
          await em.query(
            `UPDATE ingestion.runs SET status = 'failed', finished_at = now(), error_code = $2, error_message = $3, bytes_read = $4,
                    rows_read = COALESCE($5, rows_read), rows_rejected = COALESCE($6, rows_rejected), rows_deduplicated = COALESCE($7, rows_deduplicated),
                    quality = COALESCE($8, quality)
              WHERE id = $1 AND status = 'running' RETURNING id`,
            failed,
          ),
        );
        if (updated.length)
          await this.publishRunEvent(em, runId, source, 'FAIL', {
            error: { code, message: message.slice(0, 2000) },
            stats: counts ? { rowsRead: counts.read, rowsRejected: counts.rejected } : undefined,
          });
      });
      this.metrics.runs.inc({ source: source.name, status: 'failed' });
      this.log.warn(`run ${runId} failed (${code}): ${message}`);
    } finally {
      clearInterval(heartbeat);
      cleanup();
      if (run.input.uploadId) fs.rmSync(run.input.uploadId, { force: true });
    }
  }

  private count(source: string, status: string, r: LoadResult, started: number): void {
    this.metrics.read.inc({ source }, r.read);
    this.metrics.loaded.inc({ source }, r.loaded);
    this.metrics.rejected.inc({ source }, r.rejected);
    this.metrics.deduplicated.inc({ source }, r.deduplicated);
    this.metrics.runs.inc({ source, status });
    this.metrics.duration.observe({ source }, (Date.now() - started) / 1000);
  }

  /** In the publish transaction: the run record and the watermark commit with the data. */
  private async recordSuccess(
    client: PoolClient,
    runId: string,
    source: SourceOrmEntity,
    r: LoadResult,
    bytes: number,
  ): Promise<void> {
    // only a run still ours publishes: one another worker took as interrupted (a heartbeat it could not
    // see in time) stays failed, and this transaction, the target's change included, rolls back
    const done = await client.query(
      `UPDATE ingestion.runs SET status = 'succeeded', finished_at = now(), heartbeat_at = now(), bytes_read = $2, rows_read = $3, rows_loaded = $4,
              rows_rejected = $5, rows_deduplicated = $6, columns_discarded = $7, watermark_before = $8, watermark_after = $9, quality = $10
        WHERE id = $1 AND status = 'running'`,
      [
        runId,
        bytes,
        r.read,
        r.loaded,
        r.rejected,
        r.deduplicated,
        Object.keys(r.columnsDiscarded).length ? JSON.stringify(r.columnsDiscarded) : null,
        source.watermark,
        r.watermarkAfter,
        JSON.stringify(r.quality),
      ],
    );
    if (done.rowCount !== 1) {
      throw new InterruptedError(
        `Run ${runId} was taken as interrupted (no heartbeat for ${this.staleMs / 1000} s) before it could publish; nothing was published, trigger it again`,
      );
    }
    if (source.strategy.kind === 'incremental' && r.watermarkAfter !== source.watermark) {
      await client.query(`UPDATE ingestion.sources SET watermark = $2, updated_at = now() WHERE id = $1`, [
        source.id,
        r.watermarkAfter,
      ]);
    }
    await this.publishRunEvent(client, runId, source, 'COMPLETE', {
      stats: { rowsRead: r.read, rowsWritten: r.loaded, rowsRejected: r.rejected, bytes },
    });
  }

  /**
   * Publishes the run's state change through the outbox, on the connection (and in the transaction)
   * that records it. Input: the source (namespace `weir.sources`, its fields); output: the
   * dataset's table; each column fed by its source field (IDENTITY, or TRANSFORMATION when the
   * mapping trims, re-formats or defaults it).
   */
  private async publishRunEvent(
    tx: Queryable,
    runId: string,
    source: SourceOrmEntity,
    state: RunStateEvent['state'],
    extra: Partial<RunStateEvent> = {},
  ): Promise<void> {
    const dataset = await this.catalog.findDataset(source.dataset);
    const table = dataset ? `${dataset.schema}.${dataset.table}` : undefined;
    const mapping =
      (
        source.options as {
          mapping?: Record<
            string,
            {
              from?: string;
              trim?: boolean;
              format?: string;
              default?: string | null;
              decimalSeparator?: string;
              thousandsSeparator?: string;
            }
          >;
        }
      ).mapping ?? {};
    const cols = dataset?.contract.columns ?? [];
    const input = {
      namespace: 'weir.sources',
      name: source.name,
      fields: cols.map((c) => ({ name: mapping[c.name]?.from ?? c.name })),
    };
    const event: RunStateEvent = {
      slice: 'ingestion',
      job: `ingestion.${source.name}`,
      jobType: 'INGESTION',
      runId,
      state,
      at: new Date().toISOString(),
      inputs: [input],
      outputs: table
        ? [
            {
              name: table,
              fields: cols.map((c) => ({
                name: c.name,
                type: c.type,
                ...(c.description ? { description: c.description } : {}),
              })),
            },
          ]
        : [],
      columnMappings: table
        ? cols.map((c) => {
            const m = mapping[c.name] ?? {};
            const transformed = !!(m.format || m.decimalSeparator || m.thousandsSeparator || m.default !== undefined);
            return {
              output: table,
              column: c.name,
              inputs: [{ dataset: { namespace: input.namespace, name: input.name }, column: m.from ?? c.name }],
              subtype: transformed ? 'TRANSFORMATION' : 'IDENTITY',
            };
          })
        : undefined,
      ...extra,
    };
    await this.outbox.publish(tx, RUN_EVENTS_TOPIC, event, `${runId}:${state}`);
  }

  /** Replay input: the dead letters of a run, as records (unparseable ones stay unparseable). */
  private async *replayBatches(runId: string): AsyncGenerator<ReaderBatch> {
    let after = '0';
    while (true) {
      const rows = await this.warehouse.query<{
        id: string;
        raw_record: Record<string, unknown> | null;
        raw_text: string | null;
        reason: string;
      }>(
        `SELECT id, raw_record, raw_text, reason FROM ingestion.dead_letters WHERE run_id = $1 AND id > $2 ORDER BY id LIMIT 5000`,
        [runId, after],
      );
      if (rows.length === 0) return;
      after = rows[rows.length - 1].id;
      yield {
        records: rows.map((r) =>
          r.raw_record
            ? r.raw_record
            : { unparseable: true as const, text: r.raw_text ?? '', message: `still unparseable (was ${r.reason})` },
        ),
      };
    }
  }
}
