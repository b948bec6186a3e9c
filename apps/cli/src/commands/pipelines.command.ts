import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { parse } from 'yaml';
import { CatalogModule } from '@weir/catalog';
import { QualityModule } from '@weir/quality';
import { IngestionModule } from '@weir/ingestion';
import { ModelingModule } from '@weir/modeling';
import { OrchestrationModule, PipelineRunsService, PipelineRunView, PipelinesService } from '@weir/orchestration';
import { withContext } from '../context';
import { RunsService } from '@weir/ingestion';
import { formatRun } from './ingest.command';
import { emit, say } from '../output';

const modules = [CatalogModule, QualityModule, IngestionModule, ModelingModule, OrchestrationModule];

/** A file as people typed it: relative to the working folder when inside it, else absolute. */
function shown(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

/** The YAML files of pipelines: `<dir>/pipelines/*.yml|yaml`, or the `.yml` files of `<dir>` itself, or one file. */
export function pipelineFiles(target: string): string[] {
  const abs = path.resolve(target);
  if (fs.statSync(abs).isFile()) return [abs];
  const dir = fs.existsSync(path.join(abs, 'pipelines')) ? path.join(abs, 'pipelines') : abs;
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

export function formatPipelineRun(r: PipelineRunView): string {
  const head = `run ${r.id} of ${r.pipeline} v${r.version}: ${r.status}${r.partition ? ` (partition ${r.partition})` : ''}${r.error ? `: ${r.error}` : ''}\n`;
  return (
    head +
    (r.steps ?? [])
      .map(
        (s) =>
          `  ${s.status.padEnd(9)} ${s.step} (${s.kind}) attempt ${s.attempt}/${s.maxAttempts}${s.durationMs !== null ? ` ${s.durationMs} ms` : ''}${s.error ? `  ${s.error.code ? `${s.error.code}: ` : ''}${s.error.message}` : ''}\n`,
      )
      .join('')
  );
}

/** `weir runs …`: ingestion runs and pipeline runs. */
export function runsCommands(program: Command): void {
  const runsCmd = program.command('runs').description('ingestion runs and pipeline runs');
  runsCmd
    .command('show')
    .argument('<id>', 'an ingestion run or a pipeline run')
    .option('--json', 'print as JSON')
    .description(
      'show a run: an ingestion run (status, row accounting, timing, error) or a pipeline run with its steps',
    )
    .action(async (id: string, opts: { json?: boolean }) => {
      const found = await withContext({ modules }, async (ctx) => {
        try {
          return { ingestion: await ctx.get(RunsService).get(id) };
        } catch (e) {
          if ((e as { code?: string }).code !== 'INGESTION.RUN_NOT_FOUND') throw e;
          // not an ingestion run: a pipeline run, or neither (the ingestion error says so)
          const pipeline = await ctx
            .get(PipelineRunsService)
            .get(id)
            .catch(() => undefined);
          if (!pipeline) throw e;
          return { pipeline };
        }
      });
      if (found.ingestion) emit(opts.json, found.ingestion, () => formatRun(found.ingestion));
      else emit(opts.json, found.pipeline, () => formatPipelineRun(found.pipeline!));
    });
  runsCmd
    .command('list')
    .option('--pipeline <name>', 'runs of this pipeline (default: all)')
    .option('--ingestion', 'ingestion runs instead of pipeline runs')
    .option('--source <name>', 'ingestion runs of this source (implies --ingestion)')
    .option('--status <status>', 'queued | running | succeeded | failed | cancelled')
    .option('--partition <key>', 'pipeline runs of this partition')
    .option('--limit <n>', 'at most this many (default 100)')
    .option('--json', 'print as JSON')
    .description('pipeline runs, newest first (--ingestion or --source: ingestion runs)')
    .action(
      async (opts: {
        pipeline?: string;
        ingestion?: boolean;
        source?: string;
        status?: string;
        partition?: string;
        limit?: string;
        json?: boolean;
      }) => {
        const limit = opts.limit ? Number(opts.limit) : undefined;
        if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 1000))
          throw new Error(`--limit must be a whole number from 1 to 1000 (got ${JSON.stringify(opts.limit)})`);
        if (opts.ingestion || opts.source !== undefined) {
          if (opts.pipeline !== undefined || opts.partition !== undefined)
            throw new Error('--pipeline and --partition are for pipeline runs, not with --ingestion or --source');
          const runs = await withContext({ modules }, (ctx) =>
            ctx.get(RunsService).list({ sourceId: opts.source, status: opts.status, limit }),
          );
          if (!runs.length) say('no ingestion runs');
          emit(opts.json, runs, () => runs.map((r) => formatRun(r)).join(''));
          return;
        }
        const items = await withContext({ modules }, (ctx) =>
          ctx.get(PipelineRunsService).list({
            pipeline: opts.pipeline,
            status: opts.status,
            partition: opts.partition,
            limit,
          }),
        );
        if (!items.length) say('no pipeline runs');
        emit(opts.json, items, () => items.map((r) => formatPipelineRun(r)).join(''));
      },
    );
  runsCmd
    .command('cancel')
    .argument('<id>', 'a pipeline run')
    .option('--json', 'print as JSON')
    .description('cancel a pipeline run: its queued steps are cancelled, running ones stop at their next lease renewal')
    .action(async (id: string, opts: { json?: boolean }) => {
      const run = await withContext({ modules }, (ctx) => ctx.get(PipelineRunsService).cancel(id));
      emit(opts.json, run, () => formatPipelineRun(run));
    });
}

