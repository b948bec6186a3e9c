import { Inject, Injectable, Logger } from '@nestjs/common';
import { assertDataPlane, Dependent, describeDependents, qualifiedTable, validateIdentifier } from '@weir/platform';
import {
  ChangeKind,
  classifyChange,
  ColumnContract,
  contractProblems,
  DatasetContract,
  DatasetContractInput,
  withDefaults,
} from '../domain/contract';
import { DATASET_REPOSITORY, DatasetRecord, DatasetRepository } from './ports/dataset-repository.port';
import { DATASET_TABLES, DatasetTables } from './ports/dataset-tables.port';
import { CatalogPort, DatasetDependentsProbe, DatasetView, describeOwner, OwnershipClaim } from './catalog.port';
import { CreateDatasetInput, DatasetDetail, toView, UpdateDatasetInput } from './dataset.views';
import {
  BadVersionError,
  BreakingChangeError,
  DatasetExistsError,
  DatasetInUseError,
  DatasetNotFoundError,
  InvalidContractError,
  InvalidNameError,
  TableNotFoundError,
  TableTakenError,
  VersionNotFoundError,
  VersionedBreakingChangeError,
  RelationOwnedElsewhereError,
  PreviewLimitTooLargeError,
} from '../catalog.errors';
import { CATALOG_CONFIG, CatalogConfig } from '../catalog.config';

/** The contract with its defaults filled in (`nullable` omitted: true, false for a key column); throws when invalid. */
function checkContract(contract: DatasetContractInput): DatasetContract {
  const problems = contractProblems(contract);
  if (problems.length)
    throw new InvalidContractError(`The contract is invalid: ${problems.join('; ')}`, { errors: problems });
  return withDefaults(contract);
}

/**
 * Datasets and their contracts. Every contract change is classified and recorded in
 * catalog.schema_changes; additive and widening changes are applied to an existing warehouse table.
 */
@Injectable()
export class CatalogService implements CatalogPort {
  private readonly log = new Logger('catalog');
  private readonly probes: DatasetDependentsProbe[] = [];

  constructor(
    @Inject(DATASET_REPOSITORY) private readonly datasets: DatasetRepository,
    @Inject(DATASET_TABLES) private readonly tables: DatasetTables,
    @Inject(CATALOG_CONFIG) private readonly config: CatalogConfig,
  ) {}

  async create(input: CreateDatasetInput, changedBy: string, managedBy = 'ingestion'): Promise<DatasetView> {
    validateIdentifier(input.name, 'table');
    if (!/^[a-z_][a-z0-9_]*$/.test(input.name)) throw new InvalidNameError('A dataset name is lower_snake_case');
    const schema = validateIdentifier(input.schema ?? 'raw', 'schema');
    const table = validateIdentifier(input.table ?? input.name, 'table');
    assertDataPlane(schema, table, `Dataset "${input.name}"`);
    const contract = checkContract(input.contract);
    return this.datasets.transaction(async (tx) => {
      if (await tx.findByName(input.name)) {
        throw new DatasetExistsError(`A dataset named "${input.name}" already exists`);
      }
      if (await tx.findByTable(schema, table)) {
        throw new TableTakenError(`Another dataset already uses the table ${schema}.${table}`);
      }
      const saved = await tx.insert({
        name: input.name,
        schema,
        table,
        description: input.description ?? null,
        owner: input.owner ?? null,
        tags: input.tags ?? [],
        contract,
        version: 1,
        managedBy,
      });
      await tx.recordChange({
        datasetId: saved.id,
        version: 1,
        kind: 'initial',
        details: classifyChange(undefined, contract).details,
        contract,
        changedBy,
      });
      return toView(saved);
    });
  }

  async list(filter: { tag?: string; owner?: string } = {}): Promise<DatasetView[]> {
    return (await this.datasets.list(filter)).map(toView);
  }

  async findDataset(name: string): Promise<DatasetView | undefined> {
    const e = await this.datasets.findByName(name);
    return e ? toView(e) : undefined;
  }

  async getDataset(name: string): Promise<DatasetView> {
    const v = await this.findDataset(name);
    if (!v) throw new DatasetNotFoundError(`No dataset named "${name}"`);
    return v;
  }

  async detail(name: string): Promise<DatasetDetail> {
    const v = await this.getDataset(name);
    const changes = await this.datasets.changes(v.id);
    const count = await this.tables.rowCount(v.schema, v.table);
    return {
      ...v,
      ...count,
      versions: changes.map((c) => ({
        version: c.version,
        kind: c.kind,
        details: c.details,
        changedBy: c.changedBy,
        at: c.createdAt.toISOString(),
        contract: c.contract,
      })),
    };
  }

