import { Injectable } from '@nestjs/common';
import { BuildRecoveryService } from './build-recovery.service';
import { DbtBuildsService } from './dbt-builds.service';
import { BuildOptions, BuildView, ProjectView } from './modeling.views';
import { ProjectHook, ProjectsService } from './projects.service';
import { StartBuildService } from './start-build.service';

export type { BuildOptions, BuildView, ProjectView } from './modeling.views';

/**
 * The modeling slice's use cases in one place, for its controller and the CLI: register-project
 * and project reads ({@link ProjectsService}), start-build and build reads ({@link StartBuildService}),
 * build-recovery ({@link BuildRecoveryService}). Each method forwards to its use case.
 */
@Injectable()
export class ModelingService {
  constructor(
    private readonly projects: ProjectsService,
    private readonly builds: StartBuildService,
    private readonly recovery: BuildRecoveryService,
    private readonly dbt: DbtBuildsService,
  ) {}

  /** Adds what another slice does when a project is registered or refreshed (see {@link ProjectHook}). */
  addProjectHook(hook: ProjectHook): void {
    this.projects.addHook(hook);
  }

  register(
    dir: string,
    opts: { modelSchema?: string; trusted?: boolean; seesPii?: boolean } = {},
  ): Promise<ProjectView> {
    return this.projects.register(dir, opts);
  }

  registerArchive(archive: Buffer, opts: { modelSchema?: string; seesPii?: boolean } = {}): Promise<ProjectView> {
    return this.projects.registerArchive(archive, opts);
  }

  /** Deletes a project (soft; refused while a build runs or a pipeline step builds it). */
  remove(idOrName: string): Promise<void> {
    return this.projects.remove(idOrName);
  }

  get(idOrName: string): Promise<ProjectView> {
    return this.projects.get(idOrName);
  }

  list(): Promise<{ id: string; name: string; rootPath: string }[]> {
    return this.projects.list();
  }

  /** The models of a project (snapshots too), in build order. */
  async models(idOrName: string): Promise<ProjectView['nodes']> {
    const p = await this.projects.get(idOrName);
    const kinds = new Set(['model', 'snapshot']);
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    return p.order.flatMap((id) => {
      const n = byId.get(id);
      return n && kinds.has(n.kind) ? [n] : [];
    });
  }

  compiledSql(
    model: string,
    projectIdOrName?: string,
  ): Promise<{ project: string; model: string; relation: string; materialized: string; sql: string }> {
    return this.projects.compiledSql(model, projectIdOrName);
  }

  build(projectIdOrName: string, selector?: string, opts: BuildOptions = {}): Promise<BuildView> {
    return this.builds.build(projectIdOrName, selector, opts);
  }

  waitForBuild(id: string, timeoutMs?: number): Promise<BuildView> {
    return this.builds.waitForBuild(id, timeoutMs);
  }

  cancelBuild(id: string): Promise<BuildView> {
    return this.builds.cancelBuild(id);
  }

  getBuild(id: string): Promise<BuildView> {
    return this.builds.getBuild(id);
  }

  listBuilds(f: { project?: string; status?: string; limit?: number; before?: string }) {
    return this.builds.listBuilds(f);
  }

  /** An artifact of a dbt build (manifest.json, run_results.json, catalog.json), as dbt wrote it. */
  async buildArtifact(id: string, name: string): Promise<string> {
    return this.dbt.artifact(await this.builds.getBuild(id), name);
  }

  /** Fails the builds a dead process left running; returns their ids. */
  recover(staleMs?: number): Promise<string[]> {
    return this.recovery.recover(staleMs);
  }
}
