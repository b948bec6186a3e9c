import * as path from 'node:path';
import { Command } from 'commander';
import { loadConfigOrExit, resolveDatabase } from '@weir/platform';
import { invokeDbt, modelingConfig, resolveTarget } from '@weir/modeling';
import { say } from '../output';
import { auditWith } from '../audit';

/**
 * `weir dbt <command> [dbt flags]`: dbt's commands on a project folder, with dbt's semantics and
 * output, in Weir's warehouse (the embedded PostgreSQL or DATABASE_URL / WEIR_WAREHOUSE_URL).
 * Exit code 0 on success, 1 when a node failed, 2 when the invocation could not run.
 */
export function dbtCommands(program: Command): void {
  program
    .command('dbt')
    .description(
      'run dbt commands (seed, run, test, snapshot, build, compile, ls, run-operation, docs generate, parse, debug) on a dbt project folder',
    )
    .argument('<args...>', 'dbt arguments, e.g. build --select +orders --full-refresh')
    .allowUnknownOption()
    .helpOption(false)
    .addHelpText(
      'after',
      '\nFlags: --project-dir <dir> (default .), --target/-t, --profiles-dir, --select/-s/-m, --exclude, --full-refresh,\n' +
        "--vars '<yaml>', --fail-fast/-x, --state <dir>, --store-failures, --target-schema <schema> (default: the\n" +
        "profile target's schema, else analytics). Artifacts go to <project>/target/.",
    )
    .action(async (args: string[]) => {
      const flag = (name: string) => {
        const i = args.indexOf(name);
        return i >= 0 && i + 1 < args.length ? args[i + 1] : undefined;
      };
      const projectDir = path.resolve(flag('--project-dir') ?? '.');
      const schemaOverride = flag('--target-schema');
      const dbtArgs = args.filter((a, i) => a !== '--target-schema' && args[i - 1] !== '--target-schema');
      const config = loadConfigOrExit();
      const modeling = modelingConfig(config);
      const db = await resolveDatabase(config, say);
      try {
        const database = new URL(db.warehouseUrl).pathname.replace(/^\//, '') || 'postgres';
        const target = resolveTarget({
          projectDir,
          database,
          target: flag('--target') ?? flag('-t'),
          profilesDir: flag('--profiles-dir'),
          envProfilesDir: modeling.dbtProfilesDir,
          defaultSchema: 'analytics',
        });
        if (schemaOverride) target.schema = schemaOverride;
        const r = await invokeDbt({
          projectDir,
          args: dbtArgs,
          connectionString: db.warehouseUrl,
          target,
          env: { ...modeling.templateEnv },
          log: (line) => process.stdout.write(`${line}\n`),
        });
        if (!r.success) process.exitCode = r.error && !r.results.length ? 2 : 1;
        await auditWith(db.url);
      } catch (e) {
        await auditWith(db.url, e);
        throw e;
      } finally {
        await db.close();
      }
    });
}
