/**
 * The 16 assertion kinds of ../shared/corpora/dbt-adapter-tests (README.txt "Assertion kinds"):
 * each check returns null when it holds, else one line saying why not. The checks over a step's
 * node results, the snapshot pairs, timestamps and artifact counts are pure functions; the ones
 * that read the warehouse take a pg client, the file ones the project folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ClientBase } from 'pg';
import type { DbtNodeResult } from '../src/dbt/invocation';

export type Assertion = { note?: string } & (
  | { kind: 'step_succeeds' }
  | { kind: 'step_fails' }
  | { kind: 'results_count'; equals: number }
  | { kind: 'result_names'; equals: string[] }
  | { kind: 'result_status'; node: string; equals: string }
  | { kind: 'results_all_status'; equals: string }
  | { kind: 'result_message_contains'; node: string; text: string; case_insensitive?: boolean }
  | { kind: 'relation_rows'; relation: string; equals: number }
  | { kind: 'relations_equal'; relations: string[] }
  | { kind: 'relation_type'; relation: string; equals: string }
  | { kind: 'column_types_equal'; relations: string[] }
  | { kind: 'snapshot_records_within'; relation: string; current_ids: number[]; closed_ids: number[] }
  | { kind: 'query_value'; sql: string; row: number; column: number; equals: unknown; type?: string }
  | { kind: 'artifact_count'; path: string; key: string; equals: number }
  | { kind: 'file_exists'; path: string }
  | { kind: 'file_absent'; path: string }
);

/** What a step produced: a dbt command's exit state and node results, or a script's outcome. */
export interface StepOutcome {
  run: 'dbt' | 'script';
  success: boolean;
  results: DbtNodeResult[];
  /** The exception a dbt invocation threw, or the error of a script's failing statement. */
  error?: string;
}

/** Where the checks that read the warehouse or the project folder look. */
export interface AssertionContext {
  db: Pick<ClientBase, 'query'>;
  /** The target schema (unquoted). */
  schema: string;
  /** The target database (unquoted). */
  database: string;
  /** The project folder the case runs in (dbt writes target/ there). */
  projectDir: string;
}

export const quoteIdent = (s: string): string => `"${s.replace(/"/g, '""')}"`;

/** `<target schema>.<name>`, quoted as dbt-postgres quotes a relation. */
export const relationSql = (schema: string, name: string): string => `${quoteIdent(schema)}.${quoteIdent(name)}`;

/** `{schema}` and `{database}` as run_sql_with_adapter formats them (schema unquoted, database double-quoted). */
export function substitutePlaceholders(sql: string, schema: string, database: string): string {
  return sql.split('{schema}').join(schema).split('{database}').join(quoteIdent(database));
}

/**
 * run_sql_file: the file split on ';' into statements, pieces with nothing but white space and
 * comments left out. A ';' inside a `--` or block comment, a quoted literal or identifier, or a
 * dollar-quoted body does not split: the corpus's rendered scripts open with a `--` comment line
 * holding a ';' (and an apostrophe), where a bare split would cut the comment in two.
 */
export function splitStatements(sql: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  let meaningful = false; // the current piece has something besides white space and comments
  const end = (i: number) => {
    if (meaningful) pieces.push(sql.slice(start, i));
    start = i + 1;
    meaningful = false;
  };
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    if (ch === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl === -1 ? sql.length : nl + 1;
    } else if (ch === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < sql.length && depth > 0) {
        const two = sql.slice(i, i + 2);
        if (two === '/*' || two === '*/') {
          depth += two === '/*' ? 1 : -1;
          i += 2;
        } else i++;
      }
    } else if (ch === "'" || ch === '"') {
      meaningful = true;
      i++;
      while (i < sql.length) {
        if (sql[i] === ch && sql[i + 1] === ch) i += 2;
        else if (sql[i] === ch) break;
        else i++;
      }
      i++;
    } else if (ch === '$' && /^\$[A-Za-z_]*\$/.test(sql.slice(i, i + 64)) && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? '')) {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i, i + 64))![0];
      meaningful = true;
      const close = sql.indexOf(tag, i + tag.length);
      i = close === -1 ? sql.length : close + tag.length;
    } else if (ch === ';') {
      end(i);
      i++;
    } else {
      if (!/\s/.test(ch)) meaningful = true;
      i++;
    }
  }
  end(sql.length);
  return pieces;
}

