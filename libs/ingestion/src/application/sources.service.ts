import * as fs from 'node:fs';
import * as path from 'node:path';
import { INGESTION_CONFIG, IngestionConfig } from '../ingestion.config';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { Dependent, describeDependents } from '@weir/platform';
import { scheduleCheck } from '../domain/schedule-check';
import { ConnectorSpec, connectorProblems, isPulledConnector, isQueryConnector, readsFiles } from '../domain/connector';
import { parseS3Url } from '../domain/remote-connector';

import { CATALOG, CatalogPort, ColumnMapping, DatasetContract, DatasetView, primaryKey } from '@weir/catalog';
import {
  CsvOptions,
  DRIFT_POLICIES,
  DriftPolicy,
  FORMATS,
  SourceFormat,
  SourceLocation,
  SourceOptions,
  SourceSchedule,
  STRATEGIES,
  StrategySpec,
} from '../domain/source';
import { SOURCE_REPOSITORY, SourceRecord, SourceRepository } from './ports/source-repository.port';
import { RUN_LEDGER, RunLedger } from './ports/run-ledger.port';
import {
  InvalidScheduleError,
  InvalidSourceError,
  SourceExistsError,
  SourceInUseError,
  SourceNotFoundError,
} from '../ingestion.errors';

export interface SourceInput {
  name: string;
  dataset: string;
  /** The file format (file sources); none for a database source (`connector`). */
  format?: SourceFormat;
  /** Where records come from: files (default), or a database (see domain/connector.ts). */
  connector?: ConnectorSpec | null;
  location?: SourceLocation;
  strategy: StrategySpec;
  drift?: DriftPolicy;
  csv?: CsvOptions;
  mapping?: Record<string, ColumnMapping>;
  nullValues?: string[];
  jsonPath?: string;
  maxRejectedRatio?: number;
  schedule?: SourceSchedule | null;
  /** Take the dataset over from the modeling project that manages it (recorded in the catalog). */
  takeOver?: boolean;
  /** Set by modeling for a project's seed sources (`modeling:<project>`); users' sources have none. */
  managedBy?: string | null;
}

export interface SourceView {
  id: string;
  name: string;
  dataset: string;
  /** The file format; null for a database source. */
  format: string | null;
  /** `{kind: 'file'}`, or the database connector (secrets as their environment-variable references). */
  connector: ConnectorSpec;
  location: SourceLocation;
  strategy: StrategySpec;
  drift: string;
  csv: CsvOptions | null;
  mapping: Record<string, ColumnMapping> | null;
  nullValues: string[] | null;
  jsonPath: string | null;
  maxRejectedRatio: number;
  schedule: SourceSchedule | null;
  /** Why the schedule is disabled (it could not be armed), or null. */
  scheduleError: string | null;
  watermark: string | null;
  /** `modeling:<project>` for a project's seed source; null for a user's source. */
  managedBy: string | null;
  createdAt: string;
  updatedAt: string;
}

