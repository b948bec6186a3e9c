/**
 * The `weir` commands the crash soak runs in its children (load, project import, build, pipelines
 * run), the CLI's own code compiled to dist/ by tools/build.js, so a child starts without a
 * TypeScript compiler in the process (the whole CLI needs tools/src, which dist/ does not hold):
 * `node -r reflect-metadata dist/apps/cli/src/soak-main.js <command> …`.
 */
import 'reflect-metadata';
import { Command } from 'commander';
import { DomainError } from '@weir/platform';
import { ingestCommands } from './commands/ingest.command';
import { modelingCommands } from './commands/modeling.command';
import { pipelineCommands } from './commands/pipelines.command';

const program = new Command('weir').showHelpAfterError();
ingestCommands(program);
modelingCommands(program);
pipelineCommands(program);
program.parseAsync(process.argv).catch((e: unknown) => {
  const msg = e instanceof DomainError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
  process.stderr.write(`weir: ${msg}\n`);
  process.exit(1);
});
