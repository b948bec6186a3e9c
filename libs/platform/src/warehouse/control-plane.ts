import { ControlPlaneSchemaError } from '../errors/platform.errors';

/**
 * Schemas holding Weir's own state (one per slice, see .ai/project/DOMAIN_REGISTRY.yaml) and
 * PostgreSQL's catalogs. Nothing made or read on behalf of a request may name them: datasets,
 * models, seeds, snapshots, suite targets and referenced tables live in data-plane schemas.
 */
export const CONTROL_PLANE_SCHEMAS: readonly string[] = [
  'platform',
  'catalog',
  'ingestion',
  'quality',
  'modeling',
  'lineage',
  'orchestration',
  'information_schema',
];
/** Relations of Weir's outside its schemas: the migrations table TypeORM keeps in `public`. */
export const CONTROL_PLANE_RELATIONS: readonly string[] = ['public.migrations'];

/** True when `schema` (any letter case) is a control-plane or system schema. */
export function isControlPlaneSchema(schema: string): boolean {
  const s = schema
    .trim()
    .replace(/^"(.*)"$/, '$1')
    .toLowerCase();
  return CONTROL_PLANE_SCHEMAS.includes(s) || s.startsWith('pg_');
}

/**
 * Refuses (403 `PLATFORM.CONTROL_PLANE_SCHEMA`) a schema, or schema.table, that belongs to Weir's
 * control plane or to PostgreSQL, whatever its letter case or quoting. `what` says what named it.
 */
export function assertDataPlane(schema: string, table: string | undefined, what: string): void {
  const s = schema.trim().replace(/^"(.*)"$/, '$1');
  const t = table?.trim().replace(/^"(.*)"$/, '$1');
  if (isControlPlaneSchema(s) || (t !== undefined && CONTROL_PLANE_RELATIONS.includes(`${s}.${t}`.toLowerCase()))) {
    throw new ControlPlaneSchemaError(
      `${what} may not name ${t !== undefined ? `${s}.${t}` : `schema ${s}`}: ${CONTROL_PLANE_SCHEMAS.join(', ')}, pg_* and public.migrations hold Weir's and PostgreSQL's own state; use a data schema (raw, staging, analytics, …)`,
      { schema: s },
    );
  }
}

/** The role checks and previews read as (created by a migration; see 1763870000000-warehouse-reader-role). */
export const READER_ROLE = 'weir_reader';

type Queryable = { query: (sql: string, params?: unknown[]) => Promise<{ rows: Record<string, unknown>[] }> };
let readerMissingWarned = false;

/**
 * Before a read-only transaction on `client`: makes sure the reader role may read `relations` (USAGE
 * on their schemas, SELECT on the tables, granted by the service's role when missing: schemas and
 * tables made outside Weir) and says whether the role can be used. Refuses control-plane relations.
 */
export async function prepareReader(
  client: Queryable,
  relations: { schema: string; table: string }[],
  warn: (m: string) => void = () => undefined,
): Promise<boolean> {
  for (const r of relations) assertDataPlane(r.schema, r.table, 'A check');
  const ok =
    (
      await client.query(`SELECT to_regrole($1) IS NOT NULL AND pg_has_role(current_user, $1, 'MEMBER') AS ok`, [
        READER_ROLE,
      ])
    ).rows[0]['ok'] === true;
  if (!ok) {
    if (!readerMissingWarned)
      warn(
        `the role ${READER_ROLE} is missing or not granted to ${'the service'}: checks and previews run with the service's own privileges (run the migrations as a role with CREATEROLE)`,
      );
    readerMissingWarned = true;
    return false;
  }
  for (const r of relations) {
    const rel = `"${r.schema.replace(/"/g, '""')}"."${r.table.replace(/"/g, '""')}"`;
    const p = (
      await client.query(
        `SELECT has_schema_privilege($1, n.oid, 'USAGE') AS usage, has_table_privilege($1, c.oid, 'SELECT') AS sel
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($2)`,
        [READER_ROLE, rel],
      )
    ).rows[0];
    if (!p) continue; // no such table: the caller says so
    // two checks granting at once may collide ("tuple concurrently updated"): the winner's grant is as good
    if (p['usage'] !== true)
      await grant(client, `GRANT USAGE ON SCHEMA "${r.schema.replace(/"/g, '""')}" TO ${READER_ROLE}`);
    if (p['sel'] !== true) await grant(client, `GRANT SELECT ON ${rel} TO ${READER_ROLE}`);
  }
  return true;
}

async function grant(client: Queryable, sql: string): Promise<void> {
  try {
    await client.query(sql);
  } catch (e) {
    if (!/tuple concurrently updated/.test((e as Error).message)) throw e;
    await client.query(sql);
  }
}
