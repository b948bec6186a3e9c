import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { CATALOG, CatalogPort } from '@weir/catalog';
import { SEED_LOADER, SeedLoaderPort } from '@weir/ingestion';
import type { CompiledProject } from '../domain/compile';
import { extractProjectArchive } from '../infrastructure/project-archive.extractor';
import { Dependent, describeDependents } from '@weir/platform';
import { PROJECT_REPOSITORY, ProjectRecord, ProjectRepository } from './ports/project-repository.port';
import { BUILD_STORE, BuildStore } from './ports/build-store.port';
import { MODELING_CONFIG, ModelingConfig } from '../modeling.config';
import {
  CompileFailedError,
  ModelNotFoundError,
  PathOutsideRootError,
  ProjectInUseError,
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
  /** What uses the project in the hook's slice (pipeline steps that build it): asked before it is deleted. */
  dependents?(project: { id: string; name: string }): Promise<Dependent[]>;
}

/** register-project (a folder or an uploaded archive) and the reads of registered projects. */
@Injectable()
export class ProjectsService implements OnModuleInit {
  private readonly log = new Logger('modeling');
  private readonly hooks: ProjectHook[] = [];

  addHook(hook: ProjectHook): void {
    this.hooks.push(hook);
  }
  private readonly projectsRoot: string;

  constructor(
    @Inject(PROJECT_REPOSITORY) private readonly repo: ProjectRepository,
    @Inject(BUILD_STORE) private readonly builds: BuildStore,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    @Inject(SEED_LOADER) private readonly seeds: SeedLoaderPort,
    private readonly compiler: CompileProjectService,
    @Inject(MODELING_CONFIG) private readonly config: ModelingConfig,
  ) {
    this.projectsRoot = config.projectsRoot;
  }

  onModuleInit(): void {
    // a dataset a project builds, or its models read, is not deleted from the catalog
    this.catalog.addDependentsProbe((d) => this.datasetDependents(d));
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
    // a project is its name: registered again from another place (the CLI's folder, then an
    // uploaded archive, or the other way round), it is that project's new source, with its id,
    // builds and relations kept — as a refresh from the same place is
    const moved = e && e.rootPath !== root ? e.rootPath : null;
    for (const h of this.hooks) await h.check(root, project.name, caller);
    e = await this.repo.upsert({ name: project.name, rootPath: root, modelSchema });
    this.log.log(
      `project ${project.name}: ${compiled.nodes.size} nodes from ${root}${moved ? ` (registered from ${moved} before)` : ''}`,
    );
    // the copy of an upload it was read from before is Weir's own, and no longer anyone's
    if (moved && moved === path.join(this.projectsRoot, '.uploads', project.name))
      fs.rmSync(moved, { recursive: true, force: true });
    for (const h of this.hooks) await h.registered(root, project.name, caller);
    return this.view(e, compiled);
  }

  /**
   * Registers (or refreshes) a project from an uploaded .tar/.tar.gz: extracted to a scratch directory,
   * compiled there, and only then swapped into `$WEIR_PROJECTS_ROOT/.uploads/<project name>`; a bad
   * archive or a project that does not compile leaves the registered version untouched. A project of
   * that name registered from elsewhere (a folder) is then read from the upload.
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

  /** The project by id or name; a deleted one only by id and `withDeleted` (reads of its builds). */
  async entity(idOrName: string, withDeleted = false): Promise<ProjectRecord> {
    const e = UUID.test(idOrName)
      ? await this.repo.findById(idOrName, withDeleted)
      : await this.repo.findByName(idOrName);
    if (!e) throw new ProjectNotFoundError(`No project ${JSON.stringify(idOrName)}`);
    return e;
  }

  async get(idOrName: string): Promise<ProjectView> {
    const e = await this.entity(idOrName);
    return this.view(e, (await this.compiler.compile(e)).compiled);
  }

  /**
   * Deletes a project, softly: gone from names and lists (registering the name again makes a new
   * project), its builds and their steps stay readable (`GET /builds/:id`, `?project=<its id>`).
   * Its seeds' sources are deleted with it (softly too); its files, the relations it built and
   * their catalog datasets stay. Refused with
   * MODELING.PROJECT_IN_USE while a build of it is running or a pipeline step builds it.
   */
  async remove(idOrName: string): Promise<void> {
    const p = await this.entity(idOrName);
    const running = await this.builds.list({ projectId: p.id, status: 'running', limit: 1000 });
    const dependents: Dependent[] = running.map((b) => ({ kind: 'build', name: b.id, detail: 'running build' }));
    for (const h of this.hooks) if (h.dependents) dependents.push(...(await h.dependents({ id: p.id, name: p.name })));
    if (dependents.length)
      throw new ProjectInUseError(
        describeDependents(
          `Project "${p.name}"`,
          dependents,
          running.length ? 'wait for or cancel its builds' : undefined,
        ),
        { dependents },
      );
    // its seeds' sources go with it (their runs stay); a new registration makes them again
    const seeds = await this.seeds.forget(`modeling:${p.name}`);
    await this.repo.remove(p.id);
    this.log.log(`project ${p.name}: deleted${seeds.length ? ` (with its seed sources ${seeds.join(', ')})` : ''}`);
  }

  /**
   * What in the live projects uses a catalog dataset: the project that builds it (its
   * `modeling:<project>` owner), and the models that read its relation as a dbt source. A project
   * that does not compile now is left out (it cannot build either).
   */
  async datasetDependents(d: { name: string; schema: string; table: string; managedBy: string }): Promise<Dependent[]> {
    const out: Dependent[] = [];
    const projects = await this.repo.list();
    const owner = d.managedBy.startsWith('modeling:') ? d.managedBy.slice('modeling:'.length) : null;
    if (owner && projects.some((p) => p.name === owner))
      out.push({ kind: 'project', name: owner, detail: 'builds it' });
    for (const p of projects) {
      let compiled: CompiledProject;
      try {
        compiled = (await this.compiler.compile(p)).compiled;
      } catch (e) {
        this.log.warn(`project ${p.name} does not compile (${(e as Error).message}): its models are not asked`);
        continue;
      }
      const sources = new Set(
        [...compiled.nodes.values()]
          .filter((n) => n.kind === 'source' && n.schema === d.schema && n.table === d.table)
          .map((n) => n.id),
      );
      if (!sources.size) continue;
      for (const n of compiled.nodes.values())
        if (n.kind !== 'source' && n.dependsOn.some((id) => sources.has(id)))
          out.push({
            kind: n.kind,
            name: `${p.name}.${n.name}`,
            detail: `reads ${d.schema}.${d.table} as a dbt source`,
          });
    }
    return out;
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
