import type { DatasetContract, DatasetContractInput } from '../domain/contract';
import type { DatasetView } from './catalog.port';
import type { DatasetRecord } from './ports/dataset-repository.port';

export interface CreateDatasetInput {
  name: string;
  schema?: string;
  table?: string;
  description?: string | null;
  owner?: string | null;
  tags?: string[];
  /** `nullable` may be left out (default true; false for a primary key column). */
  contract: DatasetContractInput;
}

export interface UpdateDatasetInput {
  description?: string | null;
  owner?: string | null;
  tags?: string[];
  contract?: DatasetContractInput;
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

export function toView(e: DatasetRecord): DatasetView {
  return {
    id: e.id,
    name: e.name,
    schema: e.schema,
    table: e.table,
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
          rows: e.lastLoadRows,
        }
      : null,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}
