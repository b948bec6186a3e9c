/** SQL of the catalog's own tables that TypeORM does not write for us. */

export interface SqlQuery {
  text: string;
  values: unknown[];
}

/**
 * Transaction-scoped advisory locks on a relation and on a dataset name: one ownership claim at a
 * time per relation and per name (two builds racing for one relation).
 */
export function claimLockQuery(relation: string, name: string): SqlQuery {
  return {
    text: `SELECT pg_advisory_xact_lock(hashtextextended($1, 0)), pg_advisory_xact_lock(hashtextextended($2, 0))`,
    values: [`weir.claim:${relation}`, `weir.claim.name:${name}`],
  };
}
