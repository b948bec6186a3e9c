import type { PoolClient } from 'pg';
import { prepareReader, readAsReader, Warehouse } from '@weir/platform';
import type { DatasetContract } from '../domain/contract';
import type { DatasetTables, TableRowCount } from '../application/ports/dataset-tables.port';
import {
  BEGIN,
  BEGIN_READ_ONLY,
  COMMIT,
  columnTypesQuery,
  contractChangeSql,
  COUNT_TIMEOUT_MS,
  countSql,
  dependentRelationsQuery,
  dropRelationSql,
  estimatedCountQuery,
  previewSql,
  relationKindQuery,
  ROLLBACK,
  tableExistsQuery,
} from './dataset-table.sql';

/**
 * DATASET_TABLES on the warehouse pool. Everything here but a load's contract change is asked for
 * over HTTP: through {@link Warehouse.forRequest}, so every statement (a grant, a lookup, the read
 * itself) is bounded by WEIR_REQUEST_STATEMENT_TIMEOUT_MS.
 */
export class WarehouseDatasetTables implements DatasetTables {
  constructor(private readonly warehouse: Warehouse) {}

  async exists(schema: string, table: string): Promise<boolean> {
    const q = tableExistsQuery(schema, table);
    return (await this.warehouse.requestQuery<{ ok: boolean }>(q.text, q.values))[0].ok;
  }

  async applyContractChange(
    schema: string,
    table: string,
    from: DatasetContract,
    to: DatasetContract,
    opts: { forRequest?: boolean } = {},
  ): Promise<void> {
    const stmts = contractChangeSql(schema, table, from, to);
    const apply = async (client: PoolClient) => {
      const q = tableExistsQuery(schema, table);
      if (!(await client.query<{ ok: boolean }>(q.text, q.values)).rows[0].ok) return;
      await client.query(BEGIN);
      try {
        for (const s of stmts) await client.query(s);
        await client.query(COMMIT);
      } catch (e) {
        await client.query(ROLLBACK).catch(() => undefined);
        throw e;
      }
    };
    if (opts.forRequest) return this.warehouse.forRequest(apply);
    const lease = await this.warehouse.lease();
    try {
      await apply(lease.client);
    } finally {
      await lease.release();
    }
  }

  async relationKind(schema: string, table: string): Promise<string | undefined> {
    const q = relationKindQuery(schema, table);
    return (await this.warehouse.requestQuery<{ relkind: string }>(q.text, q.values))[0]?.relkind;
  }

  async drop(schema: string, table: string, kind: string): Promise<void> {
    await this.warehouse.requestQuery(dropRelationSql(schema, table, kind));
  }

  async dependentRelations(
    schema: string,
    table: string,
  ): Promise<{ schema: string; name: string; kind: 'view' | 'foreign_key' }[]> {
    const q = dependentRelationsQuery(schema, table);
    return this.warehouse.requestQuery<{ schema: string; name: string; kind: 'view' | 'foreign_key' }>(
      q.text,
      q.values,
    );
  }

  preview(schema: string, table: string, limit: number): Promise<Record<string, unknown>[]> {
    return this.warehouse.forRequest(async (client) => {
      await prepareReader(client, [{ schema, table }]);
      // a view runs its SQL when read: through the reader's function, where no role change is allowed
      const q = columnTypesQuery(schema, table);
      const types = (await client.query<{ c: string; t: string }>(q.text, q.values)).rows;
      await client.query(BEGIN_READ_ONLY);
      try {
        return await readAsReader(client, previewSql(schema, table, types), [limit]);
      } finally {
        await client.query(ROLLBACK).catch(() => undefined);
      }
    });
  }

  async rowCount(schema: string, table: string): Promise<TableRowCount> {
    if (!(await this.exists(schema, table))) return { rowCount: null, rowCountExact: true, tableExists: false };
    try {
      // a view's SQL runs when counted: as the reader, never as the service; a slow one shows the estimate
      const n = await this.warehouse.forRequest(
        async (c) => {
          await prepareReader(c, [{ schema, table }]);
          await c.query(BEGIN_READ_ONLY);
          try {
            return Number((await readAsReader(c, countSql(schema, table)))[0]['n']);
          } finally {
            await c.query(ROLLBACK).catch(() => undefined);
          }
        },
        { timeoutMs: COUNT_TIMEOUT_MS },
      );
      return { rowCount: n, rowCountExact: true, tableExists: true };
    } catch {
      const q = estimatedCountQuery(schema, table);
      const r = await this.warehouse.requestQuery<{ n: string }>(q.text, q.values);
      return { rowCount: Math.max(0, Number(r[0]?.n ?? 0)), rowCountExact: false, tableExists: true };
    }
  }
}