  /**
   * Changes a dataset. `forRequest`: asked for over HTTP, so the table change (an ALTER TABLE) is
   * bounded by WEIR_REQUEST_STATEMENT_TIMEOUT_MS; past it nothing changes, neither table nor contract.
   */
  async update(
    name: string,
    input: UpdateDatasetInput,
    changedBy: string,
    opts: { forRequest?: boolean } = {},
  ): Promise<{ dataset: DatasetView; change?: { kind: ChangeKind; details: string[] } }> {
    const contract = input.contract ? checkContract(input.contract) : undefined;
    return this.datasets.transaction(async (tx) => {
      const e = await tx.findByName(name, true);
      if (!e) throw new DatasetNotFoundError(`No dataset named "${name}"`);
      let change: { kind: ChangeKind; details: string[] } | undefined;
      if (contract) {
        change = classifyChange(e.contract, contract);
        checkBreaking(name, e, change, input);
        if (change.kind !== 'none' || change.details.length > 0) {
          if (!input.skipTableChanges && (change.kind === 'additive' || change.kind === 'widening'))
            await this.tables.applyContractChange(e.schema, e.table, e.contract, contract, opts);
          e.version += 1;
          await tx.recordChange({
            datasetId: e.id,
            version: e.version,
            kind: change.kind,
            details: change.details,
            contract,
            changedBy,
          });
          e.contract = contract;
        }
      }
      if (input.description !== undefined) e.description = input.description;
      if (input.owner !== undefined) e.owner = input.owner;
      if (input.tags !== undefined) e.tags = input.tags;
      e.updatedAt = new Date();
      await tx.update(e.id, e);
      return { dataset: toView(e), change };
    });
  }

  async addColumns(name: string, columns: ColumnContract[], changedBy: string): Promise<DatasetView> {
    const current = await this.getDataset(name);
    const known = new Set(current.contract.columns.map((c) => c.name));
    const fresh = columns.filter((c) => !known.has(c.name)).map((c) => ({ ...c, nullable: true, primaryKey: false }));
    if (fresh.length === 0) return current;
    const { dataset } = await this.update(
      name,
      { contract: { columns: [...current.contract.columns, ...fresh] } },
      changedBy,
    );
    return dataset;
  }