export function sourceView(e: SourceRecord): SourceView {
  return {
    id: e.id,
    name: e.name,
    dataset: e.dataset,
    format: e.format,
    connector: e.connector ?? { kind: 'file' },
    location: e.location,
    strategy: e.strategy,
    drift: e.drift,
    csv: e.options.csv ?? null,
    mapping: e.options.mapping ?? null,
    nullValues: e.options.nullValues ?? null,
    jsonPath: e.options.jsonPath ?? null,
    maxRejectedRatio: e.maxRejectedRatio,
    schedule: e.schedule,
    scheduleError: e.scheduleError ?? null,
    watermark: e.watermark,
    managedBy: e.managedBy,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

/** A file source: no connector, or `{kind: 'file'}`. */
const isFile = (c: ConnectorSpec | null | undefined) => !c || c.kind === 'file';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Listeners told when a source's schedule may have changed (the scheduler). */
export type SourceChangeListener = (source: SourceRecord | null, id: string) => void;

/**
 * What another service of the slice does around a source's life (CDC: checks the source database
 * at creation, makes the stream, drops the slot on removal). A hook that throws stops the action.
 */
export interface SourceHooks {
  beforeCreate?(input: SourceInput, contract: DatasetContract): Promise<void>;
  afterCreate?(source: SourceRecord): Promise<void>;
  beforeUpdate?(source: SourceRecord, merged: SourceInput): Promise<void>;
  beforeRemove?(source: SourceRecord, force: boolean): Promise<void>;
}

/** What uses a source in another slice (orchestration: the pipeline steps that ingest it). */
export type SourceDependentsProbe = (source: SourceView) => Promise<Dependent[]>;

/** Sources: a dataset contract + format + location + strategy + drift policy (+ schedule). */
@Injectable()
export class SourcesService implements OnModuleInit {
  private listeners: SourceChangeListener[] = [];
  private hooks: SourceHooks[] = [];
  private probes: SourceDependentsProbe[] = [];

  constructor(
    @Inject(SOURCE_REPOSITORY) private readonly repo: SourceRepository,
    @Inject(RUN_LEDGER) private readonly ledger: RunLedger,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    @Inject(INGESTION_CONFIG) private readonly cfg: IngestionConfig,
  ) {}

  onModuleInit(): void {
    // a dataset that sources load is not deleted from the catalog
    this.catalog.addDependentsProbe((d) => this.datasetDependents(d.name));
    // the ingest root exists from the start: a first file can be copied into it before any source names a folder
    try {
      fs.mkdirSync(path.resolve(this.cfg.ingestRoot), { recursive: true });
    } catch {
      // a root that cannot be made is reported by the first run that reads from it
    }
  }

  /** A local inbox folder exists from the moment a source names it (inside the ingest root). */
  private ensureInbox(location: SourceLocation | undefined): void {
    const inbox = location?.inbox;
    if (!inbox || /^[a-z0-9]+:\/\//i.test(inbox) || inbox.split(/[\\/]/).includes('..')) return;
    const root = path.resolve(this.cfg.ingestRoot);
    const dir = path.resolve(root, inbox);
    if (path.relative(root, dir).startsWith('..')) return;
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch {
      // the first scheduled tick reports a folder it cannot read as the source's scheduleError
    }
  }

  onChange(l: SourceChangeListener): void {
    this.listeners.push(l);
  }

  addHooks(h: SourceHooks): void {
    this.hooks.push(h);
  }

  private changed(e: SourceRecord | null, id: string): void {
    for (const l of this.listeners) l(e, id);
  }

  async create(input: SourceInput): Promise<SourceView> {
    const dataset = await this.catalog.getDataset(input.dataset);
    this.check(input, dataset.contract);
    if (await this.repo.findByName(input.name))
      throw new SourceExistsError(`A source named "${input.name}" already exists`);
    for (const h of this.hooks) await h.beforeCreate?.(input, dataset.contract);
    await this.claim(dataset, input.managedBy ?? null, input.takeOver === true, `api:source ${input.name}`);
    const e = await this.repo.create({
      name: input.name,
      dataset: input.dataset,
      format: readsFiles(input.connector) ? (input.format ?? null) : null,
      connector: isFile(input.connector) ? null : input.connector!,
      location: input.location ?? {},
      strategy: input.strategy,
      drift: input.drift ?? 'freeze',
      options: this.options(input),
      maxRejectedRatio: input.maxRejectedRatio ?? 0.05,
      schedule: input.schedule ?? null,
      watermark: null,
      managedBy: input.managedBy ?? null,
    });
    for (const h of this.hooks) await h.afterCreate?.(e);
    this.ensureInbox(e.location);
    this.changed(e, e.id);
    return sourceView(e);
  }

  private options(input: Partial<SourceInput>): SourceOptions {
    const o: SourceOptions = {};
    if (input.csv) o.csv = input.csv;
    if (input.mapping) o.mapping = input.mapping;
    if (input.nullValues) o.nullValues = input.nullValues;
    if (input.jsonPath) o.jsonPath = input.jsonPath;
    return o;
  }

  /** Checks a source against its dataset's contract; every problem in one error. */
  check(input: Partial<SourceInput>, contract: DatasetContract): void {
    const problems: string[] = [];
    const cols = new Set(contract.columns.map((c) => c.name));
    if (input.connector !== undefined && input.connector !== null)
      problems.push(...connectorProblems(input.connector, [...cols]));
    if (readsFiles(input.connector)) {
      if (!input.format) problems.push('format is required for a file source (or give a database connector)');
      else if (!(FORMATS as readonly string[]).includes(input.format))
        problems.push(`format must be one of ${FORMATS.join(', ')}`);
    } else if (input.format) problems.push('format is for file sources; a connector reads records itself');
    const mode = (input.connector as { mode?: string } | null | undefined)?.mode;
    if (isQueryConnector(input.connector) && input.strategy) {
      if (mode === 'incremental' && input.strategy.kind !== 'incremental')
        problems.push('connector.mode incremental needs strategy incremental (with its cursor)');
      if (mode === 'full' && input.strategy.kind === 'incremental')
        problems.push('strategy incremental needs connector.mode incremental (the source reads past the watermark)');
    }
    if (input.connector?.kind === 'nats_jetstream' && input.strategy && input.strategy.kind !== 'merge')
      problems.push('a nats_jetstream source needs strategy merge (redelivered messages merge on the key)');
    if (input.drift && !(DRIFT_POLICIES as readonly string[]).includes(input.drift))
      problems.push(`drift must be one of ${DRIFT_POLICIES.join(', ')}`);
    const s = input.strategy;
    if (s) {
      if (!(STRATEGIES as readonly string[]).includes(s.kind))
        problems.push(`strategy.kind must be one of ${STRATEGIES.join(', ')}`);
      if (s.kind === 'merge' && primaryKey(contract).length === 0)
        problems.push('strategy merge needs a primary key in the dataset contract');
      if (s.kind === 'incremental' && !s.cursor) problems.push('strategy incremental needs strategy.cursor');
      if (s.cursor && !cols.has(s.cursor)) problems.push(`strategy.cursor "${s.cursor}" is not a contract column`);
      if (s.orderBy && !cols.has(s.orderBy)) problems.push(`strategy.orderBy "${s.orderBy}" is not a contract column`);
      if (
        s.lookback !== undefined &&
        !/^\s*(\d+(\.\d+)?)(\s+(second|minute|hour|day|week|month|year)s?)?\s*$/i.test(s.lookback)
      ) {
        problems.push('strategy.lookback must be a number or an interval like "2 hours"');
      }
    }
    for (const k of Object.keys(input.mapping ?? {}))
      if (!cols.has(k)) problems.push(`mapping names "${k}", which is not a contract column`);
    const csv = input.csv;
    if (csv) {
      for (const [k, v] of [
        ['delimiter', csv.delimiter],
        ['quote', csv.quote],
        ['escape', csv.escape],
      ] as const) {
        if (v !== undefined && (typeof v !== 'string' || v.length !== 1 || v === '\n' || v === '\r'))
          problems.push(`csv.${k} must be one character (not a newline)`);
      }
      if (csv.delimiter && csv.delimiter === (csv.quote ?? '"'))
        problems.push('csv.delimiter and csv.quote must differ');
      if (csv.encoding && !['utf8', 'latin1'].includes(csv.encoding))
        problems.push('csv.encoding must be utf8 or latin1');
      if (csv.header === false && !csv.columns) {
        // positional: fields map to contract columns in order
      }
    }
    if (input.maxRejectedRatio !== undefined && !(input.maxRejectedRatio >= 0 && input.maxRejectedRatio <= 1))
      problems.push('maxRejectedRatio must be between 0 and 1');
    let refused: { kind: 'never' | 'too_frequent'; message: string } | undefined;
    if (input.schedule) {
      // a schedule that cannot be armed is refused on input (nothing stored), never found at start;
      // so is one firing more often than WEIR_MIN_SCHEDULE_INTERVAL_SECONDS allows
      const why = scheduleCheck(
        input.schedule.cron,
        input.schedule.timezone,
        new Date(),
        this.cfg.minScheduleIntervalMs,
      );
      if (why?.kind === 'invalid') problems.push(why.message);
      else if (why) refused = { kind: why.kind, message: why.message };
      if (!input.location?.inbox && !input.location?.path && !isPulledConnector(input.connector))
        problems.push('a scheduled source needs location.inbox (a folder to watch) or location.path');
    }
    problems.push(...this.objectStoreProblems(input));
    for (const p of [input.location?.path, input.location?.inbox]) {
      if (p !== undefined && p.startsWith('s3://')) continue;
      if (p !== undefined && (p.includes('\0') || p.split(/[\\/]/).includes('..')))
        problems.push(`location paths may not contain ".." (${JSON.stringify(p)})`);
    }
    if (problems.length)
      throw new InvalidSourceError(`The source is invalid: ${problems.join('; ')}`, {
        errors: [...problems, ...(refused ? [refused.message] : [])],
      });
    if (refused)
      throw new InvalidScheduleError(refused.message, {
        reason: refused.kind === 'never' ? 'never_fires' : 'too_frequent',
        errors: [refused.message],
      });
  }

  /** An `s3` source names its objects by s3:// URLs (and only it does); `http_json` incremental needs its strategy. */
  private objectStoreProblems(input: Partial<SourceInput>): string[] {
    const problems: string[] = [];
    const s3 = input.connector?.kind === 's3';
    for (const k of ['inbox', 'path'] as const) {
      const v = input.location?.[k];
      if (v === undefined) continue;
      const isUrl = typeof v === 'string' && v.startsWith('s3://');
      if (isUrl && !s3) problems.push(`location.${k}: an s3:// location needs connector {"kind": "s3", …}`);
      else if (s3 && !isUrl) problems.push(`location.${k}: an s3 source's location is s3://bucket/prefix/`);
      else if (isUrl && !parseS3Url(v)) problems.push(`location.${k}: s3://bucket/prefix/ (a valid bucket name)`);
    }
    if (s3 && !input.location?.inbox && !input.location?.path)
      problems.push(
        'location.inbox: an s3 source needs "s3://bucket/prefix/" (with a pattern) or location.path "s3://bucket/key"',
      );
    const c = input.connector;
    if (c?.kind === 'http_json' && input.strategy) {
      if (c.incremental && input.strategy.kind !== 'incremental')
        problems.push('connector.incremental needs strategy incremental (with its cursor)');
    }
    return problems;
  }

  /**
   * A source loads only a dataset of its own owner: users' sources the datasets of ingestion, a
   * project's seed sources that project's seeds. Anything else is refused (409) unless taken over.
   */
  async claim(
    dataset: DatasetView,
    sourceManagedBy: string | null,
    takeOver: boolean,
    changedBy: string,
  ): Promise<void> {
    await this.catalog.claim(
      {
        name: dataset.name,
        schema: dataset.schema,
        table: dataset.table,
        managedBy: sourceManagedBy ?? 'ingestion',
        takeOver,
        code: 'INGESTION.RELATION_OWNED_ELSEWHERE',
      },
      changedBy,
    );
  }

  /** The source a managing slice keeps for a dataset (a project's seed source), if there is one. */
  async findManaged(managedBy: string, dataset: string): Promise<SourceView | undefined> {
    const e = await this.repo.findManaged(managedBy, dataset);
    return e ? sourceView(e) : undefined;
  }

  /**
   * Why the source's schedule cannot be armed (the orchestration slice could not make its one-step
   * pipeline), or null once it is armed again: shown as the source's `scheduleError`.
   */
  async setScheduleError(id: string, why: string | null): Promise<void> {
    await this.repo.setScheduleError(id, why);
  }

  async list(): Promise<SourceView[]> {
    return (await this.repo.list()).map(sourceView);
  }

  /** The source by id or name; a deleted one only by id and `withDeleted` (reads of its runs). */
  async entity(idOrName: string, withDeleted = false): Promise<SourceRecord> {
    const e = UUID.test(idOrName)
      ? await this.repo.findById(idOrName, withDeleted)
      : await this.repo.findByName(idOrName);
    if (!e) throw new SourceNotFoundError(`No source ${JSON.stringify(idOrName)}`);
    return e;
  }

  async get(idOrName: string): Promise<SourceView> {
    return sourceView(await this.entity(idOrName));
  }

  async update(idOrName: string, patch: Partial<SourceInput>): Promise<SourceView> {
    const e = await this.entity(idOrName);
    const merged: SourceInput = {
      name: e.name,
      dataset: patch.dataset ?? e.dataset,
      format: (patch.format ?? e.format ?? undefined) as SourceFormat | undefined,
      connector: patch.connector === undefined ? e.connector : patch.connector,
      location: patch.location ?? e.location,
      strategy: patch.strategy ?? e.strategy,
      drift: (patch.drift ?? e.drift) as DriftPolicy,
      csv: patch.csv ?? e.options.csv,
      mapping: patch.mapping ?? e.options.mapping,
      nullValues: patch.nullValues ?? e.options.nullValues,
      jsonPath: patch.jsonPath ?? e.options.jsonPath,
      maxRejectedRatio: patch.maxRejectedRatio ?? e.maxRejectedRatio,
      schedule: patch.schedule === undefined ? e.schedule : patch.schedule,
    };
    const dataset = await this.catalog.getDataset(merged.dataset);
    this.check(merged, dataset.contract);
    for (const h of this.hooks) await h.beforeUpdate?.(e, merged);
    if (merged.dataset !== e.dataset || patch.takeOver)
      await this.claim(dataset, e.managedBy, patch.takeOver === true, `api:source ${e.name}`);
    if (patch.strategy && patch.strategy.cursor !== e.strategy.cursor) e.watermark = null;
    Object.assign(e, {
      dataset: merged.dataset,
      format: readsFiles(merged.connector) ? (merged.format ?? null) : null,
      connector: isFile(merged.connector) ? null : merged.connector!,
      location: merged.location ?? {},
      strategy: merged.strategy,
      drift: merged.drift,
      options: this.options(merged),
      maxRejectedRatio: merged.maxRejectedRatio,
      schedule: merged.schedule ?? null,
      scheduleError: null,
      updatedAt: new Date(),
    });
    await this.repo.save(e);
    this.ensureInbox(e.location);
    this.changed(e, e.id);
    return sourceView(e);
  }

  /** Adds what another slice knows uses sources (orchestration: pipeline steps that ingest them). */
  addDependentsProbe(probe: SourceDependentsProbe): void {
    this.probes.push(probe);
  }

  /** Sources (not deleted) that load `dataset`, as dependents of it. */
  async datasetDependents(dataset: string): Promise<Dependent[]> {
    return (await this.repo.list())
      .filter((s) => s.dataset === dataset)
      .map((s) => ({
        kind: 'source',
        name: s.name,
        detail: s.managedBy ? `loads it (kept by ${s.managedBy})` : 'loads it',
      }));
  }

  /**
   * Deletes a source, softly: gone from names and lists (the name can be used again), its runs and
   * dead letters stay readable by run id and `?sourceId=<its id>`. Refused with
   * INGESTION.SOURCE_IN_USE while a run of it is queued or running or a pipeline step ingests it.
   * `force`: go on when a CDC source's replication slot cannot be dropped (drop it by hand).
   */
  async remove(idOrName: string, force: boolean): Promise<void> {
    const e = await this.entity(idOrName);
    const dependents: Dependent[] = (await Promise.all(this.probes.map((p) => p(sourceView(e))))).flat();
    const going = await this.goingRuns(e.id);
    const refuse = (runs: { id: string; status: string }[]) => {
      const all = [
        ...runs.map((r) => ({ kind: 'ingestion_run', name: r.id, detail: `${r.status} run` })),
        ...dependents,
      ];
      return new SourceInUseError(
        describeDependents(`Source "${e.name}"`, all, runs.length ? 'wait for or cancel its runs' : undefined),
        { dependents: all },
      );
    };
    if (going.length || dependents.length) throw refuse(going);
    for (const h of this.hooks) await h.beforeRemove?.(e, force);
    // checked again under the source's lock: a run queued meanwhile keeps it
    const { going: raced } = await this.repo.remove(e.id);
    if (raced.length) throw refuse(raced);
    this.changed(null, e.id);
  }

  private async goingRuns(sourceId: string): Promise<{ id: string; status: string }[]> {
    const runs = [];
    for (const status of ['running', 'queued'] as const)
      runs.push(...(await this.ledger.list({ sourceId, status, limit: 1000 })));
    return runs.map((r) => ({ id: r.id, status: r.status }));
  }
}
