import { prepareReader, readAsReader, Warehouse } from '@weir/platform';
import type { DatasetContract } from '../domain/contract';
import type { DatasetTables, TableRowCount } from '../application/ports/dataset-tables.port';
import {
  BEGIN_READ_ONLY,
  columnTypesQuery,
  contractChangeSql,
  COUNT_TIMEOUT_MS,
  countSql,
  dependentRelationsQuery,
  dropRelationSql,
  estimatedCountQuery,
  previewSql,
  PREVIEW_TIMEOUT_MS,
  relationKindQuery,
  ROLLBACK,
  SET_TRANSACTION_READ_ONLY,
  statementTimeoutSql,
  tableExistsQuery,
} from './dataset-table.sql';

/** DATASET_TABLES on the warehouse pool. */
export class WarehouseDatasetTables implements DatasetTables {
  constructor(private readonly warehouse: Warehouse) {}

  async exists(schema: string, table: string): Promise<boolean> {
    const q = tableExistsQuery(schema, table);
    return (await this.warehouse.query<{ ok: boolean }>(q.text, q.values))[0].ok;
  }

  async applyContractChange(schema: string, table: string, from: DatasetContract, to: DatasetContract): Promise<void> {
    if (!(await this.exists(schema, table))) return;
    const stmts = contractChangeSql(schema, table, from, to);
    await this.warehouse.transaction(async (client) => {
      for (const s of stmts) await client.query(s);
    });
  }

  async relationKind(schema: string, table: string): Promise<string | undefined> {
    const q = relationKindQuery(schema, table);
    return (await this.warehouse.query<{ relkind: string }>(q.text, q.values))[0]?.relkind;
  }

  async drop(schema: string, table: string, kind: string): Promise<void> {
    await this.warehouse.query(dropRelationSql(schema, table, kind));
  }

  async dependentRelations(
    schema: string,
    table: string,
  ): Promise<{ schema: string; name: string; kind: 'view' | 'foreign_key' }[]> {
    const q = dependentRelationsQuery(schema, table);
    return this.warehouse.query<{ schema: string; name: string; kind: 'view' | 'foreign_key' }>(q.text, q.values);
  }

  async preview(schema: string, table: string, limit: number): Promise<Record<string, unknown>[]> {
    const client = await this.warehouse.pool.connect();
    try {
      await prepareReader(client, [{ schema, table }]);
      // a view runs its SQL when read: through the reader's function, where no role change is allowed
      const q = columnTypesQuery(schema, table);
      const types = (await client.query<{ c: string; t: string }>(q.text, q.values)).rows;
      await client.query(BEGIN_READ_ONLY);
      try {
        await client.query(statementTimeoutSql(PREVIEW_TIMEOUT_MS));
        return await readAsReader(client, previewSql(schema, table, types), [limit]);
      } finally {
        await client.query(ROLLBACK).catch(() => undefined);
      }
    } finally {
      client.release();
    }
  }

  async rowCount(schema: string, table: string): Promise<TableRowCount> {
    if (!(await this.exists(schema, table))) return { rowCount: null, rowCountExact: true, tableExists: false };
    try {
      // a view's SQL runs when counted: as the reader, never as the service
      await prepareReader(this.warehouse.pool, [{ schema, table }]);
      const n = await this.warehouse.transaction(async (c) => {
        await c.query(SET_TRANSACTION_READ_ONLY);
        await c.query(statementTimeoutSql(COUNT_TIMEOUT_MS));
        return Number((await readAsReader(c, countSql(schema, table)))[0]['n']);
      });
      return { rowCount: n, rowCountExact: true, tableExists: true };
    } catch {
      const q = estimatedCountQuery(schema, table);
      const r = await this.warehouse.query<{ n: string }>(q.text, q.values);
      return { rowCount: Math.max(0, Number(r[0]?.n ?? 0)), rowCountExact: false, tableExists: true };
    }
  }
}
