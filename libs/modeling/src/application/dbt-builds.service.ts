import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Warehouse, type RunStateEvent } from '@weir/platform';
import type { DbtNodeResult, DbtPlannedNode } from '../dbt/invocation';
import {
  ArtifactNotFoundError,
  BadSelectorError,
  CompileFailedError,
  ModelSqlFailedError,
  TestFailedError,
} from '../modeling.errors';
import { MODELING_CONFIG, ModelingConfig } from '../modeling.config';
import { buildEvent, stepRunId } from './build.events';
import type { BuildView, StepPatch } from './modeling.views';
import { BUILD_STORE, BuildStore } from './ports/build-store.port';
import { DBT_RUNNER, DbtRunner, DbtRunOptions } from './ports/dbt-runner.port';
import type { ProjectRecord } from './ports/project-repository.port';

/** dbt's commands a build may run through the dbt runtime. */
export const DBT_BUILD_COMMANDS = ['build', 'run', 'seed', 'test', 'snapshot', 'compile', 'docs generate'] as const;
export type DbtBuildCommand = (typeof DBT_BUILD_COMMANDS)[number];

export interface DbtBuildOptions {
  command: DbtBuildCommand;
  select?: string;
  exclude?: string;
  vars?: Record<string, unknown>;
  fullRefresh?: boolean;
  failFast?: boolean;
  parent?: { job: string; runId: string };
}

/** The artifacts a dbt build leaves, served as they are. */
export const DBT_ARTIFACTS = ['manifest.json', 'run_results.json', 'catalog.json'] as const;

const JOB_TYPES: Record<string, string> = { model: 'MODEL', seed: 'SEED', snapshot: 'SNAPSHOT' };

/**
 * dbt-build: a build run by the dbt runtime, with dbt's semantics — the command (`build`, `run`,
 * `seed`, `test`, `snapshot`, `compile`, `docs generate`) and dbt's selection over the registered
 * project, each node a step of the build (dbt's unique id, its result under `refs.dbt`), the
 * artifacts (manifest.json v12, run_results.json v6, catalog.json v1) kept per build. The build's
 * run and each model's, seed's and snapshot's run are published like any build's (OpenLineage,
 * with the compiled SQL for column lineage); cancel stops it between nodes.
 */
@Injectable()
export class DbtBuildsService {
  private readonly log = new Logger('modeling');
  readonly inProcess = new Map<string, Promise<void>>();
  private readonly cancels = new Map<string, () => void>();

  constructor(
    @Inject(BUILD_STORE) private readonly store: BuildStore,
    @Inject(DBT_RUNNER) private readonly runner: DbtRunner,
    @Inject(MODELING_CONFIG) private readonly config: ModelingConfig,
    private readonly warehouse: Warehouse,
  ) {}

  static argv(o: DbtBuildOptions): string[] {
    const args = o.command === 'docs generate' ? ['docs', 'generate'] : [o.command];
    if (o.select?.trim()) args.push('--select', ...o.select.trim().split(/\s+/));
    if (o.exclude?.trim()) args.push('--exclude', ...o.exclude.trim().split(/\s+/));
    if (o.fullRefresh) args.push('--full-refresh');
    if (o.failFast) args.push('--fail-fast');
    if (o.vars && Object.keys(o.vars).length) args.push('--vars', JSON.stringify(o.vars));
    return args;
  }

  artifactsDir(buildId: string): string {
    return path.join(this.config.projectsRoot, '.dbt-artifacts', buildId);
  }

  private options(p: ProjectRecord, o: DbtBuildOptions, buildId: string): DbtRunOptions {
    return {
      projectDir: p.rootPath,
      args: DbtBuildsService.argv(o),
      connectionString: this.warehouse.connectionString(),
      target: {
        name: 'weir',
        schema: p.modelSchema,
        database: this.warehouse.location.database,
        threads: 1,
        type: 'postgres',
      },
      env: { ...this.config.templateEnv },
      targetPath: this.artifactsDir(buildId),
    };
  }

  /** Plans the invocation (parse and selection: a bad project or selector is refused here), records the build, runs it. */
  async start(p: ProjectRecord, o: DbtBuildOptions): Promise<string> {
    const id = randomUUID();
    const planned = await this.runner.plan(this.options(p, o, id));
    if (!planned.success || !planned.plan) {
      fs.rmSync(this.artifactsDir(id), { recursive: true, force: true });
      const msg = planned.error ?? 'the project could not be parsed';
      if (/is not a valid method name|--state|selector/i.test(msg)) throw new BadSelectorError(msg);
      throw new CompileFailedError(msg);
    }
    const plan = planned.plan;
    await this.store.create(
      {
        id,
        projectId: p.id,
        selector: o.select ?? null,
        fullRefresh: o.fullRefresh === true,
        takeOver: false,
        parent: o.parent ?? null,
        steps: plan.map((n) => ({ nodeId: n.unique_id, materialized: n.materialized })),
        command: o.command,
        dbtArgs: {
          ...(o.select ? { select: o.select } : {}),
          ...(o.exclude ? { exclude: o.exclude } : {}),
          ...(o.vars ? { vars: o.vars } : {}),
          ...(o.failFast ? { failFast: true } : {}),
        },
      },
      buildEvent(id, p.name, 'START', o.parent ? { parent: o.parent } : {}),
    );
    const run = this.run(id, p, o, plan).finally(() => {
      this.inProcess.delete(id);
      this.cancels.delete(id);
    });
    this.inProcess.set(id, run);
    return id;
  }