/** A short name for the assertion in a report line: the kind and what it is about. */
export function assertionLabel(a: Assertion): string {
  const about =
    'node' in a
      ? a.node
      : 'relation' in a
        ? a.relation
        : 'relations' in a
          ? a.relations.join(',')
          : 'path' in a
            ? a.path
            : undefined;
  return about === undefined ? a.kind : `${a.kind} ${about}`;
}

const short = (s: string | null | undefined, n = 300): string => {
  const one = (s ?? '').replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n)}…` : one;
};

const sortedNames = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

/** Why a step failed, for step_succeeds: the exception, else the first errored or failing node. */
function failureDetail(outcome: StepOutcome): string {
  if (outcome.error) return short(outcome.error);
  const bad = outcome.results.find((r) => r.status === 'error' || r.status === 'fail');
  if (bad) return `${bad.name} ${bad.status}${bad.message ? `: ${short(bad.message)}` : ''}`;
  return outcome.results.length === 0 ? 'no results' : 'no node errored';
}

function findResult(results: DbtNodeResult[], node: string): DbtNodeResult | string {
  const r = results.find((x) => x.name === node);
  return r ?? `no result for node ${node} (results: ${sortedNames(results.map((x) => x.name)).join(', ') || 'none'})`;
}

/** The checks that read only the step's outcome; undefined for kinds that need the database or files. */
export function checkOutcome(a: Assertion, outcome: StepOutcome): string | null | undefined {
  const results = outcome.results;
  switch (a.kind) {
    case 'step_succeeds':
      return outcome.success ? null : `expected success, got failure: ${failureDetail(outcome)}`;
    case 'step_fails':
      return outcome.success ? 'expected failure, got success' : null;
    case 'results_count':
      return results.length === a.equals
        ? null
        : `expected ${a.equals} results, got ${results.length}${results.length ? ` (${results.map((r) => r.name).join(', ')})` : ''}`;
    case 'result_names': {
      const got = sortedNames(results.map((r) => r.name));
      const want = sortedNames(a.equals);
      return JSON.stringify(got) === JSON.stringify(want)
        ? null
        : `expected {${want.join(', ')}}, got {${got.join(', ')}}`;
    }
    case 'result_status': {
      const r = findResult(results, a.node);
      if (typeof r === 'string') return r;
      return r.status === a.equals
        ? null
        : `expected ${a.equals}, got ${r.status}${r.message ? `: ${short(r.message)}` : ''}`;
    }
    case 'results_all_status': {
      const bad = results.find((r) => r.status !== a.equals);
      return bad
        ? `expected every result ${a.equals}, got ${bad.status} for ${bad.name}${bad.message ? `: ${short(bad.message)}` : ''}`
        : null;
    }
    case 'result_message_contains': {
      const r = findResult(results, a.node);
      if (typeof r === 'string') return r;
      if (r.message === null || r.message === undefined) return `expected a message containing "${a.text}", got none`;
      const hay = a.case_insensitive ? r.message.toLowerCase() : r.message;
      const needle = a.case_insensitive ? a.text.toLowerCase() : a.text;
      return hay.includes(needle) ? null : `expected the message to contain "${a.text}", got: ${short(r.message)}`;
    }
    default:
      return undefined;
  }
}

/** simple_snapshot's _assert_results: the (id, is_current) pairs that are not expected, as "(id, bool)". */
export function unexpectedSnapshotPairs(
  rows: { id: unknown; is_current: unknown }[],
  currentIds: number[],
  closedIds: number[],
): string[] {
  const allowed = new Set([...currentIds.map((i) => `${i}|true`), ...closedIds.map((i) => `${i}|false`)]);
  const seen = new Set<string>();
  const bad: string[] = [];
  for (const r of rows) {
    const key = `${String(r.id)}|${r.is_current === true || r.is_current === 't' ? 'true' : 'false'}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (!allowed.has(key)) bad.push(`(${String(r.id)}, ${key.endsWith('true')})`);
  }
  return bad;
}

