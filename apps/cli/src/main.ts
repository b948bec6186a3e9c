import { Command } from 'commander';
import { DomainError } from '@weir/platform';
import { migrateCommands } from './commands/migrate.command';
import { registryCommands } from './commands/registry.command';
import { keysCommands } from './commands/keys.command';
import { ingestCommands } from './commands/ingest.command';
import { modelingCommands } from './commands/modeling.command';
import { lineageCommands } from './commands/lineage.command';
import { retentionCommands } from './commands/retention.command';
import { pipelineCommands, runsCommands } from './commands/pipelines.command';
import { dbtCommands } from './commands/dbt.command';
import { setVerbose } from './output';
import { beginCommand } from './audit';

/** Builds the `weir` program (exported for tests). */
export function buildProgram(): Command {
  const program = new Command('weir')
    .description('Weir: ingest, model, check and trace data on PostgreSQL')
    .version('0.1.0')
    .showHelpAfterError()
    .option('-v, --verbose', 'log progress (info) on stderr too; default: warnings and errors only')
    .hook('preAction', (cmd, action) => {
      setVerbose(!!cmd.opts()['verbose']);
      beginCommand(action);
    })
    .addHelpText(
      'after',
      '\nConfiguration comes from the environment (DATABASE_URL, WEIR_DATA_DIR, ...); see README.md.\n' +
        'Without DATABASE_URL, commands use the embedded PostgreSQL in $WEIR_DATA_DIR/pg (default .weir/pg).',
    );
  migrateCommands(program);
  registryCommands(program);
  keysCommands(program);
  ingestCommands(program);
  modelingCommands(program);
  lineageCommands(program);
  retentionCommands(program);
  pipelineCommands(program);
  runsCommands(program);
  dbtCommands(program);
  return program;
}

if (require.main === module || process.argv[1]?.endsWith('weir.js') || process.argv[1]?.endsWith('weir')) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((e: unknown) => {
      const msg = e instanceof DomainError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
      process.stderr.write(`weir: ${msg}\n`);
      process.exit(1);
    });
}
