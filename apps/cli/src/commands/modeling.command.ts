import * as path from 'node:path';
import { Command } from 'commander';
import { CatalogModule } from '@weir/catalog';
import { QualityModule } from '@weir/quality';
import { IngestionModule } from '@weir/ingestion';
import { ModelingModule, ModelingService } from '@weir/modeling';
import { LineageModule } from '@weir/lineage';
import { OrchestrationModule } from '@weir/orchestration';
import { withContext } from '../context';
import { emit, say } from '../output';

const modules = [CatalogModule, QualityModule, IngestionModule, ModelingModule];

export function modelingCommands(program: Command): void {
  const project = program.command('project').description('dbt-compatible modeling projects');
  project
    .command('import')
    .argument('<dir>', 'a directory in dbt layout (dbt_project.yml, models/, seeds/)')
    .option('--schema <schema>', "models' default warehouse schema", 'analytics')
    .option('--json', 'print the project (nodes, build order) as JSON')
    .description('register (or refresh) a project from a local directory; it must compile')
    .action(async (dir: string, opts: { schema: string; json?: boolean }) => {
      const p = await withContext({ modules }, (ctx) =>
        // the CLI runs as the operator: it sees PII as an admin key does
        ctx
          .get(ModelingService)
          .register(path.resolve(dir), { modelSchema: opts.schema, trusted: true, seesPii: true }),
      );
      say(
        `project ${p.name}: ${p.nodes.length} nodes (${p.nodes.filter((n) => n.kind === 'model').length} models, ${p.nodes.filter((n) => n.kind === 'seed').length} seeds)`,
      );
      emit(opts.json, p, () => p.order.join('\n') + '\n');
    });
  project
    .command('delete')
    .argument('<name>', 'a registered project, by name or id')
    .description(
      'delete a project (soft: its builds stay readable; its files and relations stay); refused while a build runs or a pipeline step builds it',
    )
    .action(async (name: string) => {
      // with orchestration: its pipelines say which of their steps build the project
      await withContext({ modules: [...modules, OrchestrationModule, LineageModule] }, (ctx) =>
        ctx.get(ModelingService).remove(name),
      );
      say(`project ${name}: deleted`);
    });
  project
    .command('models')
    .argument('<name>', 'a registered project, by name or id')
    .option('--json', 'print the models as JSON')
    .description("the project's models (snapshots too), in build order, with their relations")
    .action(async (name: string, opts: { json?: boolean }) => {
      const models = await withContext({ modules }, (ctx) => ctx.get(ModelingService).models(name));
      if (!models.length) say(`project ${name} has no models`);
      emit(opts.json, models, () =>
        models
          .map(
            (m) =>
              `${m.id}  ${(m.materialized ?? m.kind).padEnd(11)} ${m.relation}${m.tags.length ? `  [${m.tags.join(', ')}]` : ''}\n`,
          )
          .join(''),
      );
    });
  program
    .command('builds')
    .description('builds of modeling projects')
    .command('list')
    .option('--project <name>', 'a project')
    .option('--status <status>', 'running | succeeded | failed')
    .option('--limit <n>', 'at most n (default 50)', (v) => Number(v))
    .option('--json', 'print the builds as JSON')
    .description('builds, newest first, with their step counts')
    .action(async (opts: { project?: string; status?: string; limit?: number; json?: boolean }) => {
      const page = await withContext({ modules }, (ctx) =>
        ctx.get(ModelingService).listBuilds({ project: opts.project, status: opts.status, limit: opts.limit }),
      );
      if (!page.items.length) say('no builds');
      emit(opts.json, page.items, () =>
        page.items
          .map(
            (b) =>
              `${b.id}  ${b.status.padEnd(9)} ${b.startedAt}  ${b.project ?? b.projectId}  ${b.command ? `dbt ${b.command}` : 'weir build'}${b.selector ? ` ${b.selector}` : ''}  ${b.steps.succeeded}/${b.steps.total} ok${b.steps.failed ? `, ${b.steps.failed} failed` : ''}${b.steps.skipped ? `, ${b.steps.skipped} skipped` : ''}\n`,
          )
          .join(''),
      );
    });
  program
    .command('build')
    .requiredOption('--project <name>', 'a registered project')
    .option('--select <selector>', 'dbt selection (name, +name, name+, tag:x)')
    .option('--full-refresh', 'rebuild incremental models from scratch')
    .option('--take-over', 'replace relations recorded for another project or for ingestion (recorded in the catalog)')
    .option('--json', 'print the build (steps, rows, errors) as JSON')
    .description('build a selection of a project in this process; exit 1 when a step fails')
    .action(
      async (opts: { project: string; select?: string; fullRefresh?: boolean; takeOver?: boolean; json?: boolean }) => {
        const b = await withContext({ modules, roles: ['worker'] }, async (ctx) => {
          const svc = ctx.get(ModelingService);
          const started = await svc.build(opts.project, opts.select, {
            fullRefresh: opts.fullRefresh,
            takeOver: opts.takeOver,
          });
          return svc.waitForBuild(started.id, 24 * 3600_000);
        });
        emit(opts.json, b, () =>
          b.steps
            .map(
              (s) =>
                `${s.status.padEnd(9)} ${s.node}${s.rowsAffected !== null ? `  ${s.rowsAffected} rows` : ''}${s.error ? `  ${s.errorCode ? `${s.errorCode}: ` : ''}${s.error}` : ''}\n`,
            )
            .join(''),
        );
        say(`build ${b.id}: ${b.status}`);
        if (b.status !== 'succeeded') process.exitCode = 1;
      },
    );
}
