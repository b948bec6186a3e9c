import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import {
  assertDataPlane,
  prepareReader,
  quoteIdent,
  readAsReader,
  Warehouse,
  qualifiedTable,
  validateIdentifier,
} from '@weir/platform';
import {
  ChangeKind,
  classifyChange,
  ColumnContract,
  contractProblems,
  DatasetContract,
  sqlType,
} from '../domain/contract';
import { columnSql } from '../domain/ddl';
import { DatasetOrmEntity } from '../infrastructure/dataset.orm-entity';
import { SchemaChangeOrmEntity } from '../infrastructure/schema-change.orm-entity';
import { CatalogPort, DatasetView, describeOwner, OwnershipClaim } from './catalog.port';
import {
  BadVersionError,
  BreakingChangeError,
  DatasetExistsError,
  DatasetNotFoundError,
  InvalidContractError,
  InvalidNameError,
  TableNotFoundError,
  TableTakenError,
  VersionNotFoundError,
  VersionedBreakingChangeError,
  RelationOwnedElsewhereError,
} from '../catalog.errors';

export interface CreateDatasetInput {
  name: string;
  schema?: string;
  table?: string;
  description?: string | null;
  owner?: string | null;
  tags?: string[];
  contract: DatasetContract;
}

export interface UpdateDatasetInput {
  description?: string | null;
  owner?: string | null;
  tags?: string[];
  contract?: DatasetContract;
  /** Accept a breaking contract change (the warehouse table is then rebuilt by the next `replace` load). */
  allowBreaking?: boolean;
  /** Record the change only; the caller rebuilds the relation itself (model builds). */
  skipTableChanges?: boolean;
  /** The dataset's owner (its model build) has checked the version rules itself and publishes a new version. */
  versionChecked?: boolean;
}

export interface SchemaVersionView {
  version: number;
  kind: string;
  details: string[];
  changedBy: string;
  at: string;
  contract: DatasetContract;
}

export interface DatasetDetail extends DatasetView {
  /** Rows in the warehouse table (null when the table does not exist yet). */
  rowCount: number | null;
  rowCountExact: boolean;
  tableExists: boolean;
  versions: SchemaVersionView[];
}

