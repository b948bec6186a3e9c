import { Client } from 'pg';
import { randomBytes } from 'node:crypto';
import { DataSource, getMetadataArgsStorage } from 'typeorm';
import { controlPlaneOptions, runMigrations } from '@weir/platform';

/** What applying every migration to an empty database produced. */
export interface MigrationProbe {
  /** `schema.table` of every base table after the migrations ran. */
  tables: Set<string>;
  /** SQL TypeORM would still run to match the entities: empty when migrations and entities agree. */
  driftQueries: string[];
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** Loads entity classes from files (TypeScript is compiled by the caller's loader: swc-node or jest). */
export function loadEntityClasses(files: string[]): Function[] {
  const classes = new Set<Function>();
  for (const f of files) {
    const mod = require(f) as Record<string, unknown>;
    for (const v of Object.values(mod)) if (typeof v === 'function') classes.add(v);
  }
  const entityTargets = new Set(getMetadataArgsStorage().tables.map((t) => t.target));
  return [...classes].filter((c) => entityTargets.has(c));
}

/**
 * Applies the workspace's migrations to a throwaway database on `serverUrl`, lists the tables
 * they created and asks TypeORM which statements would make the schema match `entityFiles`.
 */
export async function probeMigrations(root: string, serverUrl: string, entityFiles: string[]): Promise<MigrationProbe> {
  const name = `weir_registry_check_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = withDatabase(serverUrl, name);
  try {
    await runMigrations(url, root);
    const c = new Client({ connectionString: url });
    await c.connect();
    const rows = (
      await c.query(
        `SELECT table_schema, table_name FROM information_schema.tables
          WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
      )
    ).rows as { table_schema: string; table_name: string }[];
    await c.end();
    const entities = loadEntityClasses(entityFiles);
    const ds = new DataSource({
      ...controlPlaneOptions(url, { root, entities, applicationName: 'weir-registry-check' }),
      logging: false,
    });
    await ds.initialize();
    let driftQueries: string[];
    try {
      const sql = await ds.driver.createSchemaBuilder().log();
      driftQueries = sql.upQueries.map((q) => q.query);
    } finally {
      await ds.destroy();
    }
    return { tables: new Set(rows.map((r) => `${r.table_schema}.${r.table_name}`)), driftQueries };
  } finally {
    const c = new Client({ connectionString: serverUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await c.end();
  }
}
