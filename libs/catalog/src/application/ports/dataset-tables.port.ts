import type { DatasetContract } from '../../domain/contract';

/** A table's row count for the dataset's page. */
export interface TableRowCount {
  /** Rows in the table (null when it does not exist yet). */
  rowCount: number | null;
  /** False when counting failed (a slow view, say) and the planner's estimate is shown. */
  rowCountExact: boolean;
  tableExists: boolean;
}

/**
 * The warehouse relations behind datasets (token {@link DATASET_TABLES}). Promises: anything that
 * reads a relation's rows (preview, count) runs as the restricted reader role, read-only, since a
 * view runs its SQL when read; names are validated identifiers, quoted. Every method but a
 * contract change made by a load is asked for over HTTP: its statements are bounded by
 * WEIR_REQUEST_STATEMENT_TIMEOUT_MS (past it: `PLATFORM.STATEMENT_TIMEOUT`).
 * Adapter: WarehouseDatasetTables (infrastructure/dataset-table.repository.ts).
 */
export interface DatasetTables {
  exists(schema: string, table: string): Promise<boolean>;
  /**
   * Applies an additive or widening contract change to the table (new nullable columns, wider
   * types, dropped NOT NULL) in one transaction; nothing when the table does not exist.
   * `forRequest`: bounded by WEIR_REQUEST_STATEMENT_TIMEOUT_MS (a load's own change is not).
   */
  applyContractChange(
    schema: string,
    table: string,
    from: DatasetContract,
    to: DatasetContract,
    opts?: { forRequest?: boolean },
  ): Promise<void>;
  /** `pg_class.relkind` of the relation (`r` table, `v` view …), undefined when there is none. */
  relationKind(schema: string, table: string): Promise<string | undefined>;
  /** Drops the relation: a view when `kind` is `v`, a table otherwise. */
  drop(schema: string, table: string, kind: string): Promise<void>;
  /**
   * What in the warehouse would stop the relation from being dropped without CASCADE: views (and
   * materialized views) reading it, tables whose foreign keys point at it. Empty when there is none
   * or the relation does not exist.
   */
  dependentRelations(
    schema: string,
    table: string,
  ): Promise<{ schema: string; name: string; kind: 'view' | 'foreign_key' }[]>;
  /** The first `limit` rows as the reader (bigint and numeric as text). */
  preview(schema: string, table: string, limit: number): Promise<Record<string, unknown>[]>;
  /** The exact row count as the reader (2 s at most, less when the request bound is lower), else the planner's estimate. */
  rowCount(schema: string, table: string): Promise<TableRowCount>;
}

export const DATASET_TABLES = Symbol('DATASET_TABLES');
