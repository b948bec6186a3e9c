import { prepareWriter, Warehouse } from '@weir/platform';
import type { ColumnContract } from '@weir/catalog';
import type { CompiledNode } from '../../domain/compile';

/** information_schema data_type → a contract type. */
export function contractType(dataType: string, numericPrecision: number | null, numericScale: number | null): string {
  switch (dataType) {
    case 'integer':
    case 'smallint':
      return 'integer';
    case 'bigint':
      return 'bigint';
    case 'numeric':
      return numericPrecision ? `numeric(${numericPrecision},${numericScale ?? 0})` : 'numeric';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'timestamp without time zone':
      return 'timestamp';
    case 'timestamp with time zone':
      return 'timestamptz';
    case 'uuid':
      return 'uuid';
    case 'jsonb':
    case 'json':
      return 'jsonb';
    case 'real':
    case 'double precision':
      return 'numeric';
    default:
      return 'text';
  }
}

/**
 * A model's SQL as dbt-postgres runs it: in parentheses (`create table … as (\n<sql>\n)`), so it
 * is one query — a second statement after a `;` is a syntax error, as in dbt — and a trailing
 * `-- comment` cannot swallow the closing parenthesis. Trailing semicolons are dropped.
 */
export function asSubquery(sql: string): string {
  return `(\n${sql.replace(/[\s;]+$/, '')}\n)`;
}

/** pg_class.relkind of the relations a build may meet. */
export const RELATION_KINDS: Record<string, string> = {
  r: 'table',
  p: 'partitioned table',
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
};
export const TABLE_KINDS: ReadonlySet<string> = new Set(['r', 'p']);

/** The DROP/ALTER keyword of a relkind. */
export function dropKind(relkind: string): string {
  return relkind === 'v' ? 'VIEW' : relkind === 'm' ? 'MATERIALIZED VIEW' : relkind === 'f' ? 'FOREIGN TABLE' : 'TABLE';
}

export async function relationKind(warehouse: Warehouse, qualified: string): Promise<string | undefined> {
  return (
    await warehouse.query<{ relkind: string }>(`SELECT relkind FROM pg_class WHERE oid = to_regclass($1)`, [qualified])
  )[0]?.relkind;
}

const TYPE_ALIASES: Record<string, string> = {
  int: 'integer',
  int4: 'integer',
  int8: 'bigint',
  int2: 'smallint',
  bool: 'boolean',
  float: 'double precision',
  float8: 'double precision',
  float4: 'real',
  varchar: 'character varying',
  timestamp: 'timestamp without time zone',
  timestamptz: 'timestamp with time zone',
  string: 'text',
};

/** `varchar(10)` → `character varying(10)`, `INT` → `integer`: PostgreSQL's own spelling (format_type). */
export function normalizeType(t: string): string {
  const m = /^\s*([a-z_][a-z0-9_ ]*?)\s*(\(.*\))?\s*$/i.exec(t);
  if (!m) return t.trim().toLowerCase();
  const base = m[1].toLowerCase().replace(/\s+/g, ' ');
  return `${TYPE_ALIASES[base] ?? base}${m[2] ? m[2].replace(/\s+/g, '') : ''}`;
}

/** Differences between a model's declared columns (YAML, data_type) and what the SQL built. */
export function contractDiff(
  declared: { name: string; data_type?: string }[],
  built: { name: string; type: string }[],
): string[] {
  const out: string[] = [];
  const have = new Map(built.map((b) => [b.name, normalizeType(b.type)]));
  for (const d of declared) {
    if (!have.has(d.name)) out.push(`missing column ${d.name}`);
    else if (!d.data_type) out.push(`column ${d.name} declares no data_type`);
    else if (normalizeType(d.data_type) !== have.get(d.name))
      out.push(`column ${d.name} is ${have.get(d.name)}, the contract says ${normalizeType(d.data_type)}`);
  }
  for (const b of built) if (!declared.some((d) => d.name === b.name)) out.push(`unexpected column ${b.name}`);
  return out;
}

/** A model's SQL runs as the warehouse writer (see writeAsWriter): it may create in its schema and read the data plane. */
export async function prepareModelWriter(
  warehouse: Warehouse,
  n: CompiledNode,
  warn: (m: string) => void,
): Promise<void> {
  await prepareWriter(warehouse.pool, n.schema, warn);
}

/** dbt's `unique_key`: a list, or one string of comma-separated columns. */
export function uniqueKeyOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== 'string') return [];
  return value
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
}

/** The columns of a relation as contract columns (PostgreSQL's types in the contract's spelling), all nullable. */
export async function relationColumns(warehouse: Warehouse, schema: string, table: string): Promise<ColumnContract[]> {
  const columns = await warehouse.query<{
    column_name: string;
    data_type: string;
    numeric_precision: number | null;
    numeric_scale: number | null;
  }>(
    `SELECT column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
    [schema, table],
  );
  return columns.map((c) => ({
    name: c.column_name,
    type: contractType(c.data_type, c.numeric_precision, c.numeric_scale),
    nullable: true,
  }));
}
