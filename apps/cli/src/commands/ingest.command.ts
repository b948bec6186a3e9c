import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { CatalogModule } from '@weir/catalog';
import { IngestionModule, RunsService, RunView } from '@weir/ingestion';
import { emit, say } from '../output';
import { withContext } from '../context';

function withIngestion<T>(worker: boolean, fn: (runs: RunsService) => Promise<T>): Promise<T> {
  return withContext({ modules: [CatalogModule, IngestionModule], roles: worker ? ['worker'] : [] }, (ctx) =>
    fn(ctx.get(RunsService)),
  );
}

export function formatRun(r: RunView): string {
  const lines = [
    `run ${r.id}  ${r.status.toUpperCase()}  (${r.trigger}, source ${r.sourceId})`,
    `  input      ${r.input.path ?? r.input.originalName ?? (r.input.replayOf ? `dead letters of ${r.input.replayOf}` : '-')}${r.input.bytes ? `, ${r.input.bytes} bytes` : ''}`,
    `  rows       read ${r.rowsRead} = loaded ${r.rowsLoaded} + rejected ${r.rowsRejected} + deduplicated ${r.rowsDeduplicated}`,
    `  timing     created ${r.createdAt}${r.durationMs !== null ? `, ${(r.durationMs / 1000).toFixed(2)} s` : ''}${r.rate ? `, ${r.rate} rows/s` : ''}`,
  ];
  if (r.columnsDiscarded) lines.push(`  discarded  ${JSON.stringify(r.columnsDiscarded)}`);
  if (r.watermarkAfter) lines.push(`  watermark  ${r.watermarkBefore ?? '-'} -> ${r.watermarkAfter}`);
  if (r.error) lines.push(`  error      ${r.error.code}: ${r.error.message}`);
  return lines.join('\n') + '\n';
}

export function ingestCommands(program: Command): void {
  program
    .command('load')
    .argument('[file]', 'a local file (csv, ndjson, json, parquet, or .gz of them); none for a database source')
    .requiredOption('--source <name>', 'the ingestion source (name or id) whose contract and strategy apply')
    .option('--key <idempotencyKey>', 'idempotency key (default: the file checksum)')
    .option('--json', 'print the run as JSON')
    .description(
      'load a local file (or, for a database source, its table or query) through a source, in this process; exit 1 when the run fails',
    )
    .action(async (file: string | undefined, opts: { source: string; key?: string; json?: boolean }) => {
      const abs = file === undefined ? undefined : path.resolve(file);
      if (abs !== undefined && (!fs.existsSync(abs) || !fs.statSync(abs).isFile()))
        throw new Error(`no such file: ${file}`);
      const run = await withIngestion(true, async (runs) => {
        const { run: queued, created } = await runs.trigger(opts.source, {
          trigger: 'cli',
          trustedPath: abs,
          idempotencyKey: opts.key,
          createdBy: 'cli',
        });
        if (!created)
          say(
            `this input was already loaded by run ${queued.id} (same idempotency key ${queued.idempotencyKey}); nothing loaded twice`,
          );
        return runs.waitFor(queued.id, 24 * 3600_000);
      });
      emit(opts.json, run, () => formatRun(run));
      if (run.status !== 'succeeded') process.exitCode = 1;
    });
}