  async ensureDataset(
    input: {
      name: string;
      schema: string;
      table: string;
      contract: DatasetContract;
      description?: string | null;
      tags?: string[];
      managedBy: string;
    },
    changedBy: string,
  ): Promise<DatasetView> {
    await this.claim(
      {
        name: input.name,
        schema: input.schema,
        table: input.table,
        managedBy: input.managedBy,
        code: 'CATALOG.RELATION_OWNED_ELSEWHERE',
      },
      changedBy,
    );
    const current = await this.findDataset(input.name);
    if (!current) return this.create({ ...input }, changedBy, input.managedBy);
    if (current.schema !== input.schema || current.table !== input.table) {
      throw new DatasetExistsError(
        `A dataset named "${input.name}" already describes ${current.schema}.${current.table}, not ${input.schema}.${input.table}`,
      );
    }
    const { dataset } = await this.update(
      input.name,
      {
        contract: input.contract,
        allowBreaking: true,
        skipTableChanges: true,
        versionChecked: true,
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.tags ? { tags: input.tags } : {}),
      },
      changedBy,
    );
    return dataset;
  }

  async claim(req: OwnershipClaim, changedBy: string): Promise<void> {
    assertDataPlane(req.schema, req.table, `${describeOwner(req.managedBy)} (${req.name})`);
    await this.datasets.transaction(async (tx) => {
      // one claim at a time per relation and per name (two builds racing for one relation)
      await tx.lockClaim(`${req.schema}.${req.table}`, req.name);
      const byTable = await tx.findByTable(req.schema, req.table, true);
      const byName = await tx.findByName(req.name, true);
      const holder = byTable ?? byName;
      if (!holder || holder.managedBy === req.managedBy) return; // new, or already the claimant's (other conflicts: create/ensure)
      checkTakeOver(req, holder, byTable, byName);
      const from = holder.managedBy;
      if (holder.name !== req.name) holder.name = req.name;
      holder.managedBy = req.managedBy;
      holder.version += 1;
      holder.updatedAt = new Date();
      await tx.update(holder.id, holder);
      await tx.recordChange({
        datasetId: holder.id,
        version: holder.version,
        kind: 'ownership',
        details: [`${req.schema}.${req.table} taken over by ${req.managedBy} from ${from}`],
        contract: holder.contract,
        changedBy,
      });
    });
  }

  addDependentsProbe(probe: DatasetDependentsProbe): void {
    this.probes.push(probe);
  }

  /**
   * Deletes a dataset from the catalog (its contract versions and export records with it), refused
   * with CATALOG.DATASET_IN_USE while anything uses it (what the other slices' probes name). The
   * warehouse table stays unless `dropTable`: then it is dropped, with the kept versions of a
   * versioned dataset (`<table>_v<N>`), refused while views or foreign keys of other relations
   * need them (never DROP … CASCADE). `force` deletes although jobs of other systems read it (the
   * overridable dependents: what their lineage says); never past Weir's own dependents. The run
   * history of the other slices (loads, checks, builds, lineage) names datasets and stays.
   */
  async remove(name: string, opts: { dropTable: boolean; force?: boolean }): Promise<DatasetDeleted> {
    const v = await this.getDataset(name);
    const dependents: Dependent[] = (await Promise.all(this.probes.map((p) => p(v))))
      .flat()
      .filter((d) => !(opts.force && d.overridable));
    const relations: { table: string; kind: string }[] = [];
    if (opts.dropTable) {
      assertDataPlane(v.schema, v.table, `Dataset "${name}"`);
      const versions = v.release
        ? Array.from({ length: v.release - 1 }, (_, i) => `${v.table}_v${i + 1}`.slice(0, 63))
        : [];
      const tables = [v.table, ...versions];
      for (const table of tables) {
        const kind = await this.tables.relationKind(v.schema, table);
        if (!kind) continue;
        relations.push({ table, kind });
        for (const r of await this.tables.dependentRelations(v.schema, table)) {
          if (r.schema === v.schema && tables.includes(r.name)) continue; // dropped with it
          const rel = `${v.schema}.${table}`;
          dependents.push(
            r.kind === 'view'
              ? { kind: 'view', name: `${r.schema}.${r.name}`, detail: `a warehouse view reading ${rel}` }
              : { kind: 'table', name: `${r.schema}.${r.name}`, detail: `has a foreign key to ${rel}` },
          );
        }
      }
    }
    if (dependents.length)
      throw new DatasetInUseError(
        describeDependents(
          `Dataset "${name}"`,
          dependents,
          dependents.every((d) => d.overridable)
            ? 'delete with ?force=true if they no longer read it'
            : 'delete or change them first',
        ),
        { dependents },
      );
    // the relations first: when a drop fails, the dataset is still in the catalog and can be deleted again
    const dropped: string[] = [];
    for (const r of relations) {
      await this.tables.drop(v.schema, r.table, r.kind);
      dropped.push(`${v.schema}.${r.table}`);
    }
    await this.datasets.transaction(async (tx) => {
      const e = await tx.findByName(name, true);
      if (e) await tx.remove(e.id);
    });
    this.log.log(`dataset ${name}: deleted (${dropped.length ? `dropped ${dropped.join(', ')}` : 'table kept'})`);
    return {
      name,
      relation: `${v.schema}.${v.table}`,
      tableDropped: dropped.length > 0,
      dropped,
    };
  }

  /** Drops an old, kept-readable version of a versioned dataset (`<table>_v<N>`). */
  async retireVersion(name: string, version: number): Promise<{ dropped: string }> {
    const v = await this.getDataset(name);
    if (v.release === null || !Number.isInteger(version) || version >= v.release) {
      throw new BadVersionError(`Only versions below the published one (${v.release ?? 'none'}) can be retired`);
    }
    const table = `${v.table}_v${version}`.slice(0, 63);
    const rel = qualifiedTable(v.schema, table);
    const kind = await this.tables.relationKind(v.schema, table);
    if (!kind) throw new VersionNotFoundError(`${rel} does not exist (already retired?)`);
    await this.tables.drop(v.schema, table, kind);
    return { dropped: rel };
  }

  async setTable(name: string, table: string): Promise<void> {
    await this.datasets.setTable(name, validateIdentifier(table, 'table'));
  }

  async setRelease(name: string, release: number): Promise<void> {
    await this.datasets.setRelease(name, release);
  }

  async recordLoad(name: string, load: { runId: string; at: Date; rows: number | null; job?: string }): Promise<void> {
    await this.datasets.recordLoad(name, load);
  }

  /**
   * The first `limit` rows of the dataset's table (default 20, or WEIR_PREVIEW_MAX_ROWS when that is
   * lower); PII columns masked unless `unmasked`. A limit above WEIR_PREVIEW_MAX_ROWS is refused
   * (`CATALOG.PREVIEW_LIMIT_TOO_LARGE`), not cut: a client never takes a cut list for the whole.
   */
  async preview(
    name: string,
    asked: number | undefined,
    unmasked: boolean,
  ): Promise<{ columns: string[]; rows: Record<string, unknown>[]; masked: string[] }> {
    const max = this.config.previewMaxRows;
    const limit = asked ?? Math.min(20, max);
    if (limit > max)
      throw new PreviewLimitTooLargeError(
        `limit ${limit} is above the most rows a preview may return, ${max} (WEIR_PREVIEW_MAX_ROWS): ask for ${max} or fewer, or export the dataset`,
        { limit, maxRows: max, setting: 'WEIR_PREVIEW_MAX_ROWS' },
      );
    const v = await this.getDataset(name);
    assertDataPlane(v.schema, v.table, `Dataset "${name}"`); // one recorded before the rule existed
    if (!(await this.tables.exists(v.schema, v.table)))
      throw new TableNotFoundError(`${v.schema}.${v.table} does not exist yet (load or build the dataset first)`);
    // read as the reader role, read-only, bounded by WEIR_REQUEST_STATEMENT_TIMEOUT_MS
    const rows = await this.tables.preview(v.schema, v.table, limit);
    const pii = new Set(v.contract.columns.filter((c) => c.pii).map((c) => c.name));
    const masked = unmasked ? [] : [...pii];
    const columns = rows.length ? Object.keys(rows[0]) : v.contract.columns.map((c) => c.name);
    return {
      columns,
      masked,
      rows: masked.length
        ? rows.map((r) =>
            Object.fromEntries(Object.entries(r).map(([k, val]) => [k, pii.has(k) && val !== null ? '***' : val])),
          )
        : rows,
    };
  }

  tableExists(schema: string, table: string): Promise<boolean> {
    return this.tables.exists(schema, table);
  }
}

