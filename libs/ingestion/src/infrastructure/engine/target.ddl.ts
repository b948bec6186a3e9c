import { Warehouse, WRITER_ROLE } from '@weir/platform';
import { createTableSql, DatasetContract } from '@weir/catalog';
import { TableContractMismatchError } from '../../ingestion.errors';
import type { LoadJob } from './load.engine';

/**
 * Creates the target for non-replace strategies (as the warehouse writer, so the writer owns it)
 * and checks that an existing one has every contract column. Two first loads at once (two
 * instances, two sources) create the table once: the second waits for the first's lock, then finds
 * the table (PostgreSQL's own CREATE races on pg_type otherwise).
 */
export async function ensureTarget(
  warehouse: Warehouse,
  job: LoadJob,
  contract: DatasetContract,
  target: string,
  asWriter: boolean,
): Promise<void> {
  const { schema, table } = job.dataset;
  const cols = await warehouse.transaction(async (c) => {
    await c.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`weir.table:${schema}.${table}`]);
    const found = (
      await c.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`, [
        schema,
        table,
      ])
    ).rows as { column_name: string }[];
    if (found.length === 0 && job.strategy.kind !== 'replace') {
      if (asWriter) await c.query(`SET LOCAL ROLE ${WRITER_ROLE}`);
      await c.query(createTableSql(schema, table, contract));
    }
    return found;
  });
  if (cols.length === 0 || job.strategy.kind === 'replace') return;
  const have = new Set(cols.map((c) => c.column_name));
  const missing = contract.columns.filter((c) => !have.has(c.name)).map((c) => c.name);
  if (missing.length > 0) {
    throw new TableContractMismatchError(
      `${target} lacks contract columns ${missing.join(', ')} (a breaking contract change?); load once with strategy replace to rebuild it`,
    );
  }
}
