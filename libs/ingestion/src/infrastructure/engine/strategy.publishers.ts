import { randomBytes } from 'node:crypto';
import type { PoolClient } from 'pg';
import { qualifiedTable, quoteIdent } from '@weir/platform';
import type { DatasetContract } from '@weir/catalog';
import type { StrategySpec } from '../../domain/source';
import { dedupeKeepLast, RECORD_COL } from './settle.sql';

/** What a publisher works on, inside the publish transaction. */
export interface PublishContext {
  client: PoolClient;
  strategy: StrategySpec;
  dataset: { schema: string; table: string };
  contract: DatasetContract;
  /** The stage, quoted, and its bare name. */
  staged: string;
  stage: string;
  /** The target, quoted. */
  target: string;
  pk: string[];
  /** The writer owns the target, so a replace may swap it (else its rows are replaced in place). */
  owned: boolean;
  /** Runs bookkeeping in Weir's own tables as the service's role. */
  asService: <T>(fn: () => Promise<T>) => Promise<T>;
}

/** Publishes the stage into the target by one strategy; returns the rows deduplicated while doing so. */
export type Publisher = (ctx: PublishContext) => Promise<number>;

const columnsOf = (contract: DatasetContract) => contract.columns.map((c) => quoteIdent(c.name)).join(', ');

/**
 * replace: the stage becomes the target (renamed in, the old table dropped). Views built on the
 * target would follow a renamed table and be dropped with it, and only the writer's own table may
 * be swapped (one made outside Weir is not its): then the target keeps its identity and its rows
 * are replaced, in the same transaction.
 */
export const publishReplace: Publisher = async ({ client, dataset, contract, staged, stage, target, pk, owned }) => {
  const { schema, table } = dataset;
  const cols = columnsOf(contract);
  await client.query(`ALTER TABLE ${staged} DROP COLUMN ${quoteIdent(RECORD_COL)}`);
  const old = `__weir_old_${randomBytes(6).toString('hex')}`;
  const exists = (await client.query(`SELECT to_regclass($1) IS NOT NULL AS e`, [target])).rows[0].e as boolean;
  if (exists) {
    await client.query(`LOCK TABLE ${target} IN ACCESS EXCLUSIVE MODE`);
    const dependents = await client.query(
      `SELECT 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid WHERE d.refobjid = $1::regclass AND d.deptype = 'n' LIMIT 1`,
      [target],
    );
    if (dependents.rowCount || !owned) {
      await client.query(`TRUNCATE ${target}`);
      await client.query(`INSERT INTO ${target} (${cols}) SELECT ${cols} FROM ${staged}`);
      await client.query(`DROP TABLE ${staged}`);
      return 0;
    }
    await client.query(`ALTER TABLE ${target} RENAME TO ${quoteIdent(old)}`);
  }
  await client.query(`ALTER TABLE ${staged} RENAME TO ${quoteIdent(table)}`);
  if (exists) await client.query(`DROP TABLE ${qualifiedTable(schema, old)}`);
  if (pk.length > 0)
    await client.query(
      `ALTER TABLE ${target} RENAME CONSTRAINT ${quoteIdent(`${stage}_pkey`)} TO ${quoteIdent(`${table}_pkey`.slice(0, 63))}`,
    );
  return 0;
};

/** append: the staged rows (keys already settled) are inserted. */
export const publishAppend: Publisher = async ({ client, contract, staged, target }) => {
  const cols = columnsOf(contract);
  await client.query(`INSERT INTO ${target} (${cols}) SELECT ${cols} FROM ${staged}`);
  return 0;
};

/**
 * merge and incremental: an upsert on the primary key (a plain insert without one). Fast path: no
 * key twice in the input; PostgreSQL refuses to update a row twice (21000), and only then are a
 * key's duplicates settled (last by orderBy, then input order) and the upsert retried.
 */
export const publishMerge: Publisher = async ({ client, strategy, contract, staged, target, pk, asService }) => {
  const cols = columnsOf(contract);
  if (pk.length === 0) {
    await client.query(`INSERT INTO ${target} (${cols}) SELECT ${cols} FROM ${staged}`);
    return 0;
  }
  const nonKey = contract.columns.filter((c) => !c.primaryKey).map((c) => quoteIdent(c.name));
  const action = nonKey.length ? `DO UPDATE SET ${nonKey.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}` : 'DO NOTHING';
  const upsert = `INSERT INTO ${target} (${cols}) SELECT ${cols} FROM ${staged} ON CONFLICT (${pk.map((c) => quoteIdent(c)).join(', ')}) ${action}`;
  await client.query('SAVEPOINT weir_upsert');
  try {
    await client.query(upsert);
    return 0;
  } catch (e) {
    if ((e as { code?: string }).code !== '21000') throw e;
    await client.query('ROLLBACK TO SAVEPOINT weir_upsert');
  }
  const deduped = await asService(() => dedupeKeepLast(client, strategy.orderBy, staged, pk));
  await client.query(upsert);
  return deduped;
};

/** One publisher per load strategy. */
export const PUBLISHERS: Readonly<Record<StrategySpec['kind'], Publisher>> = {
  replace: publishReplace,
  append: publishAppend,
  merge: publishMerge,
  incremental: publishMerge,
};