  /** Stops the build between nodes (when it runs in this process). */
  cancel(id: string): boolean {
    const c = this.cancels.get(id);
    c?.();
    return !!c;
  }

  private stepEvent(
    buildId: string,
    p: ProjectRecord,
    n: DbtPlannedNode,
    state: RunStateEvent['state'],
    sql?: string | null,
    error?: string,
  ): RunStateEvent | undefined {
    const jobType = JOB_TYPES[n.resource_type];
    if (!jobType || !n.output) return undefined;
    return {
      slice: 'modeling',
      job: `${n.resource_type}.${p.name}.${n.name}`,
      jobType,
      runId: stepRunId(buildId, n.unique_id),
      state,
      at: new Date().toISOString(),
      parent: { job: `build.${p.name}`, runId: buildId },
      inputs: n.inputs.map((name) => ({ name })),
      outputs: [{ name: n.output }],
      ...(sql && n.resource_type !== 'seed' ? { sql } : {}),
      ...(error ? { error: { code: 'MODELING.MODEL_SQL_FAILED', message: error } } : {}),
    };
  }

  private async run(id: string, p: ProjectRecord, o: DbtBuildOptions, plan: DbtPlannedNode[]): Promise<void> {
    const byId = new Map(plan.map((n) => [n.unique_id, n]));
    // step changes are written in the order they happened
    let writes: Promise<unknown> = Promise.resolve();
    const update = (nodeId: string, patch: StepPatch, event?: RunStateEvent) => {
      writes = writes
        .then(() => this.store.updateStep(id, nodeId, patch, event))
        .catch((e) => this.log.error(`build ${id}: ${(e as Error).message}`));
    };
    const handle = this.runner.start(this.options(p, o, id), {
      start: (nodeId) => {
        const n = byId.get(nodeId);
        update(nodeId, { status: 'running', startedAt: new Date() }, n && this.stepEvent(id, p, n, 'START'));
      },
      result: (r: DbtNodeResult) => {
        const n = byId.get(r.unique_id);
        const ok = r.status === 'success' || r.status === 'pass' || r.status === 'warn';
        const status = r.status === 'skipped' ? 'skipped' : ok ? 'succeeded' : 'failed';
        const rows =
          typeof r.adapter_response['rows_affected'] === 'number'
            ? (r.adapter_response['rows_affected'] as number)
            : null;
        update(
          r.unique_id,
          {
            status,
            finishedAt: new Date(),
            rowsAffected: rows !== null && rows >= 0 ? String(rows) : null,
            compiledSql: r.compiled_code ?? null,
            error: status === 'failed' || r.status === 'warn' ? r.message : null,
            errorCode:
              status === 'failed'
                ? r.resource_type === 'test'
                  ? new TestFailedError('').code
                  : new ModelSqlFailedError('').code
                : null,
            refs: {
              dbt: {
                status: r.status,
                message: r.message,
                failures: r.failures,
                execution_time: r.execution_time,
                adapter_response: r.adapter_response,
              },
            },
          },
          status === 'skipped' || !n
            ? undefined
            : this.stepEvent(
                id,
                p,
                n,
                ok ? 'COMPLETE' : 'FAIL',
                r.compiled_code,
                ok ? undefined : (r.message ?? undefined),
              ),
        );
      },
    });
    this.cancels.set(id, handle.cancel);
    const beat = setInterval(() => {
      void this.store.heartbeat(id).catch(() => undefined);
      void this.store
        .cancelRequested(id)
        .then((yes) => yes && handle.cancel())
        .catch(() => undefined);
    }, 2000);
    beat.unref();
    let result;
    try {
      result = await handle.done;
    } finally {
      clearInterval(beat);
    }
    await writes;
    const cancelled = await this.store.cancelRequested(id).catch(() => false);
    const failed = !result.success || cancelled;
    const error = cancelled
      ? { code: 'MODELING.CANCELLED', message: 'the build was cancelled' }
      : failed
        ? { code: 'MODELING.BUILD_FAILED', message: result.error ?? 'a node of the build failed' }
        : undefined;
    await this.store.end(
      id,
      failed ? 'failed' : 'succeeded',
      buildEvent(id, p.name, cancelled ? 'ABORT' : failed ? 'FAIL' : 'COMPLETE', {
        ...(failed && error ? { error } : {}),
        ...(o.parent ? { parent: o.parent } : {}),
      }),
    );
  }

  /** One artifact of a dbt build, as dbt wrote it. */
  artifact(build: BuildView, name: string): string {
    if (!build.command || !(DBT_ARTIFACTS as readonly string[]).includes(name))
      throw new ArtifactNotFoundError(
        `Build ${build.id} has no artifact ${JSON.stringify(name)}${build.command ? '' : ' (it is not a dbt build)'}: ${DBT_ARTIFACTS.join(', ')}`,
      );
    const file = path.join(this.artifactsDir(build.id), name);
    if (!fs.existsSync(file))
      throw new ArtifactNotFoundError(
        `Build ${build.id} has not written ${name}${name === 'catalog.json' ? ' (docs generate writes it)' : ''}`,
      );
    return fs.readFileSync(file, 'utf8');
  }
}
