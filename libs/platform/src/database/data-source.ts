import * as path from 'node:path';
import { DataSource, DataSourceOptions, MixedList, EntitySchema } from 'typeorm';
import { workspaceRoot } from './workspace-root';

/** Name of the table TypeORM records applied migrations in (schema `public`). */
export const MIGRATIONS_TABLE = 'migrations';

/** True when this code runs compiled (from dist/, `npm start`), false when run as TypeScript. */
const COMPILED = __filename.endsWith('.js');

/**
 * Where migrations live: `migrations/` at the repository root, one timestamped file per change
 * (their compiled copies in `dist/migrations/` when the service runs compiled).
 */
export function migrationsGlob(root: string = workspaceRoot()): string {
  const dir = COMPILED ? path.join(root, 'dist', 'migrations', '*.js') : path.join(root, 'migrations', '*.ts');
  return dir.split(path.sep).join('/');
}

/**
 * TypeORM options for the control plane. `synchronize` is never on: the schema changes only
 * through migrations.
 */
export function controlPlaneOptions(
  url: string,
  extra: { entities?: MixedList<Function | string | EntitySchema>; root?: string; applicationName?: string } = {},
): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: extra.entities ?? [],
    migrations: [migrationsGlob(extra.root)],
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    uuidExtension: 'pgcrypto',
    applicationName: extra.applicationName ?? 'weir',
    logging: ['error'],
    extra: { max: 10 },
  };
}

/** Result of {@link runMigrations}. */
export interface MigrationReport {
  applied: string[];
}

/** Applies pending migrations, each in its own transaction; returns the names applied. */
export async function runMigrations(url: string, root?: string): Promise<MigrationReport> {
  const ds = new DataSource({ ...controlPlaneOptions(url, { root, applicationName: 'weir-migrate' }), logging: false });
  await ds.initialize();
  try {
    const done = await ds.runMigrations({ transaction: 'each' });
    return { applied: done.map((m) => m.name) };
  } finally {
    await ds.destroy();
  }
}

/** Reverts the last applied migration; returns its name, or undefined when none was applied. */
export async function revertLastMigration(url: string, root?: string): Promise<string | undefined> {
  const ds = new DataSource({ ...controlPlaneOptions(url, { root, applicationName: 'weir-migrate' }), logging: false });
  await ds.initialize();
  try {
    const before = await ds.query(`SELECT name FROM "${MIGRATIONS_TABLE}" ORDER BY id DESC LIMIT 1`).catch(() => []);
    if (before.length === 0) return undefined;
    await ds.undoLastMigration({ transaction: 'each' });
    return before[0].name as string;
  } finally {
    await ds.destroy();
  }
}
