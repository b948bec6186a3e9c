import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import * as readline from 'node:readline/promises';
import { Client } from 'pg';
import {
  loadConfigOrExit,
  MIGRATIONS_TABLE,
  PRESENCE_LOCK_SQL,
  presenceHolders,
  resolveDatabase,
  revertLastMigration,
  runMigrations,
  workspaceRoot,
} from '@weir/platform';
import { say } from '../output';
import { auditWith } from '../audit';

export function migrateCommands(program: Command): void {
  program
    .command('migrate')
    .description('apply pending migrations to DATABASE_URL (or the embedded PostgreSQL); --revert undoes the last one')
    .option('--revert', 'revert the last applied migration instead (refused while a Weir process uses the database)')
    .option('--force', 'with --revert: go on although Weir processes use the database')
    .option('--yes', 'with --revert: do not ask on a terminal')
    .action(async (opts: { revert?: boolean; force?: boolean; yes?: boolean }) => {
      const config = loadConfigOrExit();
      const db = await resolveDatabase(config, say);
      try {
        try {
          if (opts.revert) {
            process.exitCode = await revert(db.url, opts);
          } else {
            const { applied } = await runMigrations(db.url);
            say(
              applied.length
                ? `applied ${applied.length} migration(s):\n  ${applied.join('\n  ')}`
                : 'database schema is up to date',
            );
          }
        } catch (e) {
          await auditWith(db.url, e);
          throw e;
        }
        await auditWith(db.url);
      } finally {
        await db.close();
      }
    });

  program
    .command('migrate:create')
    .argument('<name>', 'what the migration does, e.g. catalog-add-owner')
    .description('create an empty timestamped migration in migrations/')
    .action((name: string) => {
      const slug = name
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '');
      if (!slug) throw new Error('migration name must contain letters or digits');
      const ts = Date.now();
      const className =
        slug
          .split('-')
          .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
          .join('') + ts;
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

/**
 * `migrate --revert`: names the migration it would revert; refuses (exit 1) while another Weir
 * process holds the presence lock, unless --force; asks on a terminal unless --yes. While it
 * reverts it holds the lock alone, so a Weir process starting meanwhile waits for it.
 */
async function revert(url: string, opts: { force?: boolean; yes?: boolean }): Promise<number> {
  const c = new Client({ connectionString: url, application_name: 'weir-migrate' });
  await c.connect();
  try {
    const last = (
      await c
        .query(`SELECT name FROM "${MIGRATIONS_TABLE}" ORDER BY id DESC LIMIT 1`)
        .catch(() => ({ rows: [] as { name: string }[] }))
    ).rows[0]?.name as string | undefined;
    if (!last) {
      say('no migration to revert');
      return 0;
    }
    const alone = (await c.query(`SELECT pg_try_advisory_lock(${PRESENCE_LOCK_SQL}) AS ok`)).rows[0].ok === true;
    if (!alone) {
      const holders = await presenceHolders(c);
      const who = holders
        .map(
          (h) =>
            `  pid ${h.pid} ${h.applicationName || '(unnamed)'}${h.clientAddr ? ` from ${h.clientAddr}` : ''}, connected since ${h.since}`,
        )
        .join('\n');
      if (!opts.force) {
        say(
          `weir: refusing to revert ${last}: ${holders.length || 'a'} Weir process(es) use this database:\n${who}\nStop them first, or pass --force to revert under them (they will fail on the reverted schema).`,
        );
        return 1;
      }
      say(`weir: --force: reverting ${last} while ${holders.length} Weir process(es) use this database:\n${who}`);
    }
    if (process.stdin.isTTY && process.stderr.isTTY && !opts.yes) {
      const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question(
        `Revert migration ${last}? This undoes its schema change and may drop data. [y/N] `,
      );
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) {
        say('nothing reverted');
        return 1;
      }
    }
    const name = await revertLastMigration(url);
    say(name ? `reverted ${name}` : 'no migration to revert');
    return 0;
  } finally {
    await c.end().catch(() => undefined);
  }
}
