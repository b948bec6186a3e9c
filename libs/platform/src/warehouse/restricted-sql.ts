import { CONTROL_PLANE_RELATIONS, CONTROL_PLANE_SCHEMAS, isControlPlaneSchema, READER_ROLE } from './control-plane';
import { ControlPlaneSchemaError, WriterNotGrantedError } from '../errors/platform.errors';

/**
 * SQL a user wrote (a model, a custom_sql check, a row_condition) runs through two SECURITY
 * DEFINER functions made by migration 1763900000000-warehouse-writer-role:
 * `platform.weir_read(query)`, owned by `weir_reader`, and `platform.weir_write(statement)`,
 * owned by `weir_writer`. Inside them the SQL has the privileges of that role only, and
 * PostgreSQL refuses any change of role (`SET ROLE`, `set_config('role', …)`), which a plain
 * `SET ROLE` cannot prevent: there, the session's own role stays one function call away.
 */
export const WRITER_ROLE = 'weir_writer';

// node-pg's own conversion of a parameter to its text form (arrays, dates, buffers, JSON), untyped upstream
const { prepareValue } = require('pg/lib/utils') as { prepareValue: (v: unknown) => unknown };

type Queryable = {
  query: (sql: string, params?: unknown[]) => Promise<{ rows: Record<string, unknown>[]; rowCount?: number | null }>;
};

/** Whether a role and its function can be used by this session; cached per process. */
const usable = new Map<string, Promise<boolean>>();
const warned = new Set<string>();

async function canUse(client: Queryable, role: string, fn: string, warn: (m: string) => void): Promise<boolean> {
  let p = usable.get(fn);
  if (!p) {
    p = client
      .query(
        `SELECT to_regrole($1) IS NOT NULL AND pg_has_role(current_user, $1, 'MEMBER')
                AND to_regprocedure($2) IS NOT NULL AND has_function_privilege(to_regprocedure($2), 'EXECUTE') AS ok`,
        [role, `${fn}(text)`],
      )
      .then((r) => r.rows[0]['ok'] === true);
    usable.set(fn, p);
    // a failed look-up (a broken connection) is asked again next time
    p.catch(() => usable.delete(fn));
  }
  const ok = await p;
  if (!ok && !warned.has(fn)) {
    warned.add(fn);
    warn(
      `the role ${role} or ${fn} is missing (the migrations ran without CREATEROLE?): SQL written by users runs with the service's own privileges`,
    );
  }
  return ok;
}

/** Forgets what {@link canUse} learnt (tests that drop and re-create the roles). */
export function forgetRoleCache(): void {
  usable.clear();
  warned.clear();
}

/**
 * Runs a query a user's SQL is part of as `weir_reader`, through `platform.weir_read`, and
 * returns its rows as JSON values (numbers as numbers, timestamps in ISO 8601 as PostgreSQL's
 * `to_json` writes them). `$n` parameters are inlined as quoted literals, which PostgreSQL types
 * exactly as it types an untyped parameter. One statement only: the query is wrapped in a
 * sub-select. Falls back to a direct query, with a warning, when the role is missing.
 */
export async function readAsReader(
  client: Queryable,
  text: string,
  values: unknown[] = [],
  warn: (m: string) => void = () => undefined,
): Promise<Record<string, unknown>[]> {
  if (!(await canUse(client, READER_ROLE, 'platform.weir_read', warn))) return (await client.query(text, values)).rows;
  const r = await client.query(`SELECT platform.weir_read($1) AS r`, [inlineParameters(text, values)]);
  return r.rows[0]['r'] as Record<string, unknown>[];
}

/**
 * Runs one statement a user's SQL is part of (a model's CREATE … AS, an incremental's staging
 * table) as `weir_writer`, through `platform.weir_write`. What it creates is owned by the writer;
 * it cannot reach Weir's own schemas or the server's files. Returns the statement's row count.
 */
export async function writeAsWriter(
  client: Queryable,
  statement: string,
  warn: (m: string) => void = () => undefined,
): Promise<number> {
  if (!(await canUse(client, WRITER_ROLE, 'platform.weir_write', warn)))
    return (await client.query(statement)).rowCount ?? 0;
  const r = await client.query(`SELECT platform.weir_write($1) AS n`, [statement]);
  return Number(r.rows[0]['n'] ?? 0);
}

