import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { CompiledProject } from '../domain/compile';
import { extractProjectArchive } from '../infrastructure/project-archive.extractor';
import { PROJECT_REPOSITORY, ProjectRecord, ProjectRepository } from './ports/project-repository.port';
import { MODELING_CONFIG, ModelingConfig } from '../modeling.config';
import {
  CompileFailedError,
  ModelNotFoundError,
  PathOutsideRootError,
  ProjectExistsError,
  ProjectNotFoundError,
} from '../modeling.errors';
import { CompileProjectService } from './compile-project.service';
import { ProjectView, UUID } from './modeling.views';

/** Who registers a project: whether it sees PII in clear (an admin key, or the CLI). */
export interface ProjectCaller {
  seesPii: boolean;
}

/**
 * What another slice does with a project's folder when it is registered or refreshed: `check` runs
 * before the project is recorded (a throw refuses the registration, nothing recorded), `registered`
 * after (orchestration's `pipelines/*.yml`, which may hold what only a caller who sees PII may define).
 */
export interface ProjectHook {
  check(root: string, project: string, caller: ProjectCaller): Promise<void>;
  registered(root: string, project: string, caller: ProjectCaller): Promise<void>;
}

/** register-project (a folder or an uploaded archive) and the reads of registered projects. */
@Injectable()
export class ProjectsService {
  private readonly log = new Logger('modeling');
  private readonly hooks: ProjectHook[] = [];

  addHook(hook: ProjectHook): void {
    this.hooks.push(hook);
  }
  private readonly projectsRoot: string;

  constructor(
    @Inject(PROJECT_REPOSITORY) private readonly repo: ProjectRepository,
    private readonly compiler: CompileProjectService,
    @Inject(MODELING_CONFIG) private readonly config: ModelingConfig,
  ) {
    this.projectsRoot = config.projectsRoot;
  }

  /**
   * Registers the project at `dir` (under WEIR_PROJECTS_ROOT unless `trusted`, as from the CLI).
   * `seesPii`: the caller sees PII in clear (an admin key, the CLI; default not), told to the hooks.
   */
  async register(
    dir: string,
    opts: { modelSchema?: string; trusted?: boolean; seesPii?: boolean } = {},
  ): Promise<ProjectView> {
    const caller: ProjectCaller = { seesPii: opts.seesPii === true };
    fs.mkdirSync(this.projectsRoot, { recursive: true });
    const root = opts.trusted ? path.resolve(dir) : path.resolve(this.projectsRoot, dir);
    const rel = path.relative(fs.realpathSync(this.projectsRoot), fs.existsSync(root) ? fs.realpathSync(root) : root);
    if (!opts.trusted && (rel.startsWith('..') || path.isAbsolute(rel))) {
      throw new PathOutsideRootError(`The project path ${JSON.stringify(dir)} is outside WEIR_PROJECTS_ROOT`);
    }
    if (!fs.existsSync(path.join(root, 'dbt_project.yml')))
      throw new ProjectNotFoundError(`No dbt_project.yml in ${JSON.stringify(dir)}`);
    let modelSchema = opts.modelSchema ?? 'analytics';
    let { project, compiled } = await this.compiler.compile({ rootPath: root, modelSchema });
    let e = await this.repo.findByName(project.name);
    if (opts.modelSchema === undefined && e && e.modelSchema !== modelSchema) {
      // a refresh without modelSchema keeps the one the project was registered with
      modelSchema = e.modelSchema;
      ({ project, compiled } = await this.compiler.compile({ rootPath: root, modelSchema }));
    }
    if (e && e.rootPath !== root)
      throw new ProjectExistsError(`A project named "${project.name}" is registered from ${e.rootPath}`);
    for (const h of this.hooks) await h.check(root, project.name, caller);
    e = await this.repo.upsert({ name: project.name, rootPath: root, modelSchema });
    this.log.log(`project ${project.name}: ${compiled.nodes.size} nodes from ${root}`);
    for (const h of this.hooks) await h.registered(root, project.name, caller);
    return this.view(e, compiled);
  }

  /**
   * Registers (or refreshes) a project from an uploaded .tar/.tar.gz: extracted to a scratch directory,
   * compiled there, and only then swapped into `$WEIR_PROJECTS_ROOT/.uploads/<project name>`; a bad
   * archive or a project that does not compile leaves the registered version untouched.
   */
  async registerArchive(archive: Buffer, opts: { modelSchema?: string; seesPii?: boolean } = {}): Promise<ProjectView> {
    const uploads = path.join(this.projectsRoot, '.uploads');
    fs.mkdirSync(uploads, { recursive: true });
    const scratch = path.join(uploads, `.tmp-${randomUUID()}`);
    try {
      const root = await extractProjectArchive(archive, scratch, this.config.archive);
      const { project } = await this.compiler.compile({ rootPath: root, modelSchema: opts.modelSchema ?? 'analytics' });
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(project.name))
        throw new CompileFailedError(
          `dbt_project.yml: name ${JSON.stringify(project.name)} must be a valid identifier`,
        );
      const final = path.join(uploads, project.name);
      const existing = await this.repo.findByName(project.name);
      if (existing && existing.rootPath !== final)
        throw new ProjectExistsError(`A project named "${project.name}" is registered from ${existing.rootPath}`);
      const old = `${final}.old-${randomUUID()}`;
      if (fs.existsSync(final)) fs.renameSync(final, old);
      fs.renameSync(root, final);
      fs.rmSync(old, { recursive: true, force: true });
      this.log.log(`project ${project.name}: archive of ${archive.length} bytes extracted to ${final}`);
      return await this.register(final, { modelSchema: opts.modelSchema, seesPii: opts.seesPii });
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }

  private view(e: ProjectRecord, compiled: CompiledProject): ProjectView {
    return {
      id: e.id,
      name: e.name,
      rootPath: e.rootPath,
      modelSchema: e.modelSchema,
      nodes: [...compiled.nodes.values()].map((n) => ({
        id: n.id,
        kind: n.kind,
        name: n.name,
        relation: n.relation,
        materialized: n.materialized,
        tags: n.tags,
        dependsOn: n.dependsOn,
      })),
      order: compiled.order,
    };
  }

  async entity(idOrName: string): Promise<ProjectRecord> {
    const e = UUID.test(idOrName) ? await this.repo.findById(idOrName) : await this.repo.findByName(idOrName);
    if (!e) throw new ProjectNotFoundError(`No project ${JSON.stringify(idOrName)}`);
    return e;
  }

  async get(idOrName: string): Promise<ProjectView> {
    const e = await this.entity(idOrName);
    return this.view(e, (await this.compiler.compile(e)).compiled);
  }

  async list(): Promise<{ id: string; name: string; rootPath: string }[]> {
    return (await this.repo.list()).map((p) => ({
      id: p.id,
      name: p.name,
      rootPath: p.rootPath,
    }));
  }

  /** The compiled SQL of a model (in the given project, or the only project that has it). */
  async compiledSql(
    model: string,
    projectIdOrName?: string,
  ): Promise<{ project: string; model: string; relation: string; materialized: string; sql: string }> {
    const projects = projectIdOrName ? [await this.entity(projectIdOrName)] : await this.repo.list();
    for (const p of projects) {
      const n = (await this.compiler.compile(p)).compiled.nodes.get(`model.${model}`);
      if (n)
        return { project: p.name, model, relation: n.relation, materialized: n.materialized!, sql: n.compiledSql! };
    }
    throw new ModelNotFoundError(
      `No model ${JSON.stringify(model)}${projectIdOrName ? ` in project ${projectIdOrName}` : ''}`,
    );
  }
}
