import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { isPulledConnector } from '../domain/connector';
import { SOURCE_CONNECTORS, SourceConnectors, StoredObject } from './ports/source-connector.port';
import { HEARTBEAT_MS, PresenceLock, WEIR_CONFIG, WeirConfig } from '@weir/platform';
import { CATALOG, CatalogPort } from '@weir/catalog';
import type { RunInput } from '../domain/source';
import { assertReadableFile, fileChecksum, resolveInRoot } from '../infrastructure/input-file.util';
import type { RunRecord, RunStatus } from '../domain/run';
import { INGESTION_CONFIG, IngestionConfig } from '../ingestion.config';
import {
  InvalidIdempotencyKeyError,
  NoInputError,
  SeparateWarehouseUnsupportedError,
  SourceNotFoundError,
} from '../ingestion.errors';
import type { StartIngestionRun } from './ports/ingestion-runs.port';
import { Liveness, RUN_LEDGER, RunLedger } from './ports/run-ledger.port';
import { RunWorkerService } from './run-worker.service';
import { assertPartition, findRun, partitionPath, RunView, runView, TriggerRequest } from './run.views';
import { SourcesService } from './sources.service';

/**
 * The ledger key of an object (sha256 of bucket, key and ETag; without the ETag when changed
 * objects are ignored): each object version is loaded once per source.
 */
export function objectLedgerKey(o: StoredObject, ignoreChanges = false): string {
  return createHash('sha256')
    .update(`s3\0${o.bucket}\0${o.key}${ignoreChanges ? '' : `\0${o.etag}`}`)
    .digest('hex');
}

/**
 * trigger-run: a queued run of a source (idempotent by key: the same key answers the same run, unless
 * it failed or its instance died), and the reads of runs.
 */
@Injectable()
export class TriggerRunService {
  private readonly log = new Logger('ingestion');

  constructor(
    @Inject(RUN_LEDGER) private readonly ledger: RunLedger,
    private readonly sources: SourcesService,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    @Inject(INGESTION_CONFIG) private readonly cfg: IngestionConfig,
    @Inject(WEIR_CONFIG) private readonly config: WeirConfig,
    private readonly presence: PresenceLock,
    private readonly worker: RunWorkerService,
    @Inject(SOURCE_CONNECTORS) private readonly connectors: SourceConnectors,
  ) {}

  /** Which instances count as dead when a run they hold is found. */
  private liveness(): Liveness {
    return {
      instanceId: this.presence.instanceId,
      previousInstances: this.presence.previousInstances,
      graceMs: 2 * HEARTBEAT_MS,
    };
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
    } else if (isPulledConnector(source.connector)) {
      // a database or API source's input is its query, past the watermark the run starts from
      input.query = { watermark: source.watermark };
    } else if (source.connector?.kind === 's3') {
      // an object: the version a scheduled load listed, or one named by hand (s3://bucket/key or a key)
      const given = req.path ?? source.location.path;
      if (!req.object && !given)
        throw new NoInputError(
          `Source "${source.name}" reads objects: give "path" (s3://bucket/key) or let its schedule (or pipeline) load the new objects of ${source.location.inbox ?? 'its location'}`,
        );
      const obj = req.object ?? (await this.connectors.statObject(source, partitionPath(given!, req.partition)));
      Object.assign(input, {
        path: `s3://${obj.bucket}/${obj.key}`,
        checksum: obj.etag,
        bytes: obj.size,
        object: obj,
      });
      key ??= `${req.partition !== undefined ? `partition:${req.partition}:` : ''}s3:${objectLedgerKey(obj, source.connector.changed === 'ignore')}`;
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
    if (req.parent) input.parent = { job: req.parent.job, runId: req.parent.runId };
    // the same bytes for another partition are another run
    // a database source: each trigger reads afresh (the same key answers the same run: a retry)
    key ??= input.query
      ? `query:${new Date().toISOString()}:${randomUUID().slice(0, 8)}`
      : req.replayOf
        ? `replay:${req.replayOf}`
        : `${req.partition !== undefined ? `partition:${req.partition}:` : ''}sha256:${input.checksum}`;
    if (key.length > 200) throw new InvalidIdempotencyKeyError('idempotencyKey is at most 200 characters');
    const result = await this.ledger.transaction(async (tx) => {
      if (!(await this.ledger.lockSource(tx, source.id)))
        throw new SourceNotFoundError(`Source ${JSON.stringify(source.name)} was deleted`);
      const existing = await this.ledger.latestByKey(tx, source.id, key!);
      // the key answers with a succeeded or live run only: one whose instance died is failed now and run again
      if (existing && existing.status !== 'failed') {
        if (!(await this.ledger.failIfDead(tx, existing.id, this.liveness()))) return { run: existing, created: false };
        this.log.warn(
          `run ${existing.id} (same input) was left running by a dead instance: failed as interrupted, running the input again`,
        );
      }
      const run = await this.ledger.create(tx, {
        sourceId: source.id,
        trigger: req.trigger,
        idempotencyKey: key!,
        input,
        createdBy: req.createdBy ?? null,
      });
      return { run, created: true };
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
      parent: req.parent,
    });
  }

  async get(id: string): Promise<RunView> {
    return runView(await this.entity(id));
  }

  async entity(id: string): Promise<RunRecord> {
    return findRun(this.ledger, id);
  }

  async list(filter: { sourceId?: string; status?: string; limit?: number }): Promise<RunView[]> {
    const rows = await this.ledger.list({
      // by id, a deleted source's runs too (its history stays)
      sourceId: filter.sourceId ? (await this.sources.entity(filter.sourceId, true)).id : undefined,
      status: filter.status as RunStatus | undefined,
      limit: Math.min(filter.limit ?? 100, 1000),
    });
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