/**
 * Lets the writer create relations in `schema` (USAGE and CREATE) and, with `readDataPlane` (a
 * model's SQL may name any table, not only its `ref`s and `source`s), read the data plane: USAGE
 * on every data-plane schema and SELECT on every relation in them, granted by the service's role
 * where missing (schemas and tables made outside Weir, or before the writer existed). A load reads
 * no other table and skips that scan. Control-plane and system schemas are never granted; `schema`
 * itself is refused in SQL too when it is one of them.
 */
export async function prepareWriter(
  client: Queryable,
  schema: string,
  warn: (m: string) => void = () => undefined,
  readDataPlane = true,
): Promise<void> {
  if (!(await canUse(client, WRITER_ROLE, 'platform.weir_write', warn))) return;
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  if (isControlPlaneSchema(schema))
    throw new ControlPlaneSchemaError(`schema ${schema} holds Weir's or PostgreSQL's own state`, { schema });
  const p = (
    await client.query(
      `SELECT has_schema_privilege($1, n.oid, 'USAGE') AND has_schema_privilege($1, n.oid, 'CREATE') AS ok FROM pg_namespace n WHERE nspname = $2`,
      [WRITER_ROLE, schema],
    )
  ).rows[0];
  if (p && p['ok'] !== true)
    await grantOnce(client, `GRANT USAGE, CREATE ON SCHEMA ${q(schema)} TO ${WRITER_ROLE}`, `schema ${schema}`);
  if (!readDataPlane) return;
  const missing = (
    await client.query(
      `SELECT n.nspname AS s, c.relname AS t, has_schema_privilege($1, n.oid, 'USAGE') AS usage
         FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                                                 AND NOT has_table_privilege($1, c.oid, 'SELECT')
                                                 AND NOT (n.nspname || '.' || c.relname = ANY($3::text[]))
        WHERE NOT (n.nspname = ANY($2::text[])) AND n.nspname NOT LIKE 'pg\\_%'
          AND (c.oid IS NOT NULL OR NOT has_schema_privilege($1, n.oid, 'USAGE'))`,
      [WRITER_ROLE, [...CONTROL_PLANE_SCHEMAS], [...CONTROL_PLANE_RELATIONS]],
    )
  ).rows as { s: string; t: string | null; usage: boolean }[];
  const schemas = [...new Set(missing.filter((m) => !m.usage).map((m) => m.s))];
  const tables = missing.filter((m) => m.t !== null).map((m) => `${q(m.s)}.${q(m.t!)}`);
  // a role that does not own a schema or table only gets a warning from PostgreSQL here: the
  // model that reads it then fails with "permission denied", naming it
  if (schemas.length)
    await grantOnce(
      client,
      `GRANT USAGE ON SCHEMA ${schemas.map(q).join(', ')} TO ${WRITER_ROLE}`,
      `schemas ${schemas.join(', ')}`,
    );
  for (let i = 0; i < tables.length; i += 500)
    await grantOnce(
      client,
      `GRANT SELECT ON ${tables.slice(i, i + 500).join(', ')} TO ${WRITER_ROLE}`,
      'the data plane',
    );
}

async function grantOnce(client: Queryable, sql: string, what: string): Promise<void> {
  try {
    await client.query(sql);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (/tuple concurrently updated/.test((e as Error).message)) return void (await client.query(sql));
    if (code === '42501') {
      throw new WriterNotGrantedError(
        `Weir writes as the role ${WRITER_ROLE}, and its own role may not grant it the use of ${what} (${(e as Error).message}); its owner can: ${sql}`,
      );
    }
    throw e;
  }
}

/**
 * Replaces the `$n` placeholders of `text` by `values` as quoted literals, outside string
 * literals, quoted identifiers, dollar-quoted strings and comments. A quoted literal without a
 * type is resolved by PostgreSQL as an untyped parameter is; NULL stays NULL.
 */
