import { qualifiedTable, quoteIdent, Warehouse } from '@weir/platform';
import type { CompiledNode } from '../domain/compile';

/**
 * A session-level advisory lock on the relation a model builds, on its own connection; waits for a
 * holder. One build of a relation at a time, across builds and processes: they share its scratch
 * relations (`__weir_build_*`, `__weir_incr_*`), and the second must see the first's result.
 */
export async function lockRelation(warehouse: Warehouse, n: CompiledNode): Promise<() => Promise<void>> {
  const client = await warehouse.pool.connect();
  const key = `weir.build:${n.schema}.${n.table}`;
  try {
    await client.query(`SELECT pg_advisory_lock(hashtextextended($1, 0))`, [key]);
  } catch (e) {
    client.release(true);
    throw e;
  }
  return async () => {
    try {
      await client.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [key]);
      client.release();
    } catch {
      client.release(true); // a broken connection ends the session, and the lock with it
    }
  };
}

/**
 * A model built under its name before its alias was honoured: when `schema.name` exists and
 * `schema.alias` does not, it is renamed to the alias (with its unique index), so its data — an
 * incremental model's history in particular — carries over instead of being rebuilt beside it.
 * Returns true when the model's relation is now at its alias.
 */
export async function renameUnaliased(
  warehouse: Warehouse,
  n: CompiledNode,
  warn: (m: string) => void,
): Promise<boolean> {
  return warehouse.transaction(async (c) => {
    const [{ old, kind, fresh }] = (
      await c.query(
        `SELECT to_regclass($1) AS old, (SELECT relkind FROM pg_class WHERE oid = to_regclass($1)) AS kind, to_regclass($2) AS fresh`,
        [qualifiedTable(n.schema, n.name), qualifiedTable(n.schema, n.table)],
      )
    ).rows;
    if (!old || fresh) return fresh !== null;
    await c.query(
      `ALTER ${kind === 'v' ? 'VIEW' : 'TABLE'} ${qualifiedTable(n.schema, n.name)} RENAME TO ${quoteIdent(n.table)}`,
    );
    const ukName = `${n.name}_uk`.slice(0, 63);
    const uk = (await c.query(`SELECT to_regclass($1) AS i`, [qualifiedTable(n.schema, ukName)])).rows[0].i;
    if (uk)
      await c.query(
        `ALTER INDEX ${qualifiedTable(n.schema, ukName)} RENAME TO ${quoteIdent(`${n.table}_uk`.slice(0, 63))}`,
      );
    warn(`${n.id}: ${n.schema}.${n.name} was built before its alias was honoured; renamed to ${n.schema}.${n.table}`);
    return true;
  });
}
