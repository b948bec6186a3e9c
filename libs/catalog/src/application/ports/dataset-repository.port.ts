import type { DatasetContract } from '../../domain/contract';

/** A stored dataset (catalog.datasets), as the application sees it. */
export interface DatasetRecord {
  id: string;
  name: string;
  schema: string;
  table: string;
  description: string | null;
  owner: string | null;
  tags: string[];
  contract: DatasetContract;
  version: number;
  managedBy: string;
  release: number | null;
  lastLoadAt: Date | null;
  lastLoadRunId: string | null;
  lastLoadRows: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewDataset = Pick<
  DatasetRecord,
  'name' | 'schema' | 'table' | 'description' | 'owner' | 'tags' | 'contract' | 'version' | 'managedBy'
>;

/** The fields of a dataset a change may set (contract, version, ownership, description …). */
export type DatasetChanges = Pick<
  DatasetRecord,
  'name' | 'description' | 'owner' | 'tags' | 'contract' | 'version' | 'managedBy' | 'updatedAt'
>;

/** One contract version of a dataset (catalog.schema_changes). */
export interface SchemaChangeRecord {
  version: number;
  kind: string;
  details: string[];
  contract: DatasetContract;
  changedBy: string;
  createdAt: Date;
}

export type NewSchemaChange = Omit<SchemaChangeRecord, 'createdAt'> & { datasetId: string };

/** Reads and writes inside one transaction of {@link DatasetRepository.transaction}. */
export interface DatasetTransaction {
  /** With `forUpdate`, the row stays locked until the transaction ends. */
  findByName(name: string, forUpdate?: boolean): Promise<DatasetRecord | undefined>;
  findByTable(schema: string, table: string, forUpdate?: boolean): Promise<DatasetRecord | undefined>;
  /** Serialises claims on a relation and on a name until the transaction ends (two builds racing). */
  lockClaim(relation: string, name: string): Promise<void>;
  /** Inserts a dataset; returns it as stored (id, timestamps). */
  insert(dataset: NewDataset): Promise<DatasetRecord>;
  /** Writes the changeable fields of dataset `id`. */
  update(id: string, changes: DatasetChanges): Promise<void>;
  /** Records a contract version; a version already recorded for the dataset is refused. */
  recordChange(change: NewSchemaChange): Promise<void>;
  /** Deletes dataset `id` with its contract versions and export records (the warehouse is not touched). */
  remove(id: string): Promise<void>;
}

/**
 * Storage port for datasets and their contract versions (catalog.datasets, catalog.schema_changes).
 * Adapter: TypeOrmDatasetRepository (infrastructure/dataset.repository.ts), checked by the contract
 * suite in libs/catalog/test/dataset-repository.contract.spec.ts. Records are copies.
 */
export interface DatasetRepository {
  findByName(name: string): Promise<DatasetRecord | undefined>;
  /** Datasets by name, filtered by a tag and/or an owner. */
  list(filter: { tag?: string; owner?: string }): Promise<DatasetRecord[]>;
  /** A dataset's contract versions, newest first. */
  changes(datasetId: string): Promise<SchemaChangeRecord[]>;
  /** Runs `fn` in one transaction: everything it wrote is undone when it throws. */
  transaction<T>(fn: (tx: DatasetTransaction) => Promise<T>): Promise<T>;
  setTable(name: string, table: string): Promise<void>;
  setRelease(name: string, release: number): Promise<void>;
  /** The dataset's last load, and its publish event ({@link DATASET_UPDATED_TOPIC}) in the same statement. */
  recordLoad(name: string, load: { runId: string; at: Date; rows: number | null; job?: string }): Promise<void>;
}

export const DATASET_REPOSITORY = Symbol('DATASET_REPOSITORY');
