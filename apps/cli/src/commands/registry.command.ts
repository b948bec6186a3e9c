import * as path from 'node:path';
import { Command } from 'commander';
import { freePort, startEmbeddedPostgres, workspaceRoot } from '@weir/platform';
import { checkRegistry } from '@weir/tools';
import { say } from '../output';

export function registryCommands(program: Command): void {
  const registry = program.command('registry').description('the domain and port registries (.ai/project)');
  registry
    .command('check')
    .description('check that the registries, libs, entities, migrations, imports, ports, barrels and routes agree')
    .option('--root <dir>', 'workspace to check', workspaceRoot())
    .option('--no-db', 'skip the migration checks (they need a PostgreSQL server)')
    .action(async (opts: { root: string; db: boolean }) => {
      const root = path.resolve(opts.root);
      let serverUrl = process.env['TEST_DATABASE_URL'] || process.env['DATABASE_URL'];
      let stop: (() => Promise<void>) | undefined;
      if (opts.db && !serverUrl) {
        const dir = path.join(require('node:os').tmpdir(), `weir-registry-check-${process.pid}`);
        const pg = await startEmbeddedPostgres({
          dataDir: path.join(dir, 'pg'),
          port: await freePort(),
          ephemeral: true,
        });
        serverUrl = pg.url;
        stop = async () => {
          await pg.stop();
          require('node:fs').rmSync(dir, { recursive: true, force: true });
        };
      }
      try {
        const findings = await checkRegistry({ root, databaseUrl: serverUrl, skipDatabase: !opts.db });
        if (!opts.db) say('registry check: migration checks skipped (--no-db)');
        if (findings.length === 0) {
          say(
            'registry check: ok (libs, entities, migrations, imports, ports, barrels, routes agree with .ai/project)',
          );
          return;
        }
        for (const f of findings) say(`registry check [${f.check}]: ${f.message}`);
        say(`registry check: ${findings.length} problem(s)`);
        process.exitCode = 1;
      } finally {
        await stop?.();
      }
    });
}