export function pipelineCommands(program: Command): void {
  const pipelines = program.command('pipelines').description('pipelines: DAGs of steps across the slices');
  pipelines
    .command('apply')
    .argument('<dir>', 'a project directory with pipelines/*.yml, a directory of .yml files, or one file')
    .description(
      'define or change the pipelines in YAML files (a new version when one changed); exit 1 on an invalid one',
    )
    .action(async (dir: string) => {
      const files = pipelineFiles(dir);
      if (!files.length) throw new Error(`no pipeline files (.yml, .yaml) in ${dir}`);
      await withContext({ modules }, async (ctx) => {
        const svc = ctx.get(PipelinesService);
        for (const f of files) {
          let raw: unknown;
          try {
            raw = parse(fs.readFileSync(f, 'utf8'));
          } catch (e) {
            throw new Error(`${shown(f)}: not valid YAML: ${(e as Error).message}`);
          }
          try {
            // the CLI runs as the operator, with the database's credentials: it sees PII as an admin key does
            const { pipeline, created } = await svc.apply(raw, { name: 'cli', seesPii: true });
            say(`${shown(f)}: pipeline ${pipeline.name} ${created ? 'created' : `at version ${pipeline.version}`}`);
          } catch (e) {
            const problems = (e as { extra?: { problems?: string[] } }).extra?.problems;
            throw new Error(`${shown(f)}: ${problems ? `\n  ${problems.join('\n  ')}` : (e as Error).message}`);
          }
        }
      });
    });
  pipelines
    .command('delete')
    .argument('<name>', 'a pipeline, by name or id')
    .option('--force', 'cancel its runs that are not finished, and delete')
    .description(
      'delete a pipeline (soft: its versions and runs stay readable); refused while another pipeline names it or a run is going (unless --force)',
    )
    .action(async (name: string, opts: { force?: boolean }) => {
      await withContext({ modules }, (ctx) => ctx.get(PipelinesService).remove(name, opts.force === true));
      say(`pipeline ${name}: deleted`);
    });
  pipelines
    .command('list')
    .option('--json', 'print as JSON')
    .description('the pipelines, their versions and schedules')
    .action(async (opts: { json?: boolean }) => {
      const items = await withContext({ modules }, (ctx) => ctx.get(PipelinesService).list());
      emit(opts.json, items, () =>
        items
          .map(
            (p) =>
              `${p.name}  v${p.version}  ${p.spec.steps.length} steps${p.spec.schedule ? `  schedule ${p.spec.schedule.cron ?? `every ${p.spec.schedule.everyMs} ms`} (${p.spec.schedule.timezone})` : ''}\n`,
          )
          .join(''),
      );
    });
  pipelines
    .command('show')
    .argument('<name>', 'a pipeline, by name or id')
    .description('a pipeline as stored (JSON)')
    .action(async (name: string) => {
      const p = await withContext({ modules }, (ctx) => ctx.get(PipelinesService).get(name));
      emit(true, p, () => '');
    });
  pipelines
    .command('run')
    .argument('<name>', 'a pipeline, by name or id')
    .option('--partition <key>', 'the partition to run')
    .option('--key <idempotencyKey>', 'the same key answers with the same run unless it failed')
    .option('--json', 'print the run as JSON')
    .description('run a pipeline in this process and wait for its end; exit 1 unless it succeeded')
    .action(async (name: string, opts: { partition?: string; key?: string; json?: boolean }) => {
      const run = await withContext({ modules, roles: ['worker'] }, async (ctx) => {
        const runs = ctx.get(PipelineRunsService);
        const { run: queued } = await runs.trigger(name, {
          partition: opts.partition,
          idempotencyKey: opts.key,
          trigger: 'cli',
          createdBy: 'cli',
        });
        return runs.waitFor(queued.id, 24 * 3600_000);
      });
      emit(opts.json, run, () => formatPipelineRun(run));
      if (run.status !== 'succeeded') process.exitCode = 1;
    });
  pipelines
    .command('runs')
    .argument('[name]', 'a pipeline, by name or id (default: all)')
    .option('--status <status>', 'queued | running | succeeded | failed | cancelled')
    .option('--partition <key>')
    .option('--json', 'print as JSON')
    .description('pipeline runs, newest first')
    .action(async (name: string | undefined, opts: { status?: string; partition?: string; json?: boolean }) => {
      const items = await withContext({ modules }, (ctx) =>
        ctx.get(PipelineRunsService).list({ pipeline: name, status: opts.status, partition: opts.partition }),
      );
      if (!items.length) say('no pipeline runs');
      emit(opts.json, items, () => items.map((r) => formatPipelineRun(r)).join(''));
    });
  pipelines
    .command('run-show')
    .argument('<id>', 'a pipeline run id')
    .option('--json', 'print as JSON')
    .description('a pipeline run with its steps: attempts, timings, errors')
    .action(async (id: string, opts: { json?: boolean }) => {
      const run = await withContext({ modules }, (ctx) => ctx.get(PipelineRunsService).get(id));
      emit(opts.json, run, () => formatPipelineRun(run));
    });
}