const TIMESTAMP = /^(\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/;

/** Two timestamps without time zone in text form are the same instant ('2099-12-31 00:00:00' = '2099-12-31 00:00:00.000'). */
export function timestampTextEquals(actual: string, expected: string): boolean {
  const a = TIMESTAMP.exec(actual.trim());
  const b = TIMESTAMP.exec(expected.trim());
  if (!a || !b) return actual.trim() === expected.trim();
  for (let i = 1; i <= 6; i++) if (Number(a[i]) !== Number(b[i])) return false;
  return Number(`0.${a[7] ?? '0'}`) === Number(`0.${b[7] ?? '0'}`);
}

/** PostgreSQL type oids query_value's timestamp comparison tells apart. */
const OID = { timestamp: 1114, timestamptz: 1184, date: 1082, bool: 16 } as const;

/**
 * query_value's comparison of one fetched value (PostgreSQL text form, `oid` its type) with
 * `equals`. type "timestamp": the value must be a timestamp without time zone equal to `equals`
 * (as upstream compares a fetched datetime with a naive datetime, a timestamptz, date or text
 * value does not match).
 */
export function compareQueryValue(
  value: string | null,
  oid: number,
  equals: unknown,
  type: string | undefined,
): string | null {
  if (type === 'timestamp') {
    if (value === null) return `expected ${String(equals)}, got null`;
    if (oid !== OID.timestamp) {
      const typeName =
        oid === OID.timestamptz ? 'timestamp with time zone' : oid === OID.date ? 'date' : `a value of type oid ${oid}`;
      return `expected timestamp ${String(equals)}, got ${typeName} ${value}`;
    }
    return timestampTextEquals(value, String(equals)) ? null : `expected ${String(equals)}, got ${value}`;
  }
  if (equals === null) return value === null ? null : `expected null, got ${value}`;
  if (value === null) return `expected ${JSON.stringify(equals)}, got null`;
  if (typeof equals === 'number') return Number(value) === equals ? null : `expected ${equals}, got ${value}`;
  if (typeof equals === 'boolean') {
    const b = oid === OID.bool ? value === 't' : value;
    return b === equals ? null : `expected ${equals}, got ${value}`;
  }
  return value === String(equals) ? null : `expected ${JSON.stringify(equals)}, got ${JSON.stringify(value)}`;
}

/** artifact_count over a parsed JSON document: the entries under its top-level `key`. */
export function countArtifactEntries(doc: unknown, key: string): number | string {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return 'the file is not a JSON object';
  if (!(key in doc)) return `no top-level key "${key}"`;
  const v = (doc as Record<string, unknown>)[key];
  if (Array.isArray(v)) return v.length;
  if (v !== null && typeof v === 'object') return Object.keys(v).length;
  return `"${key}" is ${v === null ? 'null' : typeof v}, not an object or list`;
}

/** check_relations_equal's column list: the names not starting with dbt_ (any case), double-quoted, sorted. */
export function comparedColumns(names: string[]): string {
  return names
    .filter((n) => !n.toLowerCase().startsWith('dbt_'))
    .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))
    .map(quoteIdent)
    .join(', ');
}

/** dbt-adapters' COLUMNS_EQUAL_SQL (EXCEPT on PostgreSQL). */
export function columnsEqualSql(columns: string, relationA: string, relationB: string): string {
  return `with diff_count as (
    SELECT
        1 as id,
        COUNT(*) as num_missing FROM (
            (SELECT ${columns} FROM ${relationA} EXCEPT
             SELECT ${columns} FROM ${relationB})
             UNION ALL
            (SELECT ${columns} FROM ${relationB} EXCEPT
             SELECT ${columns} FROM ${relationA})
        ) as a
), table_a as (
    SELECT COUNT(*) as num_rows FROM ${relationA}
), table_b as (
    SELECT COUNT(*) as num_rows FROM ${relationB}
), row_count_diff as (
    select
        1 as id,
        table_a.num_rows - table_b.num_rows as difference
    from table_a, table_b
)
select
    row_count_diff.difference as row_count_difference,
    diff_count.num_missing as num_mismatched
from row_count_diff
join diff_count using (id)`;
}

