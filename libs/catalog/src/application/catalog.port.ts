import type { ColumnContract, DatasetContract } from '../domain/contract';

/** A dataset as other slices see it. */
export interface DatasetView {
  id: string;
  name: string;
  /** Warehouse schema and table holding the data. */
  schema: string;
  table: string;
  description: string | null;
  owner: string | null;
  tags: string[];
  contract: DatasetContract;
  version: number;
  /** Published version of a versioned dataset (breaking changes need a new one), or null. */
  release: number | null;
  lastLoad: { at: string; runId: string | null; rows: number | null } | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * What the catalog offers other slices (token {@link CATALOG}). Ingestion reads contracts only
 * through this port.
 */
export interface CatalogPort {
  /** The dataset, or undefined. */
  findDataset(name: string): Promise<DatasetView | undefined>;
  /** The dataset, or a CATALOG.DATASET_NOT_FOUND error. */
  getDataset(name: string): Promise<DatasetView>;
  /**
   * Adds nullable columns (schema drift policy `evolve`): a recorded, additive schema change.
   * Returns the new view; columns already present are ignored.
   */
  addColumns(name: string, columns: ColumnContract[], changedBy: string): Promise<DatasetView>;
  /** Records a successful load (shown as the dataset's last load). */
  recordLoad(name: string, load: { runId: string; at: Date; rows: number }): Promise<void>;
  /** Sets the published version of a versioned dataset. */
  setRelease(name: string, release: number): Promise<void>;
  /** Records that a dataset's relation was renamed (same schema, new table name); the caller renamed it. */
  setTable(name: string, table: string): Promise<void>;
  /**
   * Creates the dataset, or brings its contract up to date (every change recorded, breaking ones
   * included: used by builds that rebuild the relation). Refuses a name already used for another table.
   */
  ensureDataset(input: { name: string; schema: string; table: string; contract: DatasetContract; description?: string | null; tags?: string[] }, changedBy: string): Promise<DatasetView>;
}

/** Nest token of the {@link CatalogPort}. */
export const CATALOG = Symbol('CATALOG');
