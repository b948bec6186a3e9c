import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { loadConfigOrExit, resolveDatabase, revertLastMigration, runMigrations, workspaceRoot } from '@weir/platform';
import { say } from '../output';

export function migrateCommands(program: Command): void {
  program
    .command('migrate')
    .description('apply pending migrations to DATABASE_URL (or the embedded PostgreSQL); --revert undoes the last one')
    .option('--revert', 'revert the last applied migration instead')
    .action(async (opts: { revert?: boolean }) => {
      const config = loadConfigOrExit();
      const db = await resolveDatabase(config, say);
      try {
        if (opts.revert) {
          const name = await revertLastMigration(db.url);
          say(name ? `reverted ${name}` : 'no migration to revert');
        } else {
          const { applied } = await runMigrations(db.url);
          say(applied.length ? `applied ${applied.length} migration(s):\n  ${applied.join('\n  ')}` : 'database schema is up to date');
        }
      } finally {
        await db.close();
      }
    });

  program
    .command('migrate:create')
    .argument('<name>', 'what the migration does, e.g. catalog-add-owner')
    .description('create an empty timestamped migration in migrations/')
    .action((name: string) => {
      const slug = name.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
      if (!slug) throw new Error('migration name must contain letters or digits');
      const ts = Date.now();
      const className = slug.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('') + ts;
      const file = path.join(workspaceRoot(), 'migrations', `${ts}-${slug}.ts`);
      fs.writeFileSync(
        file,
        `import { MigrationInterface, QueryRunner } from 'typeorm';\n\n` +
          `export class ${className} implements MigrationInterface {\n  name = '${className}';\n\n` +
          `  async up(q: QueryRunner): Promise<void> {\n    await q.query(\`\`);\n  }\n\n` +
          `  async down(q: QueryRunner): Promise<void> {\n    await q.query(\`\`);\n  }\n}\n`,
      );
      say(`created ${path.relative(process.cwd(), file)}`);
    });
}