type ColumnInfo = { column_name: string; data_type: string; character_maximum_length: number | null };

/** get_relation_columns: (column_name, data_type, character_maximum_length) from information_schema, by name. */
export async function relationColumns(db: AssertionContext['db'], schema: string, name: string): Promise<ColumnInfo[]> {
  const { rows } = await db.query<ColumnInfo>(
    `select column_name, data_type, character_maximum_length from information_schema.columns
      where table_schema = $1 and table_name = $2 order by ordinal_position`,
    [schema, name],
  );
  return rows
    .map((r) => ({
      column_name: r.column_name,
      data_type: r.data_type,
      character_maximum_length: r.character_maximum_length === null ? null : Number(r.character_maximum_length),
    }))
    .sort((x, y) => (x.column_name < y.column_name ? -1 : x.column_name > y.column_name ? 1 : 0));
}

/** How dbt-postgres lists a relation: "table" (pg_tables), "view" (pg_views), "materialized_view", or null. */
export async function relationType(db: AssertionContext['db'], schema: string, name: string): Promise<string | null> {
  const { rows } = await db.query<{ type: string }>(
    `select 'table' as type from pg_tables where schemaname = $1 and tablename = $2
     union all select 'view' from pg_views where schemaname = $1 and viewname = $2
     union all select 'materialized_view' from pg_matviews where schemaname = $1 and matviewname = $2`,
    [schema, name],
  );
  return rows[0]?.type ?? null;
}

const fmtColumn = (c: ColumnInfo) =>
  `${c.column_name} ${c.data_type}${c.character_maximum_length === null ? '' : `(${c.character_maximum_length})`}`;

async function checkRelationsEqual(ctx: AssertionContext, relations: string[]): Promise<string | null> {
  const [first, ...others] = relations;
  if (!first) return 'no relations named';
  const cols = await relationColumns(ctx.db, ctx.schema, first);
  if (cols.length === 0) return `relation ${first} not found in ${ctx.schema}`;
  const columns = comparedColumns(cols.map((c) => c.column_name));
  if (!columns) return `relation ${first} has no columns to compare (all start with dbt_)`;
  for (const other of others) {
    const { rows } = await ctx.db.query<{ row_count_difference: string; num_mismatched: string }>(
      columnsEqualSql(columns, relationSql(ctx.schema, first), relationSql(ctx.schema, other)),
    );
    if (rows.length !== 1) return `${first} vs ${other}: the comparison returned ${rows.length} rows`;
    const diff = Number(rows[0]!.row_count_difference);
    const mismatched = Number(rows[0]!.num_mismatched);
    if (diff !== 0 || mismatched !== 0)
      return `${first} vs ${other}: row count difference ${diff}, ${mismatched} mismatched rows (over ${columns})`;
  }
  return null;
}

async function checkColumnTypesEqual(ctx: AssertionContext, relations: string[]): Promise<string | null> {
  const [a, b] = relations;
  if (!a || !b) return 'expected two relations';
  const ca = await relationColumns(ctx.db, ctx.schema, a);
  const cb = await relationColumns(ctx.db, ctx.schema, b);
  if (ca.length === 0) return `relation ${a} not found in ${ctx.schema}`;
  if (cb.length === 0) return `relation ${b} not found in ${ctx.schema}`;
  const fa = ca.map(fmtColumn);
  const fb = cb.map(fmtColumn);
  if (JSON.stringify(fa) === JSON.stringify(fb)) return null;
  const i = fa.findIndex((x, k) => x !== fb[k]);
  const at = i === -1 ? fa.length : i;
  return `${a} [${fa.join(', ')}] differs from ${b} [${fb.join(', ')}] (first at ${fa[at] ?? 'end'} vs ${fb[at] ?? 'end'})`;
}

/** Raw text values, so timestamps are compared without a JavaScript Date in between. */
const textTypes = { getTypeParser: () => (v: string) => v } as never;