/** What deleting a dataset did. */
export interface DatasetDeleted {
  name: string;
  /** `schema.table` of the dataset. */
  relation: string;
  /** Whether its relation was dropped (`dropTable`) or kept. */
  tableDropped: boolean;
  /** The relations dropped (the table, and kept versions of a versioned dataset). */
  dropped: string[];
}

/** A breaking change is refused on a versioned dataset (unless its model checked it), and without allowBreaking. */
function checkBreaking(
  name: string,
  e: DatasetRecord,
  change: { kind: ChangeKind; details: string[] },
  input: UpdateDatasetInput,
): void {
  if (change.kind === 'breaking' && e.release !== null && !input.versionChecked) {
    throw new VersionedBreakingChangeError(
      `"${name}" is a versioned dataset (v${e.release}): a breaking change (${change.details.join('; ')}) must be published as a new version by its model (config version: ${e.release + 1}); allowBreaking does not apply`,
      { details: change.details },
    );
  }
  if (change.kind === 'breaking' && !input.allowBreaking) {
    throw new BreakingChangeError(
      `This contract change is breaking (${change.details.join('; ')}); send "allowBreaking": true to accept it`,
      { details: change.details },
    );
  }
}

/** A claim on a relation someone else holds: refused unless it can and may be taken over. */
function checkTakeOver(
  req: OwnershipClaim,
  holder: DatasetRecord,
  byTable: DatasetRecord | undefined,
  byName: DatasetRecord | undefined,
): void {
  if (byName && byTable && byName.id !== byTable.id) {
    throw new RelationOwnedElsewhereError(
      req.code,
      `${req.schema}.${req.table} is dataset "${byTable.name}" (managed by ${byTable.managedBy}) and the name "${req.name}" is taken by ${byName.schema}.${byName.table}; nothing can be taken over`,
      {
        owner: byTable.managedBy,
        dataset: byTable.name,
      },
    );
  }
  if (!byTable && byName) {
    // the name belongs to another relation: a different dataset, not something to take over
    throw new RelationOwnedElsewhereError(
      req.code,
      `The dataset name "${req.name}" is taken by ${byName.schema}.${byName.table}, managed by ${byName.managedBy}`,
      { owner: byName.managedBy, dataset: byName.name },
    );
  }
  if (!req.takeOver) {
    throw new RelationOwnedElsewhereError(
      req.code,
      `${req.schema}.${req.table} belongs to ${describeOwner(holder.managedBy)} (dataset "${holder.name}"), not to ${describeOwner(req.managedBy)}; nothing was written. Send takeOver: true (CLI --take-over) to take it over`,
      { owner: holder.managedBy, dataset: holder.name, relation: `${req.schema}.${req.table}` },
    );
  }
}
