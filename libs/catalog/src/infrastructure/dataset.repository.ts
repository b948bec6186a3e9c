import { DataSource, EntityManager } from 'typeorm';
import { Outbox } from '@weir/platform';
import { DATASET_UPDATED_TOPIC } from '../application/dataset.events';
import type {
  DatasetChanges,
  DatasetRecord,
  DatasetRepository,
  DatasetTransaction,
  NewDataset,
  NewSchemaChange,
  SchemaChangeRecord,
} from '../application/ports/dataset-repository.port';
import { DatasetOrmEntity } from './dataset.orm-entity';
import { claimLockQuery, recordLoadSql } from './dataset.sql';
import { SchemaChangeOrmEntity } from './schema-change.orm-entity';

const record = (e: DatasetOrmEntity): DatasetRecord => ({
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
  lastLoadAt: e.lastLoadAt,
  lastLoadRunId: e.lastLoadRunId,
  lastLoadRows: e.lastLoadRows === null ? null : Number(e.lastLoadRows),
  createdAt: e.createdAt,
  updatedAt: e.updatedAt,
});

const LOCKED = { lock: { mode: 'pessimistic_write' as const } };

/** One transaction's reads and writes, on its entity manager. */
class TypeOrmDatasetTransaction implements DatasetTransaction {
  constructor(private readonly em: EntityManager) {}

  async findByName(name: string, forUpdate = false): Promise<DatasetRecord | undefined> {
    const e = await this.em.findOne(DatasetOrmEntity, { where: { name }, ...(forUpdate ? LOCKED : {}) });
    return e ? record(e) : undefined;
  }

  async findByTable(schema: string, table: string, forUpdate = false): Promise<DatasetRecord | undefined> {
    const e = await this.em.findOne(DatasetOrmEntity, {
      where: { warehouseSchema: schema, warehouseTable: table },
      ...(forUpdate ? LOCKED : {}),
    });
    return e ? record(e) : undefined;
  }

  async lockClaim(relation: string, name: string): Promise<void> {
    const q = claimLockQuery(relation, name);
    await this.em.query(q.text, q.values);
  }

  async insert(d: NewDataset): Promise<DatasetRecord> {
    const saved = await this.em.save(
      this.em.create(DatasetOrmEntity, {
        name: d.name,
        warehouseSchema: d.schema,
        warehouseTable: d.table,
        description: d.description,
        owner: d.owner,
        tags: d.tags,
        contract: d.contract,
        version: d.version,
        managedBy: d.managedBy,
      }),
    );
    return record(await this.em.findOneByOrFail(DatasetOrmEntity, { id: saved.id }));
  }

  async update(id: string, c: DatasetChanges): Promise<void> {
    await this.em.update(
      DatasetOrmEntity,
      { id },
      {
        name: c.name,
        description: c.description,
        owner: c.owner,
        tags: c.tags,
        contract: c.contract,
        version: c.version,
        managedBy: c.managedBy,
        updatedAt: c.updatedAt,
      },
    );
  }

  async recordChange(c: NewSchemaChange): Promise<void> {
    await this.em.save(
      this.em.create(SchemaChangeOrmEntity, {
        datasetId: c.datasetId,
        version: c.version,
        kind: c.kind,
        details: c.details,
        contract: c.contract,
        changedBy: c.changedBy,
      }),
    );
  }

  async remove(id: string): Promise<void> {
    // schema_changes and exports go with it (ON DELETE CASCADE)
    await this.em.delete(DatasetOrmEntity, { id });
  }
}

/** catalog.datasets and catalog.schema_changes through TypeORM. */
export class TypeOrmDatasetRepository implements DatasetRepository {
  constructor(
    private readonly ds: DataSource,
    private readonly outbox: Outbox,
  ) {}

  async findByName(name: string): Promise<DatasetRecord | undefined> {
    const e = await this.ds.getRepository(DatasetOrmEntity).findOne({ where: { name } });
    return e ? record(e) : undefined;
  }

  async list(filter: { tag?: string; owner?: string }): Promise<DatasetRecord[]> {
    const qb = this.ds.getRepository(DatasetOrmEntity).createQueryBuilder('d').orderBy('d.name', 'ASC');
    if (filter.tag) qb.andWhere('d.tags @> :tag::jsonb', { tag: JSON.stringify([filter.tag]) });
    if (filter.owner) qb.andWhere('d.owner = :owner', { owner: filter.owner });
    return (await qb.getMany()).map(record);
  }

  async changes(datasetId: string): Promise<SchemaChangeRecord[]> {
    const rows = await this.ds
      .getRepository(SchemaChangeOrmEntity)
      .find({ where: { datasetId }, order: { version: 'DESC' } });
    return rows.map((c) => ({
      version: c.version,
      kind: c.kind,
      details: c.details,
      contract: c.contract,
      changedBy: c.changedBy,
      createdAt: c.createdAt,
    }));
  }

  transaction<T>(fn: (tx: DatasetTransaction) => Promise<T>): Promise<T> {
    return this.ds.transaction((em) => fn(new TypeOrmDatasetTransaction(em)));
  }

  async setTable(name: string, table: string): Promise<void> {
    await this.ds.getRepository(DatasetOrmEntity).update({ name }, { warehouseTable: table, updatedAt: new Date() });
  }

  async setRelease(name: string, release: number): Promise<void> {
    await this.ds.getRepository(DatasetOrmEntity).update({ name }, { release, updatedAt: new Date() });
  }

  async recordLoad(name: string, load: { runId: string; at: Date; rows: number | null; job?: string }): Promise<void> {
    const s = recordLoadSql(name, load);
    await this.outbox.publishEach(this.ds, s.sql, s.params, DATASET_UPDATED_TOPIC, s.payload, s.key);
  }
}
