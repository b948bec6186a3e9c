import type { Dependent } from '@weir/platform';
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
  /** Who may write the relation: `ingestion` (loaded by sources) or `modeling:<project>` (built by that project). */
  managedBy: string;
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
  /**
   * Records a successful load or build (shown as the dataset's last load) and publishes it on
   * `DATASET_UPDATED_TOPIC` in the same statement (data-aware schedules listen to it).
   * `job` names the writer (`ingestion.<source>`, `model.<project>.<name>`).
   */
  recordLoad(name: string, load: { runId: string; at: Date; rows: number | null; job?: string }): Promise<void>;
  /** Sets the published version of a versioned dataset. */
  setRelease(name: string, release: number): Promise<void>;
  /** Records that a dataset's relation was renamed (same schema, new table name); the caller renamed it. */
  setTable(name: string, table: string): Promise<void>;
  /**
   * Creates the dataset, or brings its contract up to date (every change recorded, breaking ones
   * included: used by builds that rebuild the relation). Refuses a name already used for another table.
   */
  ensureDataset(
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
  ): Promise<DatasetView>;
  /**
   * Checks that `managedBy` may write `schema.table` as dataset `name` before anything is written:
   * a relation (or a name) recorded for another owner is refused with a 409 of code `req.code`
   * naming the owner, unless `takeOver`, which moves the dataset to the claimant and is recorded
   * as a catalog change (kind `ownership`). A relation the catalog does not know is anybody's.
   */
  claim(req: OwnershipClaim, changedBy: string): Promise<void>;
  /**
   * Adds what another slice knows uses datasets (its sources, suites, models, pipeline steps …):
   * asked before a dataset is deleted; any dependent it names refuses the deletion with
   * CATALOG.DATASET_IN_USE (409), listed as `dependents`. A slice registers it once, at start.
   */
  addDependentsProbe(probe: DatasetDependentsProbe): void;
}

/** What uses `dataset` in one slice (nothing: an empty list). */
export type DatasetDependentsProbe = (dataset: DatasetView) => Promise<Dependent[]>;

export interface OwnershipClaim {
  name: string;
  schema: string;
  table: string;
  /** `ingestion` or `modeling:<project>`. */
  managedBy: string;
  takeOver?: boolean;
  /** The error code of a refusal (the claimant's slice: MODELING.… or INGESTION.RELATION_OWNED_ELSEWHERE). */
  code: string;
}

/** `modeling:shop` → `project "shop"`; `ingestion` → `ingestion (a source's dataset)`. */
export function describeOwner(managedBy: string): string {
  return managedBy.startsWith('modeling:')
    ? `project "${managedBy.slice(9)}"`
    : managedBy === 'ingestion'
      ? 'ingestion (a source loads it)'
      : managedBy;
}

/** Nest token of the {@link CatalogPort}. */
export const CATALOG = Symbol('CATALOG');