async function checkQueryValue(
  ctx: AssertionContext,
  a: Extract<Assertion, { kind: 'query_value' }>,
): Promise<string | null> {
  const res = await ctx.db.query({
    text: substitutePlaceholders(a.sql, ctx.schema, ctx.database),
    rowMode: 'array',
    types: textTypes,
  });
  const rows = res.rows as unknown as (string | null)[][];
  if (a.row >= rows.length) return `row ${a.row}: the query returned ${rows.length} rows`;
  const row = rows[a.row]!;
  if (a.column >= row.length) return `row ${a.row}: the query returned ${row.length} columns`;
  const why = compareQueryValue(row[a.column] ?? null, res.fields[a.column]?.dataTypeID ?? 0, a.equals, a.type);
  return why === null ? null : `row ${a.row} column ${a.column}: ${why}`;
}

function readFileOrWhy(file: string): string | { text: string } {
  try {
    return { text: fs.readFileSync(file, 'utf8') };
  } catch (e) {
    return `cannot read ${file}: ${(e as Error).message}`;
  }
}

/** Checks one assertion after a step; null when it holds. Database errors (a missing relation) fail it. */
export async function checkAssertion(
  a: Assertion,
  outcome: StepOutcome,
  ctx: AssertionContext,
): Promise<string | null> {
  const pure = checkOutcome(a, outcome);
  if (pure !== undefined)
    // a results check after an invocation that threw (step_fails holds then): say what it threw
    return pure === null || a.kind === 'step_succeeds' || !outcome.error
      ? pure
      : `${pure} (the invocation threw: ${short(outcome.error, 200)})`;
  try {
    switch (a.kind) {
      case 'relation_rows': {
        const { rows } = await ctx.db.query<{ n: string }>(
          `select count(*) as n from ${relationSql(ctx.schema, a.relation)}`,
        );
        const n = Number(rows[0]?.n);
        return n === a.equals ? null : `expected ${a.equals} rows, got ${n}`;
      }
      case 'relations_equal':
        return await checkRelationsEqual(ctx, a.relations);
      case 'relation_type': {
        const t = await relationType(ctx.db, ctx.schema, a.relation);
        if (t === null) return `expected a ${a.equals}, but ${ctx.schema}.${a.relation} does not exist`;
        return t === a.equals ? null : `expected ${a.equals}, got ${t}`;
      }
      case 'column_types_equal':
        return await checkColumnTypesEqual(ctx, a.relations);
      case 'snapshot_records_within': {
        const { rows } = await ctx.db.query<{ id: unknown; is_current: unknown }>(
          `select distinct id, dbt_valid_to is null as is_current from ${relationSql(ctx.schema, a.relation)}`,
        );
        const bad = unexpectedSnapshotPairs(rows, a.current_ids, a.closed_ids);
        return bad.length === 0
          ? null
          : `unexpected (id, is_current) records: ${bad.slice(0, 20).join(', ')}${bad.length > 20 ? ` (+${bad.length - 20})` : ''}`;
      }
      case 'query_value':
        return await checkQueryValue(ctx, a);
      case 'artifact_count': {
        const file = readFileOrWhy(path.join(ctx.projectDir, a.path));
        if (typeof file === 'string') return file;
        let doc: unknown;
        try {
          doc = JSON.parse(file.text);
        } catch (e) {
          return `${a.path} is not JSON: ${(e as Error).message}`;
        }
        const n = countArtifactEntries(doc, a.key);
        if (typeof n === 'string') return `${a.path}: ${n}`;
        return n === a.equals ? null : `expected ${a.equals} entries under "${a.key}", got ${n}`;
      }
      case 'file_exists':
        return fs.existsSync(path.join(ctx.projectDir, a.path)) ? null : `${a.path} does not exist`;
      case 'file_absent':
        return fs.existsSync(path.join(ctx.projectDir, a.path)) ? `${a.path} exists` : null;
      default:
        return `unknown assertion kind ${(a as { kind: string }).kind}`;
    }
  } catch (e) {
    return short((e as Error).message);
  }
}
