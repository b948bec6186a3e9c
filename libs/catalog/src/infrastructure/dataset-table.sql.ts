import { qualifiedTable, quoteIdent } from '@weir/platform';
import { ColumnContract, DatasetContract, sqlType } from '../domain/contract';
import { columnSql } from '../domain/ddl';
import type { SqlQuery } from './dataset.sql';

/** SQL on the warehouse relations behind datasets; every name goes through quoteIdent/qualifiedTable. */

export const BEGIN = 'BEGIN';
export const BEGIN_READ_ONLY = 'BEGIN READ ONLY';
export const COMMIT = 'COMMIT';
export const ROLLBACK = 'ROLLBACK';
/**
 * How long an exact count may take before the estimate is shown (less when
 * WEIR_REQUEST_STATEMENT_TIMEOUT_MS is lower). A preview's bound is that setting.
 */
export const COUNT_TIMEOUT_MS = 2000;

/** Whether the relation exists (as `ok`). */
export function tableExistsQuery(schema: string, table: string): SqlQuery {
  return { text: `SELECT to_regclass($1) IS NOT NULL AS ok`, values: [qualifiedTable(schema, table)] };
}

/** The relation's kind (as `relkind`), no row when there is none. */
export function relationKindQuery(schema: string, table: string): SqlQuery {
  return {
    text: `SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass($1)`,
    values: [qualifiedTable(schema, table)],
  };
}

/**
 * Relations a plain DROP of the relation would fail on (as `schema`, `name`, `kind`): views and
 * materialized views whose rules read it, tables with a foreign key to it. None when it does not exist.
 */
export function dependentRelationsQuery(schema: string, table: string): SqlQuery {
  return {
    text: `WITH t AS (SELECT to_regclass($1) AS oid)
           SELECT DISTINCT n.nspname AS schema, v.relname AS name, 'view' AS kind
             FROM t JOIN pg_depend d ON d.refobjid = t.oid AND d.refclassid = 'pg_class'::regclass AND d.classid = 'pg_rewrite'::regclass
             JOIN pg_rewrite r ON r.oid = d.objid
             JOIN pg_class v ON v.oid = r.ev_class AND v.oid <> t.oid
             JOIN pg_namespace n ON n.oid = v.relnamespace
           UNION
           SELECT DISTINCT n.nspname, c.relname, 'foreign_key'
             FROM t JOIN pg_constraint k ON k.confrelid = t.oid AND k.contype = 'f' AND k.conrelid <> t.oid
             JOIN pg_class c ON c.oid = k.conrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
           ORDER BY 1, 2`,
    values: [qualifiedTable(schema, table)],
  };
}

export function dropRelationSql(schema: string, table: string, kind: string): string {
  return `DROP ${kind === 'v' ? 'VIEW' : 'TABLE'} ${qualifiedTable(schema, table)}`;
}

/** ALTER TABLE statements taking the table from one contract to an additive or widening next one. */
export function contractChangeSql(schema: string, table: string, from: DatasetContract, to: DatasetContract): string[] {
  const target = qualifiedTable(schema, table);
  const old = new Map<string, ColumnContract>(from.columns.map((c) => [c.name, c]));
  const stmts: string[] = [];
  for (const c of to.columns) {
    const o = old.get(c.name);
    if (!o) stmts.push(`ALTER TABLE ${target} ADD COLUMN ${columnSql({ ...c, nullable: true })}`);
    else {
      if (sqlType(o) !== sqlType(c)) stmts.push(`ALTER TABLE ${target} ALTER COLUMN "${c.name}" TYPE ${sqlType(c)}`);
      if (!o.nullable && c.nullable) stmts.push(`ALTER TABLE ${target} ALTER COLUMN "${c.name}" DROP NOT NULL`);
    }
  }
  return stmts;
}

/** The relation's columns and their types (as `c`, `t`), in order. */
export function columnTypesQuery(schema: string, table: string): SqlQuery {
  return {
    text: `SELECT column_name AS c, data_type AS t FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
    values: [schema, table],
  };
}

/** The first rows ($1 of them); bigint and numeric as text (JSON numbers would round them). */
export function previewSql(schema: string, table: string, columns: { c: string; t: string }[]): string {
  const list = columns.length
    ? columns
        .map((x) =>
          ['bigint', 'numeric'].includes(String(x.t))
            ? `${quoteIdent(String(x.c))}::text AS ${quoteIdent(String(x.c))}`
            : quoteIdent(String(x.c)),
        )
        .join(', ')
    : '*';
  return `SELECT ${list} FROM ${qualifiedTable(schema, table)} LIMIT $1`;
}

/** The exact count (as `n`). */
export function countSql(schema: string, table: string): string {
  return `SELECT count(*) AS n FROM ${qualifiedTable(schema, table)}`;
}

/** The planner's estimate (as `n`). */
export function estimatedCountQuery(schema: string, table: string): SqlQuery {
  return {
    text: `SELECT reltuples::bigint AS n FROM pg_class WHERE oid = $1::regclass`,
    values: [qualifiedTable(schema, table)],
  };
}
