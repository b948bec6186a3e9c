import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { auditParents, select } from '../domain/compile';
import { BadSelectorError, BuildNotFoundError } from '../modeling.errors';
import { buildEvent } from './build.events';
import { BuildRunnerService } from './build-runner.service';
import { DbtBuildsService } from './dbt-builds.service';
import { CompileProjectService } from './compile-project.service';
import { BuildOptions, BuildView } from './modeling.views';
import { BUILD_STORE, BuildStore, BuildSummary } from './ports/build-store.port';
import { ProjectsService } from './projects.service';

/** start-build: a build of a selection, recorded with its pending steps and START event, then run; and its reads. */
@Injectable()
export class StartBuildService {
  constructor(
    @Inject(BUILD_STORE) private readonly store: BuildStore,
    private readonly projects: ProjectsService,
    private readonly compiler: CompileProjectService,
    private readonly runner: BuildRunnerService,
    private readonly dbt: DbtBuildsService,
  ) {}

  /** Starts a build of the selection; returns at once with the steps pending. */
  async build(projectIdOrName: string, selector?: string, opts: BuildOptions = {}): Promise<BuildView> {
    const fullRefresh = opts.fullRefresh === true;
    const takeOver = opts.takeOver === true;
    const p = await this.projects.entity(projectIdOrName);
    if (opts.command) {
      const id = await this.dbt.start(p, {
        command: opts.command,
        select: selector,
        exclude: opts.exclude,
        vars: opts.vars,
        fullRefresh,
        failFast: opts.failFast,
        parent: opts.parent,
      });
      return this.getBuild(id);
    }
    const { project, compiled } = await this.compiler.compile(p);
    let ids: string[];
    try {
      ids = select(compiled, selector, auditParents(project, compiled)).filter(
        (id) => compiled.nodes.get(id)!.kind !== 'source',
      );
    } catch (e) {
      throw new BadSelectorError((e as Error).message);
    }
    // the build, its pending steps (in DAG order) and its START event: one statement
    const b = { id: randomUUID() };
    await this.store.create(
      {
        id: b.id,
        projectId: p.id,
        selector: selector ?? null,
        fullRefresh,
        takeOver,
        parent: opts.parent ?? null,
        steps: ids.map((id) => ({
          nodeId: id,
          materialized: compiled.nodes.get(id)!.materialized ?? (id.startsWith('seed.') ? 'seed' : null),
        })),
      },
      buildEvent(b.id, compiled.name, 'START', opts.parent ? { parent: opts.parent } : {}),
    );
    this.runner.launch(b.id, p, project, compiled, ids, { fullRefresh, takeOver, parent: opts.parent });
    return this.getBuild(b.id);
  }

  /**
   * cancel-build: no step of the build starts any more (steps running end: each is atomic, so
   * nothing is half-built); the build ends failed with `MODELING.CANCELLED` and its ABORT event.
   * Told at once when this process runs it, else at its runner's next heartbeat. An ended build
   * stays as it ended.
   */
  async cancelBuild(id: string): Promise<BuildView> {
    await this.getBuild(id); // MODELING.BUILD_NOT_FOUND
    if (await this.store.requestCancel(id)) {
      this.runner.cancel(id);
      this.dbt.cancel(id);
    }
    return this.getBuild(id);
  }

  async waitForBuild(id: string, timeoutMs = 600_000): Promise<BuildView> {
    const local = this.runner.inProcess.get(id) ?? this.dbt.inProcess.get(id);
    if (local) await local;
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      const b = await this.getBuild(id);
      if (b.status !== 'running') return b;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`build ${id} did not finish within ${timeoutMs} ms`);
  }

  /** Builds newest first: of a project, of a status; `before` (a startedAt) pages back. */
  async listBuilds(f: {
    project?: string;
    status?: string;
    limit?: number;
    before?: string;
  }): Promise<{ items: (BuildSummary & { project: string | null })[]; next: string | null }> {
    // by id, a deleted project's builds too (its history stays)
    const projectId = f.project ? (await this.projects.entity(f.project, true)).id : undefined;
    const limit = Math.min(Math.max(f.limit ?? 50, 1), 500);
    const found = await this.store.list({ projectId, status: f.status, limit, before: f.before });
    // each with its project's name (what people know a project by), a deleted project's too
    const names = new Map<string, string>((await this.projects.list()).map((p) => [p.id, p.name]));
    for (const id of new Set(found.map((b) => b.projectId))) {
      if (names.has(id)) continue;
      const gone = await this.projects.entity(id, true).catch(() => null);
      if (gone) names.set(id, gone.name);
    }
    const items = found.map((b) => ({ ...b, project: names.get(b.projectId) ?? null }));
    return { items, next: items.length === limit ? items[items.length - 1].startedAt : null };
  }

  async getBuild(id: string): Promise<BuildView> {
    const b = await this.store.find(id);
    if (!b) throw new BuildNotFoundError(`No build ${JSON.stringify(id)}`);
    return b;
  }
}