export function inlineParameters(text: string, values: readonly unknown[]): string {
  if (values.length === 0) return text;
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    const next = text[i + 1];
    let end = i + 1;
    if (c === "'" || c === '"') {
      // '…' with '' inside (E'…' also with backslash escapes), "…" with "" inside
      const escapes = c === "'" && i > 0 && /[eE]/.test(text[i - 1]) && !/[A-Za-z0-9_$]/.test(text[i - 2] ?? '');
      end = i + 1;
      while (end < n) {
        if (escapes && text[end] === '\\') end += 2;
        else if (text[end] === c && text[end + 1] === c) end += 2;
        else if (text[end] === c) break;
        else end++;
      }
      end = Math.min(n, end + 1);
    } else if (c === '-' && next === '-') {
      end = text.indexOf('\n', i);
      end = end < 0 ? n : end;
    } else if (c === '/' && next === '*') {
      // nested block comments, as PostgreSQL reads them
      let depth = 1;
      end = i + 2;
      while (end < n && depth > 0) {
        if (text[end] === '/' && text[end + 1] === '*') {
          depth++;
          end += 2;
        } else if (text[end] === '*' && text[end + 1] === '/') {
          depth--;
          end += 2;
        } else end++;
      }
    } else if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i));
      const param = /^\$(\d+)/.exec(text.slice(i));
      if (param && !(i > 0 && /[A-Za-z0-9_$]/.test(text[i - 1]))) {
        const k = Number(param[1]);
        if (k < 1 || k > values.length)
          throw new Error(`inlineParameters: $${k} has no value (${values.length} given)`);
        out += literal(values[k - 1]);
        i += param[0].length;
        continue;
      }
      if (tag && !(i > 0 && /[A-Za-z0-9_]/.test(text[i - 1]))) {
        const close = text.indexOf(tag[0], i + tag[0].length);
        end = close < 0 ? n : close + tag[0].length;
      }
    }
    out += text.slice(i, end);
    i = end;
  }
  return out;
}

function literal(v: unknown): string {
  const p = prepareValue(v) as string | Buffer | null;
  if (p === null || p === undefined) return 'NULL';
  if (Buffer.isBuffer(p)) return `'\\x${p.toString('hex')}'`;
  return `'${String(p).replace(/'/g, "''")}'`;
}

/**
 * A load's connection: from here on its statements run as the writer (`SET ROLE`, for the
 * session), until {@link leaveWriter}. Loads run no SQL written by a user (values travel as COPY
 * data), so a plain SET ROLE is enough there: it stops a load whose name check failed from
 * reaching Weir's own tables. Returns false (and warns once) when the role is missing.
 */
export async function enterWriter(client: Queryable, warn: (m: string) => void = () => undefined): Promise<boolean> {
  if (!(await canUse(client, WRITER_ROLE, 'platform.weir_write', warn))) return false;
  await client.query(`SET ROLE ${WRITER_ROLE}`);
  return true;
}

/** Back to the service's role (before bookkeeping in Weir's own tables, and before release). */
export async function leaveWriter(client: Queryable): Promise<void> {
  await client.query('RESET ROLE');
}

/**
 * Lets the writer load into `schema`.`table` when it exists and the writer does not own it (a
 * table made outside Weir, or before the writer existed): SELECT, INSERT, UPDATE, DELETE and
 * TRUNCATE, granted by the service's role. The relation is looked up by the database and
 * refused when it lies in a control-plane schema, whatever name reached here. Returns whether
 * the writer owns it (only an owner may swap it for a new table).
 */
export async function grantLoadTarget(
  client: Queryable,
  schema: string,
  table: string,
): Promise<{ exists: boolean; owned: boolean }> {
  const rel = `"${schema.replace(/"/g, '""')}"."${table.replace(/"/g, '""')}"`;
  const r = (
    await client.query(
      `SELECT n.nspname AS schema, pg_has_role($1, c.relowner, 'USAGE') AS owned,
              (SELECT bool_and(has_table_privilege($1, c.oid, p)) FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p) AS dml
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($2)`,
      [WRITER_ROLE, rel],
    )
  ).rows[0];
  if (!r) return { exists: false, owned: false };
  if (isControlPlaneSchema(String(r['schema'])))
    throw new ControlPlaneSchemaError(
      `${schema}.${table} lies in schema ${r['schema']}, which holds Weir's or PostgreSQL's own state`,
      { schema: r['schema'] },
    );
  if (r['dml'] !== true && r['owned'] !== true)
    await grantOnce(
      client,
      `GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ${rel} TO ${WRITER_ROLE}`,
      `${schema}.${table}`,
    );
  return { exists: true, owned: r['owned'] === true };
}
