import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { HEARTBEAT_MS, instanceAliveSql, PresenceLock, rowsOf, WEIR_CONFIG, WeirConfig } from '@weir/platform';
import { CATALOG, CatalogPort } from '@weir/catalog';
import type { RunInput } from '../domain/source';
import { assertReadableFile, fileChecksum, resolveInRoot } from '../infrastructure/input';
import { RunOrmEntity } from '../infrastructure/run.orm-entity';
import { INGESTION_CONFIG, IngestionConfig } from '../ingestion.config';
import { InvalidIdempotencyKeyError, NoInputError, SeparateWarehouseUnsupportedError } from '../ingestion.errors';
import type { StartIngestionRun } from './ports/ingestion-runs.port';
import { RunWorkerService } from './run-worker.service';
import { assertPartition, findRun, partitionPath, RunView, runView, TriggerRequest } from './run.views';
import { SourcesService } from './sources.service';

/**
 * trigger-run: a queued run of a source (idempotent by key: the same key answers the same run, unless
 * it failed or its instance died), and the reads of runs.
 */
@Injectable()
export class TriggerRunService {
  private readonly log = new Logger('ingestion');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly sources: SourcesService,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    @Inject(INGESTION_CONFIG) private readonly cfg: IngestionConfig,
    @Inject(WEIR_CONFIG) private readonly config: WeirConfig,
    private readonly presence: PresenceLock,
    private readonly worker: RunWorkerService,
  ) {}

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
      setImmediate(() => void this.worker.kick());
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
    return findRun(this.ds, id);
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
      await this.worker.kick();
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error(`run ${id} did not finish within ${timeoutMs} ms`);
  }
}