function toView(e: DatasetOrmEntity): DatasetView {
  return {
    id: e.id,
    name: e.name,
    schema: e.warehouseSchema,
    table: e.warehouseTable,
    description: e.description,
    owner: e.owner,
    tags: e.tags,
    contract: e.contract,
    version: e.version,
    managedBy: e.managedBy,
    release: e.release ?? null,
    lastLoad: e.lastLoadAt
      ? {
          at: e.lastLoadAt.toISOString(),
          runId: e.lastLoadRunId,
          rows: e.lastLoadRows === null ? null : Number(e.lastLoadRows),
        }
      : null,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

function checkContract(contract: DatasetContract): void {
  const problems = contractProblems(contract);
  if (problems.length)
    throw new InvalidContractError(`The contract is invalid: ${problems.join('; ')}`, { errors: problems });
}

/**
 * Datasets and their contracts. Every contract change is classified and recorded in
 * catalog.schema_changes; additive and widening changes are applied to an existing warehouse table.
 */
@Injectable()
export class CatalogService implements CatalogPort {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly warehouse: Warehouse,
  ) {}

  async create(input: CreateDatasetInput, changedBy: string, managedBy = 'ingestion'): Promise<DatasetView> {
    validateIdentifier(input.name, 'table');
    if (!/^[a-z_][a-z0-9_]*$/.test(input.name)) throw new InvalidNameError('A dataset name is lower_snake_case');
    const schema = validateIdentifier(input.schema ?? 'raw', 'schema');
    const table = validateIdentifier(input.table ?? input.name, 'table');
    assertDataPlane(schema, table, `Dataset "${input.name}"`);
    checkContract(input.contract);
    return this.ds.transaction(async (em) => {
      if (await em.findOne(DatasetOrmEntity, { where: { name: input.name } })) {
        throw new DatasetExistsError(`A dataset named "${input.name}" already exists`);
      }
      if (await em.findOne(DatasetOrmEntity, { where: { warehouseSchema: schema, warehouseTable: table } })) {
        throw new TableTakenError(`Another dataset already uses the table ${schema}.${table}`);
      }
      const saved = await em.save(
        em.create(DatasetOrmEntity, {
          name: input.name,
          warehouseSchema: schema,
          warehouseTable: table,
          description: input.description ?? null,
          owner: input.owner ?? null,
          tags: input.tags ?? [],
          contract: input.contract,
          version: 1,
          managedBy,
        }),
      );
      await this.recordChange(
        em,
        saved.id,
        1,
        'initial',
        classifyChange(undefined, input.contract).details,
        input.contract,
        changedBy,
      );
      return toView((await em.findOneByOrFail(DatasetOrmEntity, { id: saved.id })) as DatasetOrmEntity);
    });
  }

  async list(filter: { tag?: string; owner?: string } = {}): Promise<DatasetView[]> {
    const qb = this.ds.getRepository(DatasetOrmEntity).createQueryBuilder('d').orderBy('d.name', 'ASC');
    if (filter.tag) qb.andWhere('d.tags @> :tag::jsonb', { tag: JSON.stringify([filter.tag]) });
    if (filter.owner) qb.andWhere('d.owner = :owner', { owner: filter.owner });
    return (await qb.getMany()).map(toView);
  }

  async findDataset(name: string): Promise<DatasetView | undefined> {
    const e = await this.ds.getRepository(DatasetOrmEntity).findOne({ where: { name } });
    return e ? toView(e) : undefined;
  }

  async getDataset(name: string): Promise<DatasetView> {
    const v = await this.findDataset(name);
    if (!v) throw new DatasetNotFoundError(`No dataset named "${name}"`);
    return v;
  }

  async detail(name: string): Promise<DatasetDetail> {
    const v = await this.getDataset(name);
    const changes = await this.ds
      .getRepository(SchemaChangeOrmEntity)
      .find({ where: { datasetId: v.id }, order: { version: 'DESC' } });
    const count = await this.rowCount(v.schema, v.table);
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

  async update(
    name: string,
    input: UpdateDatasetInput,
    changedBy: string,
  ): Promise<{ dataset: DatasetView; change?: { kind: ChangeKind; details: string[] } }> {
    if (input.contract) checkContract(input.contract);
    return this.ds.transaction(async (em) => {
      const e = await em.findOne(DatasetOrmEntity, { where: { name }, lock: { mode: 'pessimistic_write' } });
      if (!e) throw new DatasetNotFoundError(`No dataset named "${name}"`);
      let change: { kind: ChangeKind; details: string[] } | undefined;
      if (input.contract) {
        change = classifyChange(e.contract, input.contract);
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
        if (change.kind !== 'none' || change.details.length > 0) {
          if (!input.skipTableChanges && (change.kind === 'additive' || change.kind === 'widening'))
            await this.applyToTable(e, input.contract);
          e.version += 1;
          await this.recordChange(em, e.id, e.version, change.kind, change.details, input.contract, changedBy);
          e.contract = input.contract;
        }
      }
      if (input.description !== undefined) e.description = input.description;
      if (input.owner !== undefined) e.owner = input.owner;
      if (input.tags !== undefined) e.tags = input.tags;
      e.updatedAt = new Date();
      await em.save(e);
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
    await this.ds.transaction(async (em) => {
      // one claim at a time per relation and per name (two builds racing for one relation)
      await em.query(
        `SELECT pg_advisory_xact_lock(hashtextextended($1, 0)), pg_advisory_xact_lock(hashtextextended($2, 0))`,
        [`weir.claim:${req.schema}.${req.table}`, `weir.claim.name:${req.name}`],
      );
      const byTable = await em.findOne(DatasetOrmEntity, {
        where: { warehouseSchema: req.schema, warehouseTable: req.table },
        lock: { mode: 'pessimistic_write' },
      });
      const byName = await em.findOne(DatasetOrmEntity, {
        where: { name: req.name },
        lock: { mode: 'pessimistic_write' },
      });
      const holder = byTable ?? byName;
      if (!holder || holder.managedBy === req.managedBy) return; // new, or already the claimant's (other conflicts: create/ensure)
      if (byName && byTable && byName.id !== byTable.id) {
        throw new RelationOwnedElsewhereError(
          req.code,
          `${req.schema}.${req.table} is dataset "${byTable.name}" (managed by ${byTable.managedBy}) and the name "${req.name}" is taken by ${byName.warehouseSchema}.${byName.warehouseTable}; nothing can be taken over`,
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
          `The dataset name "${req.name}" is taken by ${byName.warehouseSchema}.${byName.warehouseTable}, managed by ${byName.managedBy}`,
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
      const from = holder.managedBy;
      if (holder.name !== req.name) holder.name = req.name;
      holder.managedBy = req.managedBy;
      holder.version += 1;
      holder.updatedAt = new Date();
      await em.save(holder);
      await this.recordChange(
        em,
        holder.id,
        holder.version,
        'ownership',
        [`${req.schema}.${req.table} taken over by ${req.managedBy} from ${from}`],
        holder.contract,
        changedBy,
      );
    });
  }

  /** Drops an old, kept-readable version of a versioned dataset (`<table>_v<N>`). */
  async retireVersion(name: string, version: number): Promise<{ dropped: string }> {
    const v = await this.getDataset(name);
    if (v.release === null || !Number.isInteger(version) || version >= v.release) {
      throw new BadVersionError(`Only versions below the published one (${v.release ?? 'none'}) can be retired`);
    }
    const rel = qualifiedTable(v.schema, `${v.table}_v${version}`.slice(0, 63));
    const kind = (
      await this.warehouse.query<{ relkind: string }>(
        `SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass($1)`,
        [rel],
      )
    )[0]?.relkind;
    if (!kind) throw new VersionNotFoundError(`${rel} does not exist (already retired?)`);
    await this.warehouse.query(`DROP ${kind === 'v' ? 'VIEW' : 'TABLE'} ${rel}`);
    return { dropped: rel };
  }

  async setTable(name: string, table: string): Promise<void> {
    await this.ds
      .getRepository(DatasetOrmEntity)
      .update({ name }, { warehouseTable: validateIdentifier(table, 'table'), updatedAt: new Date() });
  }

  async setRelease(name: string, release: number): Promise<void> {
    await this.ds.getRepository(DatasetOrmEntity).update({ name }, { release, updatedAt: new Date() });
  }

  async recordLoad(name: string, load: { runId: string; at: Date; rows: number }): Promise<void> {
    await this.ds
      .getRepository(DatasetOrmEntity)
      .update({ name }, { lastLoadAt: load.at, lastLoadRunId: load.runId, lastLoadRows: String(load.rows) });
  }

  private async recordChange(
    em: EntityManager,
    datasetId: string,
    version: number,
    kind: string,
    details: string[],
    contract: DatasetContract,
    changedBy: string,
  ): Promise<void> {
    await em.save(em.create(SchemaChangeOrmEntity, { datasetId, version, kind, details, contract, changedBy }));
  }

  /** Applies additive/widening changes to the warehouse table, if it exists. */
  private async applyToTable(e: DatasetOrmEntity, next: DatasetContract): Promise<void> {
    const exists = await this.tableExists(e.warehouseSchema, e.warehouseTable);
    if (!exists) return;
    const target = qualifiedTable(e.warehouseSchema, e.warehouseTable);
    const old = new Map(e.contract.columns.map((c) => [c.name, c]));
    const stmts: string[] = [];
    for (const c of next.columns) {
      const o = old.get(c.name);
      if (!o) stmts.push(`ALTER TABLE ${target} ADD COLUMN ${columnSql({ ...c, nullable: true })}`);
      else {
        if (sqlType(o) !== sqlType(c)) stmts.push(`ALTER TABLE ${target} ALTER COLUMN "${c.name}" TYPE ${sqlType(c)}`);
        if (!o.nullable && c.nullable) stmts.push(`ALTER TABLE ${target} ALTER COLUMN "${c.name}" DROP NOT NULL`);
      }
    }
    await this.warehouse.transaction(async (client) => {
      for (const s of stmts) await client.query(s);
    });
  }

  /** The first rows of the dataset's table; PII columns masked unless `unmasked`. */
  async preview(
    name: string,
    limit: number,
    unmasked: boolean,
  ): Promise<{ columns: string[]; rows: Record<string, unknown>[]; masked: string[] }> {
    const v = await this.getDataset(name);
    assertDataPlane(v.schema, v.table, `Dataset "${name}"`); // one recorded before the rule existed
    if (!(await this.tableExists(v.schema, v.table)))
      throw new TableNotFoundError(`${v.schema}.${v.table} does not exist yet (load or build the dataset first)`);
    // read as the reader role, read-only, bounded in time
    const client = await this.warehouse.pool.connect();
    let rows: Record<string, unknown>[];
    try {
      await prepareReader(client, [{ schema: v.schema, table: v.table }]);
      // a view runs its SQL when read: through the reader's function, where no role change is allowed
      const types = (
        await client.query(
          `SELECT column_name AS c, data_type AS t FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
          [v.schema, v.table],
        )
      ).rows;
      // bigint and numeric as text, as before (JSON numbers would round them)
      const list = types.length
        ? types
            .map((x) =>
              ['bigint', 'numeric'].includes(String(x['t']))
                ? `${quoteIdent(String(x['c']))}::text AS ${quoteIdent(String(x['c']))}`
                : quoteIdent(String(x['c'])),
            )
            .join(', ')
        : '*';
      await client.query('BEGIN READ ONLY');
      try {
        await client.query(`SET LOCAL statement_timeout = 30000`);
        rows = await readAsReader(client, `SELECT ${list} FROM ${qualifiedTable(v.schema, v.table)} LIMIT $1`, [
          Math.max(1, Math.min(limit, 1000)),
        ]);
      } finally {
        await client.query('ROLLBACK').catch(() => undefined);
      }
    } finally {
      client.release();
    }
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

  async tableExists(schema: string, table: string): Promise<boolean> {
    const r = await this.warehouse.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [
      qualifiedTable(schema, table),
    ]);
    return r[0].ok;
  }

  private async rowCount(
    schema: string,
    table: string,
  ): Promise<{ rowCount: number | null; rowCountExact: boolean; tableExists: boolean }> {
    if (!(await this.tableExists(schema, table))) return { rowCount: null, rowCountExact: true, tableExists: false };
    try {
      // a view's SQL runs when counted: as the reader, never as the service
      await prepareReader(this.warehouse.pool, [{ schema, table }]);
      const n = await this.warehouse.transaction(async (c) => {
        await c.query(`SET TRANSACTION READ ONLY`);
        await c.query(`SET LOCAL statement_timeout = 2000`);
        return Number((await readAsReader(c, `SELECT count(*) AS n FROM ${qualifiedTable(schema, table)}`))[0]['n']);
      });
      return { rowCount: n, rowCountExact: true, tableExists: true };
    } catch {
      const r = await this.warehouse.query<{ n: string }>(
        `SELECT reltuples::bigint AS n FROM pg_class WHERE oid = $1::regclass`,
        [qualifiedTable(schema, table)],
      );
      return { rowCount: Math.max(0, Number(r[0]?.n ?? 0)), rowCountExact: false, tableExists: true };
    }
  }
}
