import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { DomainError, HEARTBEAT_MS, liveStaleMs, Outbox, periodic, PeriodicTask, qualifiedTable, quoteIdent, rowsOf, RUN_EVENTS_TOPIC, RunStateEvent, Warehouse, prepareWriter, writeAsWriter, WEIR_CONFIG, WeirConfig } from '@weir/platform';
import { CATALOG, CatalogPort, classifyChange, ColumnContract, DatasetContract } from '@weir/catalog';
import { QUALITY_GATE, QUALITY_SUITES, QualityGate, QualitySuites } from '@weir/quality';
import { SEED_LOADER, SeedLoaderPort } from '@weir/ingestion';
import { auditParents, CompiledNode, CompiledProject, renderDescription, select } from '../domain/compile';
import type { Project } from '../domain/project';
import { ProjectCompileError, ProjectCompiler } from '../infrastructure/project-compiler';
import { yamlTests } from '../domain/yaml-tests';
import { ProjectOrmEntity } from '../infrastructure/project.orm-entity';
import { extractProjectArchive } from '../infrastructure/project-archive';
import { MODELING_CONFIG, ModelingConfig } from '../modeling.config';
import { BuildStepOrmEntity } from '../infrastructure/build-step.orm-entity';
import { BadConfigError, BadSelectorError, BreakingChangeError, BuildNotFoundError, CompileFailedError, ContractViolatedError, DependentObjectsError, InterruptedError, ModelNotFoundError, ModelSqlFailedError, NotASnapshotTableError, PathOutsideRootError, ProjectExistsError, ProjectNotFoundError, SchemaChangedError, SeedFailedError, UnsupportedTestError, VersionRegressionError } from '../modeling.errors';
import { GateFailedError } from '@weir/quality';

type StepPatch = Partial<Pick<BuildStepOrmEntity, 'status' | 'startedAt' | 'finishedAt' | 'rowsAffected' | 'compiledSql' | 'error' | 'errorCode' | 'refs'>>;

/** What a build may do beyond building: rebuild incremental models, take over relations recorded for another owner. */
export interface BuildOptions {
  fullRefresh?: boolean;
  takeOver?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PARALLEL = 2;

export interface ProjectView {
  id: string;
  name: string;
  rootPath: string;
  modelSchema: string;
  nodes: { id: string; kind: string; name: string; relation: string; materialized?: string; tags: string[]; dependsOn: string[] }[];
  order: string[];
}

export interface BuildView {
  id: string;
  projectId: string;
  selector: string | null;
  fullRefresh: boolean;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  takeOver: boolean;
  steps: { node: string; materialized: string | null; status: string; startedAt: string | null; finishedAt: string | null; rowsAffected: number | null; error: string | null; errorCode: string | null; refs: Record<string, unknown> | null }[];
}

/** information_schema data_type → a contract type. */
function contractType(dataType: string, numericPrecision: number | null, numericScale: number | null): string {
  switch (dataType) {
    case 'integer':
    case 'smallint':
      return 'integer';
    case 'bigint':
      return 'bigint';
    case 'numeric':
      return numericPrecision ? `numeric(${numericPrecision},${numericScale ?? 0})` : 'numeric';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'timestamp without time zone':
      return 'timestamp';
    case 'timestamp with time zone':
      return 'timestamptz';
    case 'uuid':
      return 'uuid';
    case 'jsonb':
    case 'json':
      return 'jsonb';
    case 'real':
    case 'double precision':
      return 'numeric';
    default:
      return 'text';
  }
}

/**
 * dbt-compatible projects: registration (load + compile), compiled SQL, and builds — seeds through
 * ingestion, views and tables built as a new relation, audited by the QualityGate (the model's
 * YAML tests and suites), then swapped in one transaction; a failure keeps the old version live
 * and skips the node's descendants.
 */
@Injectable()
export class ModelingService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('modeling');
  private readonly projectsRoot: string;
  private readonly running = new Set<Promise<void>>();
  /** Builds executing in this process, to wait on them without polling. */
  private readonly inProcess = new Map<string, Promise<void>>();
  /** A running build whose process has not said it is alive for this long is taken as interrupted (WEIR_RUN_STALE_SECONDS). */
  staleMs: number;
  /** How often workers look for builds a dead process left running. */
  recoverEveryMs: number;
  private recovery?: PeriodicTask;
  /** Builds of this process a worker took as interrupted (their heartbeat found them no longer running). */
  private readonly interrupted = new Set<string>();
  private readonly roles: ReadonlySet<string>;
  private readonly compiler: ProjectCompiler;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly warehouse: Warehouse,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    @Inject(QUALITY_GATE) private readonly gate: QualityGate,
    @Inject(QUALITY_SUITES) private readonly suites: QualitySuites,
    @Inject(SEED_LOADER) private readonly seeds: SeedLoaderPort,
    @Inject(WEIR_CONFIG) config: WeirConfig,
    @Inject(MODELING_CONFIG) private readonly modelingConfig: ModelingConfig,
    private readonly outbox: Outbox,
  ) {
    this.projectsRoot = modelingConfig.projectsRoot;
    this.roles = config.roles;
    this.compiler = new ProjectCompiler({ maxMs: config.compileMaxMs, maxMb: config.compileMaxMb, templateMaxMs: config.templateMaxMs, env: modelingConfig.templateEnv });
    this.staleMs = config.runStaleMs;
    this.recoverEveryMs = Math.max(5000, this.staleMs / 2);
  }

  /** Workers fail the builds a dead process left running: at start, then every {@link recoverEveryMs}. */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.roles.has('worker')) return;
    await this.recover().catch((e: unknown) => this.log.error(`recovering interrupted builds: ${(e as Error).message}`));
    this.recovery = periodic({
      everyMs: () => this.recoverEveryMs,
      run: () => this.recover(liveStaleMs(this.staleMs)),
      onError: (e) => this.log.error(`recovering interrupted builds: ${e.message}`),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.recovery?.stop();
    await Promise.allSettled([...this.running]);
    await this.compiler.close();
  }

  /**
   * Fails the builds whose process stopped saying it is alive (crash, kill): the build failed, its
   * running steps failed and its pending steps skipped, with FAIL events for the build and the steps
   * that had started, all in one transaction. Returns the builds failed.
   */
  async recover(staleMs = this.staleMs): Promise<string[]> {
    const message = 'interrupted: the process running the build stopped (crash or kill) before it ended; build it again';
    const failed = await this.ds.transaction(async (em) => {
      const rows = rowsOf<{ id: string; project_id: string; started: string[] | null }>(
        await em.query(
          `WITH b AS (UPDATE modeling.builds SET status = 'failed', finished_at = now()
                       WHERE status = 'running' AND heartbeat_at < now() - $1::interval RETURNING id, project_id),
                s AS (UPDATE modeling.build_steps st SET status = CASE WHEN st.status = 'running' THEN 'failed' ELSE 'skipped' END,
                             finished_at = CASE WHEN st.status = 'running' THEN now() END, error = $2
                        FROM b WHERE st.build_id = b.id AND st.status IN ('running', 'pending') RETURNING st.build_id, st.node_id, st.status)
           SELECT b.id, b.project_id, (SELECT array_agg(s.node_id) FROM s WHERE s.build_id = b.id AND s.status = 'failed') AS started FROM b`,
          [`${staleMs / 1000} seconds`, message],
        ),
      );
      for (const r of rows) {
        const p = await em.getRepository(ProjectOrmEntity).findOneBy({ id: r.project_id });
        let compiled: CompiledProject | undefined;
        try {
          compiled = p ? (await this.compile(p)).compiled : undefined;
        } catch {
          compiled = undefined; // the project no longer compiles: the build's own event still goes out
        }
        const error = { error: { code: 'MODELING.INTERRUPTED', message } };
        for (const nodeId of r.started ?? []) {
          const n = compiled?.nodes.get(nodeId);
          const ev = n && compiled ? this.stepEvent(r.id, compiled, n, 'FAIL', error) : undefined;
          if (ev) await this.outbox.publish(em, RUN_EVENTS_TOPIC, ev, `${ev.runId}:FAIL`);
        }
        await this.outbox.publish(em, RUN_EVENTS_TOPIC, this.buildEvent(r.id, compiled?.name ?? p?.name ?? 'unknown', 'FAIL', error), `${r.id}:FAIL`);
      }
      return rows.map((r) => r.id);
    });
    if (failed.length) this.log.warn(`marked ${failed.length} interrupted build(s) failed: ${failed.join(', ')}`);
    return failed;
  }

  /** Loads and compiles a project in the compile worker (templates never render on the request's event loop). */
  private async compile(p: Pick<ProjectOrmEntity, 'rootPath' | 'modelSchema'>, existing?: Set<string>): Promise<{ project: Project; compiled: CompiledProject }> {
    try {
      return await this.compiler.compile(p.rootPath, p.modelSchema, existing);
    } catch (e) {
      if (e instanceof ProjectCompileError) throw new CompileFailedError(e.message);
      throw e;
    }
  }

  /** Registers the project at `dir` (under WEIR_PROJECTS_ROOT unless `trusted`, as from the CLI). */
  async register(dir: string, opts: { modelSchema?: string; trusted?: boolean } = {}): Promise<ProjectView> {
    fs.mkdirSync(this.projectsRoot, { recursive: true });
    const root = opts.trusted ? path.resolve(dir) : path.resolve(this.projectsRoot, dir);
    const rel = path.relative(fs.realpathSync(this.projectsRoot), fs.existsSync(root) ? fs.realpathSync(root) : root);
    if (!opts.trusted && (rel.startsWith('..') || path.isAbsolute(rel))) {
      throw new PathOutsideRootError(`The project path ${JSON.stringify(dir)} is outside WEIR_PROJECTS_ROOT`);
    }
    if (!fs.existsSync(path.join(root, 'dbt_project.yml'))) throw new ProjectNotFoundError(`No dbt_project.yml in ${JSON.stringify(dir)}`);
    let modelSchema = opts.modelSchema ?? 'analytics';
    let { project, compiled } = await this.compile({ rootPath: root, modelSchema });
    const repo = this.ds.getRepository(ProjectOrmEntity);
    let e = await repo.findOne({ where: { name: project.name } });
    if (opts.modelSchema === undefined && e && e.modelSchema !== modelSchema) {
      // a refresh without modelSchema keeps the one the project was registered with
      modelSchema = e.modelSchema;
      ({ project, compiled } = await this.compile({ rootPath: root, modelSchema }));
    }
    if (e && e.rootPath !== root) throw new ProjectExistsError(`A project named "${project.name}" is registered from ${e.rootPath}`);
    e = await repo.save(Object.assign(e ?? repo.create(), { name: project.name, rootPath: root, modelSchema, updatedAt: new Date() }));
    this.log.log(`project ${project.name}: ${compiled.nodes.size} nodes from ${root}`);
    return this.view(e, compiled);
  }

  /**
   * Registers (or refreshes) a project from an uploaded .tar/.tar.gz: extracted to a scratch directory,
   * compiled there, and only then swapped into `$WEIR_PROJECTS_ROOT/.uploads/<project name>`; a bad
   * archive or a project that does not compile leaves the registered version untouched.
   */
  async registerArchive(archive: Buffer, opts: { modelSchema?: string } = {}): Promise<ProjectView> {
    const uploads = path.join(this.projectsRoot, '.uploads');
    fs.mkdirSync(uploads, { recursive: true });
    const scratch = path.join(uploads, `.tmp-${randomUUID()}`);
    try {
      const root = await extractProjectArchive(archive, scratch, this.modelingConfig.archive);
      const { project } = await this.compile({ rootPath: root, modelSchema: opts.modelSchema ?? 'analytics' });
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(project.name)) throw new CompileFailedError(`dbt_project.yml: name ${JSON.stringify(project.name)} must be a valid identifier`);
      const final = path.join(uploads, project.name);
      const existing = await this.ds.getRepository(ProjectOrmEntity).findOne({ where: { name: project.name } });
      if (existing && existing.rootPath !== final) throw new ProjectExistsError(`A project named "${project.name}" is registered from ${existing.rootPath}`);
      const old = `${final}.old-${randomUUID()}`;
      if (fs.existsSync(final)) fs.renameSync(final, old);
      fs.renameSync(root, final);
      fs.rmSync(old, { recursive: true, force: true });
      this.log.log(`project ${project.name}: archive of ${archive.length} bytes extracted to ${final}`);
      return await this.register(final, { modelSchema: opts.modelSchema });
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }

  private view(e: ProjectOrmEntity, compiled: CompiledProject): ProjectView {
    return {
      id: e.id,
      name: e.name,
      rootPath: e.rootPath,
      modelSchema: e.modelSchema,
      nodes: [...compiled.nodes.values()].map((n) => ({ id: n.id, kind: n.kind, name: n.name, relation: n.relation, materialized: n.materialized, tags: n.tags, dependsOn: n.dependsOn })),
      order: compiled.order,
    };
  }

  async entity(idOrName: string): Promise<ProjectOrmEntity> {
    const repo = this.ds.getRepository(ProjectOrmEntity);
    const e = UUID.test(idOrName) ? await repo.findOne({ where: { id: idOrName } }) : await repo.findOne({ where: { name: idOrName } });
    if (!e) throw new ProjectNotFoundError(`No project ${JSON.stringify(idOrName)}`);
    return e;
  }

  async get(idOrName: string): Promise<ProjectView> {
    const e = await this.entity(idOrName);
    return this.view(e, (await this.compile(e)).compiled);
  }

  async list(): Promise<{ id: string; name: string; rootPath: string }[]> {
    return (await this.ds.getRepository(ProjectOrmEntity).find({ order: { name: 'ASC' } })).map((p) => ({ id: p.id, name: p.name, rootPath: p.rootPath }));
  }

  /** The compiled SQL of a model (in the given project, or the only project that has it). */
  async compiledSql(model: string, projectIdOrName?: string): Promise<{ project: string; model: string; relation: string; materialized: string; sql: string }> {
    const projects = projectIdOrName ? [await this.entity(projectIdOrName)] : await this.ds.getRepository(ProjectOrmEntity).find();
    for (const p of projects) {
      const n = (await this.compile(p)).compiled.nodes.get(`model.${model}`);
      if (n) return { project: p.name, model, relation: n.relation, materialized: n.materialized!, sql: n.compiledSql! };
    }
    throw new ModelNotFoundError(`No model ${JSON.stringify(model)}${projectIdOrName ? ` in project ${projectIdOrName}` : ''}`);
  }

  /** Starts a build of the selection; returns at once with the steps pending. */
  async build(projectIdOrName: string, selector?: string, opts: BuildOptions = {}): Promise<BuildView> {
    const fullRefresh = opts.fullRefresh === true;
    const takeOver = opts.takeOver === true;
    const p = await this.entity(projectIdOrName);
    const { project, compiled } = await this.compile(p);
    let ids: string[];
    try {
      ids = select(compiled, selector, auditParents(project, compiled)).filter((id) => compiled.nodes.get(id)!.kind !== 'source');
    } catch (e) {
      throw new BadSelectorError((e as Error).message);
    }
    // the build, its pending steps (in DAG order) and its START event: one statement
    const b = { id: randomUUID() };
    await this.outbox.publishAlong(
      this.ds,
      `SELECT id FROM b`,
      [b.id, p.id, selector ?? null, fullRefresh, ids, ids.map((id) => compiled.nodes.get(id)!.materialized ?? (id.startsWith('seed.') ? 'seed' : null)), takeOver],
      RUN_EVENTS_TOPIC,
      this.buildEvent(b.id, compiled.name, 'START'),
      `${b.id}:START`,
      `b AS (INSERT INTO modeling.builds (id, project_id, selector, full_refresh, take_over, status) VALUES ($1, $2, $3, $4, $7, 'running') RETURNING id),
       s AS (INSERT INTO modeling.build_steps (build_id, node_id, materialized, status)
             SELECT b.id, x.node, x.mat, 'pending' FROM b, unnest($5::text[], $6::text[]) WITH ORDINALITY x(node, mat, ord) ORDER BY x.ord)`,
    );
    const run = this.execute(b.id, p, project, compiled, ids, { fullRefresh, takeOver }).catch((e) => this.log.error(`build ${b.id}: ${(e as Error).message}`));
    this.running.add(run);
    this.inProcess.set(b.id, run);
    void run.finally(() => {
      this.running.delete(run);
      this.inProcess.delete(b.id);
    });
    return this.getBuild(b.id);
  }

  async waitForBuild(id: string, timeoutMs = 600_000): Promise<BuildView> {
    const local = this.inProcess.get(id);
    if (local) await local;
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      const b = await this.getBuild(id);
      if (b.status !== 'running') return b;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`build ${id} did not finish within ${timeoutMs} ms`);
  }

  async getBuild(id: string): Promise<BuildView> {
    type Row = { id: string; project_id: string; selector: string | null; full_refresh: boolean; take_over: boolean; status: string; started_at: Date; finished_at: Date | null; steps: StepRow[] | null };
    type StepRow = { node_id: string; materialized: string | null; status: string; started_at: string | null; finished_at: string | null; rows_affected: number | string | null; error: string | null; error_code: string | null; refs: Record<string, unknown> | null };
    // the build and its steps in one round trip (builds are polled)
    const rows: Row[] = UUID.test(id)
      ? await this.ds.query(
          `SELECT b.id, b.project_id, b.selector, b.full_refresh, b.take_over, b.status, b.started_at, b.finished_at,
                  (SELECT json_agg(json_build_object('node_id', s.node_id, 'materialized', s.materialized, 'status', s.status, 'started_at', s.started_at, 'finished_at', s.finished_at,
                                                     'rows_affected', s.rows_affected, 'error', s.error, 'error_code', s.error_code, 'refs', s.refs) ORDER BY s.id)
                     FROM modeling.build_steps s WHERE s.build_id = b.id) AS steps
             FROM modeling.builds b WHERE b.id = $1`,
          [id],
        )
      : [];
    const b = rows[0];
    if (!b) throw new BuildNotFoundError(`No build ${JSON.stringify(id)}`);
    const iso = (t: string | null) => (t === null ? null : new Date(t).toISOString());
    return {
      id: b.id,
      projectId: b.project_id,
      selector: b.selector,
      fullRefresh: b.full_refresh,
      takeOver: b.take_over,
      status: b.status,
      startedAt: b.started_at.toISOString(),
      finishedAt: b.finished_at?.toISOString() ?? null,
      steps: (b.steps ?? []).map((s) => ({
        node: s.node_id,
        materialized: s.materialized,
        status: s.status,
        startedAt: iso(s.started_at),
        finishedAt: iso(s.finished_at),
        rowsAffected: s.rows_affected === null ? null : Number(s.rows_affected),
        error: s.error,
        errorCode: s.error_code,
        refs: s.refs,
      })),
    };
  }

  /** Runs the steps in DAG order, up to PARALLEL at a time; a failed node skips its descendants. */
  private async execute(buildId: string, p: ProjectOrmEntity, project: Project, compiled: CompiledProject, ids: string[], opts: BuildOptions): Promise<void> {
    // the heartbeat also notices when a worker took the build as interrupted: no step starts after that
    let executing = true;
    const heartbeat = setInterval(
      () =>
        void this.ds
          .query(`UPDATE modeling.builds SET heartbeat_at = now() WHERE id = $1 AND status = 'running' RETURNING id`, [buildId])
          .then((r) => {
            if (!rowsOf(r).length && executing) this.interrupted.add(buildId);
          })
          .catch(() => undefined),
      HEARTBEAT_MS,
    );
    heartbeat.unref();
    try {
      await this.executeSteps(buildId, p, project, compiled, ids, opts);
    } finally {
      executing = false;
      clearInterval(heartbeat);
      this.interrupted.delete(buildId);
    }
  }

  private async executeSteps(buildId: string, p: ProjectOrmEntity, project: Project, compiled: CompiledProject, ids: string[], opts: BuildOptions): Promise<void> {
    const chosen = new Set(ids);
    // a model's audit (its relationships tests) reads other models: build those first
    const auditDeps = auditParents(project, compiled);
    const state = new Map<string, 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped'>(ids.map((id) => [id, 'pending']));
    const skips: Promise<unknown>[] = [];
    const fail = (id: string, e: unknown) => {
      const error = e instanceof Error ? e.message : String(e);
      const code = e instanceof DomainError ? e.code : 'MODELING.STEP_FAILED';
      return this.updateStep(buildId, id, { status: 'failed', finishedAt: new Date(), error, errorCode: code }, this.stepEvent(buildId, compiled, compiled.nodes.get(id)!, 'FAIL', { error: { code, message: error.slice(0, 2000) } }));
    };
    await new Promise<void>((resolve) => {
      let active = 0;
      const pump = () => {
        for (const id of ids) {
          if (state.get(id) !== 'pending') continue;
          const deps = [...compiled.nodes.get(id)!.dependsOn, ...auditDeps(id)].filter((d) => chosen.has(d));
          if (deps.some((d) => state.get(d) === 'failed' || state.get(d) === 'skipped')) {
            state.set(id, 'skipped');
            skips.push(this.updateStep(buildId, id, { status: 'skipped', error: `skipped: upstream ${deps.filter((d) => state.get(d) === 'failed' || state.get(d) === 'skipped').join(', ')} did not build` }, undefined).catch((e) => this.log.error(`build ${buildId}: recording ${id} skipped failed: ${(e as Error).message}`)));
            continue;
          }
          if (active >= PARALLEL || deps.some((d) => state.get(d) !== 'succeeded')) continue;
          if (this.interrupted.has(buildId)) {
            state.set(id, 'skipped'); // taken as interrupted: recovery recorded the step already
            continue;
          }
          active++;
          state.set(id, 'running');
          void this.step(buildId, id, p, project, compiled, opts)
            .then(() => state.set(id, 'succeeded'))
            .catch(async (e) => {
              state.set(id, 'failed');
              await fail(id, e).catch((err) => this.log.error(`build ${buildId}: recording ${id} failed: ${(err as Error).message}`));
            })
            .finally(() => {
              active--;
              pump();
            });
        }
        if (active === 0 && [...state.values()].every((s) => s !== 'pending' && s !== 'running')) resolve();
      };
      pump();
    });
    // the skipped steps are recorded before the build ends (a reader of the ended build sees them)
    await Promise.all(skips);
    const failed = [...state.values()].some((s) => s === 'failed' || s === 'skipped');
    const ended = failed ? 'FAIL' : 'COMPLETE';
    await this.outbox.publishAlong(
      this.ds,
      // a build another worker took as interrupted keeps that verdict (and its one FAIL event)
      `UPDATE modeling.builds SET status = $2, finished_at = $3 WHERE id = $1 AND status = 'running' RETURNING id`,
      [buildId, failed ? 'failed' : 'succeeded', new Date()],
      RUN_EVENTS_TOPIC,
      this.buildEvent(buildId, compiled.name, ended, failed ? { error: { code: 'MODELING.BUILD_FAILED', message: [...state.entries()].filter(([, v]) => v !== 'succeeded').map(([k, v]) => `${k} ${v}`).join(', ') } } : {}),
      `${buildId}:${ended}`,
    );
    this.log.log(`build ${buildId}: ${failed ? 'failed' : 'succeeded'} (${[...state.entries()].map(([k, v]) => `${k} ${v}`).join(', ')})`);
  }

  private async step(buildId: string, id: string, p: ProjectOrmEntity, project: Project, compiled: CompiledProject, opts: BuildOptions): Promise<void> {
    const n = compiled.nodes.get(id)!;
    if (!(await this.updateStep(buildId, id, { status: 'running', startedAt: new Date(), compiledSql: n.compiledSql ?? null }, this.stepEvent(buildId, compiled, n, 'START')))) {
      throw new InterruptedError(`build ${buildId} was taken as interrupted; ${id} not started`);
    }
    const done = (patch: StepPatch): Promise<void> =>
      this.updateStep(buildId, id, { status: 'succeeded', finishedAt: new Date(), ...patch }, this.stepEvent(buildId, compiled, n, 'COMPLETE', patch.rowsAffected != null ? { stats: { rowsWritten: Number(patch.rowsAffected) } } : {})).then(() => undefined);
    if (n.materialized === 'ephemeral') return done({ error: null, refs: { note: 'ephemeral: inlined as a CTE where referenced' } });
    // a relation recorded for another project or for ingestion is never written without takeOver
    await this.catalog.claim({ name: n.name, schema: n.schema, table: n.table, managedBy: `modeling:${p.name}`, takeOver: opts.takeOver, code: 'MODELING.RELATION_OWNED_ELSEWHERE' }, `modeling:${p.name}`);
    if (n.kind === 'seed') return done(await this.seed(p, project, n));
    if (n.kind === 'snapshot') {
      const patch = await this.snapshot(n);
      await this.registerRelation(project, n);
      return done(patch);
    }
    // one build of a relation at a time, across builds and processes: they share its scratch
    // relations (`__weir_build_*`, `__weir_incr_*`), and the second must see the first's result
    const release = await this.lockRelation(n);
    try {
      await this.adoptUnaliased(n);
      if (n.materialized === 'incremental') return await done(await this.incremental(p, project, compiled, n, opts.fullRefresh === true));
      return await done(await this.model(project, compiled, n));
    } finally {
      await release();
    }
  }

  /** A session-level advisory lock on the relation a model builds, on its own connection; waits for a holder. */
  private async lockRelation(n: CompiledNode): Promise<() => Promise<void>> {
    const client = await this.warehouse.pool.connect();
    const key = `weir.build:${n.schema}.${n.table}`;
    try {
      await client.query(`SELECT pg_advisory_lock(hashtextextended($1, 0))`, [key]);
    } catch (e) {
      client.release(true);
      throw e;
    }
    return async () => {
      try {
        await client.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [key]);
        client.release();
      } catch {
        client.release(true); // a broken connection ends the session, and the lock with it
      }
    };
  }

  /** Deterministic run id of a build step (RFC 9562 version 8: derived from the build id and the node id). */
  static stepRunId(buildId: string, nodeId: string): string {
    const h = createHash('sha256').update(`${buildId}/${nodeId}`).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16], 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /** The build's own run (the parent of its steps' runs). */
  private buildEvent(buildId: string, project: string, state: RunStateEvent['state'], extra: Partial<RunStateEvent> = {}): RunStateEvent {
    return { slice: 'modeling', job: `build.${project}`, jobType: 'JOB', runId: buildId, state, at: new Date().toISOString(), inputs: [], outputs: [], ...extra };
  }

  /**
   * Updates a step and, in the same statement, publishes its state change through the outbox
   * (one round trip, atomic). No event for ephemeral models, which build nothing.
   */
  private async updateStep(buildId: string, nodeId: string, patch: StepPatch, event: RunStateEvent | undefined): Promise<boolean> {
    const columns: Record<keyof StepPatch, string> = { status: 'status', startedAt: 'started_at', finishedAt: 'finished_at', rowsAffected: 'rows_affected', compiledSql: 'compiled_sql', error: 'error', errorCode: 'error_code', refs: 'refs' };
    const keys = (Object.keys(patch) as (keyof StepPatch)[]).filter((k) => patch[k] !== undefined);
    if (!keys.length) throw new Error(`updateStep ${nodeId}: empty patch`);
    const params: unknown[] = [buildId, nodeId, ...keys.map((k) => (k === 'refs' && patch.refs !== null ? JSON.stringify(patch.refs) : patch[k]))];
    // only while the build is still running: a build a worker took as interrupted keeps the states
    // recovery gave its steps, and sends no more events
    const sql = `UPDATE modeling.build_steps SET ${keys.map((k, i) => `${columns[k]} = $${i + 3}`).join(', ')}
                  WHERE build_id = $1 AND node_id = $2 AND EXISTS (SELECT 1 FROM modeling.builds b WHERE b.id = $1 AND b.status = 'running' FOR SHARE) RETURNING id`;
    if (event) return (await this.outbox.publishAlong(this.ds, sql, params, RUN_EVENTS_TOPIC, event, `${event.runId}:${event.state}`)).length > 0;
    return rowsOf(await this.ds.query(sql, params)).length > 0;
  }

  /**
   * The event of a step's state change (job `model.<project>.<name>`, like dbt's): its inputs are the relations it reads, its output the relation it builds, and its SQL
   * goes along so lineage can derive the column lineage. Ephemeral models build nothing: no event.
   */
  private stepEvent(buildId: string, compiled: CompiledProject, n: CompiledNode, state: RunStateEvent['state'], extra: Partial<RunStateEvent> = {}): RunStateEvent | undefined {
    if (n.materialized === 'ephemeral') return undefined;
    const plain = (node: CompiledNode) => `${node.schema}.${node.table}`;
    const relationOf = (node: CompiledNode): string[] => (node.materialized === 'ephemeral' ? node.dependsOn.flatMap((d) => relationOf(compiled.nodes.get(d)!)) : [plain(node)]);
    const inputs = [...new Set(n.dependsOn.flatMap((d) => relationOf(compiled.nodes.get(d)!)))].map((name) => ({ name }));
    const event: RunStateEvent = {
      slice: 'modeling',
      job: `${n.kind}.${compiled.name}.${n.name}`,
      jobType: n.kind === 'model' ? 'MODEL' : n.kind === 'snapshot' ? 'SNAPSHOT' : 'SEED',
      runId: ModelingService.stepRunId(buildId, n.id),
      state,
      at: new Date().toISOString(),
      parent: { job: `build.${compiled.name}`, runId: buildId },
      inputs,
      outputs: [{ name: plain(n) }],
      ...(n.compiledSql && n.kind !== 'seed' ? { sql: n.compiledSql } : {}),
      ...extra,
    };
    return event;
  }

  /**
   * Seeds load through ingestion (file source, replace): contracts, dead letters and accounting
   * included. The contract is inferred by ingestion's own reader (BOM, quoting and gzip read as the
   * load reads them); column names follow dbt-postgres: the header as written (`quote_columns`
   * true, the default), or folded to lower case (`quote_columns: false`). The seed's source is the
   * project's (managed_by), named `seed_<project>_<seed>` or, when that is over 63 characters, a
   * prefix and a stable hash of the full name, so no two seeds share one.
   */
  private async seed(p: ProjectOrmEntity, project: Project, n: CompiledNode): Promise<StepPatch> {
    const quote = n.config['quote_columns'];
    if (quote !== undefined && typeof quote !== 'boolean') throw new BadConfigError(`${n.path}: quote_columns must be true or false`);
    const delimiter = n.config['delimiter'] === undefined ? undefined : String(n.config['delimiter']);
    const r = await this.seeds.load({
      name: n.name,
      project: p.name,
      file: path.join(project.root, n.path!),
      schema: n.schema,
      table: n.table,
      managedBy: `modeling:${p.name}`,
      ...(quote !== undefined ? { quoteColumns: quote } : {}),
      ...(delimiter ? { delimiter } : {}),
    });
    if (!r.ok) throw new SeedFailedError(r.reason === 'no_header' ? `${n.path}: ${r.message}` : `seed ${n.name}: ${r.message}`);
    return { rowsAffected: String(r.run.rowsLoaded), refs: { ingestionRun: r.run.id, source: r.source, ...(r.renamedColumns.length ? { renamedColumns: r.renamedColumns } : {}) } };
  }

  /** A view or table: build a new relation, audit it, swap it in; the old version stays live on failure. */
  private async model(project: Project, compiled: CompiledProject, n: CompiledNode, uniqueKey: string[] = []): Promise<StepPatch> {
    const building = `__weir_build_${n.table}`.slice(0, 63);
    // the relation is the model's alias when it has one (config alias), else its name
    const target = qualifiedTable(n.schema, n.table);
    const fresh = qualifiedTable(n.schema, building);
    const kind = n.materialized === 'view' ? 'VIEW' : 'TABLE';
    await this.warehouse.ensureSchema(n.schema);
    await this.warehouse.query(`DROP ${kind} IF EXISTS ${fresh}`);
    await this.prepareWriter(n);
    let rows: number | null = null;
    try {
      const r = await writeAsWriter(this.warehouse.pool, `CREATE ${kind} ${fresh} AS ${asSubquery(n.compiledSql!)}`, (m) => this.log.warn(m));
      rows = kind === 'TABLE' ? r : null;
      if (uniqueKey.length) {
        // incremental models merge on their unique_key: the index makes that (and the key) hold
        await this.warehouse.query(`CREATE UNIQUE INDEX ${quoteIdent(`${building}_uk`.slice(0, 63))} ON ${fresh} (${uniqueKey.map((k) => quoteIdent(k, 'column')).join(', ')})`);
      }
    } catch (e) {
      throw new ModelSqlFailedError(`${n.path}: ${(e as Error).message}`);
    }
    // the dataset's contract follows the built relation; YAML tests become its quality suite
    const columns = await this.warehouse.query<{ column_name: string; data_type: string; numeric_precision: number | null; numeric_scale: number | null; is_nullable: string }>(
      `SELECT column_name, data_type, numeric_precision, numeric_scale, is_nullable FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [n.schema, building],
    );
    const props = project.properties.get(n.name);
    const enforced = (n.config['contract'] as { enforced?: unknown } | undefined)?.enforced === true;
    if (enforced) {
      const built = await this.warehouse.query<{ name: string; type: string }>(
        `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
        [fresh],
      );
      const diff = contractDiff(props?.columns ?? [], built);
      if (diff.length) {
        await this.warehouse.query(`DROP ${kind} IF EXISTS ${fresh}`).catch(() => undefined);
        throw new ContractViolatedError(`${n.path}: the enforced contract does not match the built columns: ${diff.join('; ')}`);
      }
    }
    const contract: DatasetContract = {
      columns: columns.map(
        (c): ColumnContract => ({
          name: c.column_name,
          type: contractType(c.data_type, c.numeric_precision, c.numeric_scale),
          nullable: true,
          ...(props?.columns?.find((x) => x.name === c.column_name)?.description
            ? { description: renderDescription(props!.columns!.find((x) => x.name === c.column_name)!.description, project.docs, props!.file) }
            : {}),
        }),
      ),
    };
    // classify the schema change against the live version, and name who reads this model
    const before = await this.catalog.findDataset(n.name);
    const change = before ? classifyChange(before.contract, contract) : undefined;
    const downstream = [...compiled.nodes.values()].filter((x) => x.dependsOn.includes(n.id)).map((x) => x.id);
    const schemaChange = change && change.kind !== 'none' ? { kind: change.kind, details: change.details, ...(change.kind === 'breaking' ? { affectedDownstream: downstream } : {}) } : undefined;
    if (schemaChange?.kind === 'breaking') this.log.warn(`${n.id}: breaking schema change (${change!.details.join('; ')}); downstream: ${downstream.join(', ') || 'none'}`);
    // versioned datasets (config `version: N`): a breaking change needs a new version; the old one stays readable
    const declared = n.config['version'] === undefined ? undefined : Number(n.config['version']);
    if (declared !== undefined && (!Number.isInteger(declared) || declared < 1)) {
      await this.warehouse.query(`DROP ${kind} IF EXISTS ${fresh}`).catch(() => undefined);
      throw new BadConfigError(`${n.path}: version must be a positive integer`);
    }
    const published = before?.release ?? null;
    if (published !== null && declared !== undefined && declared < published) {
      await this.warehouse.query(`DROP ${kind} IF EXISTS ${fresh}`).catch(() => undefined);
      throw new VersionRegressionError(`${n.path}: version ${declared} is below the published version ${published}`);
    }
    if (change?.kind === 'breaking' && published !== null && (declared === undefined || declared <= published)) {
      await this.warehouse.query(`DROP ${kind} IF EXISTS ${fresh}`).catch(() => undefined);
      throw new BreakingChangeError(`${n.path}: breaking change to ${n.name} v${published} (${change.details.join('; ')}); downstream: ${downstream.join(', ') || 'none'}. Declare version: ${published + 1} to publish it as a new version (v${published} stays readable as ${n.table}_v${published})`);
    }
    const newVersion = published !== null && declared !== undefined && declared > published;
    try {
      await this.catalog.ensureDataset({ name: n.name, schema: n.schema, table: n.table, contract, description: renderDescription(props?.description, project.docs, props?.file) ?? null, tags: [...n.tags, `project:${project.name}`], managedBy: `modeling:${project.name}` }, `modeling:${project.name}`);
      await this.syncYamlSuite(project, compiled, n);
      const verdict = await this.gate.check({ dataset: n.name, schema: n.schema, table: building, runId: `build:${n.id}`, rows: rows ?? 0 });
      if (!verdict.passed) {
        throw new GateFailedError(`audit failed, the old version stays live: ${verdict.failures.filter((f) => f.severity === 'error').map((f) => f.message).join('; ')}`);
      }
      let replaced: string | undefined;
      await this.warehouse.transaction(async (c) => {
        const was = (await c.query(`SELECT relkind FROM pg_class WHERE oid = to_regclass($1)`, [target])).rows[0]?.relkind as string | undefined;
        if (was !== undefined && (was === 'v') !== (kind === 'VIEW')) replaced = RELATION_KINDS[was] ?? was;
        if (was !== undefined && newVersion) {
          // the published version stays readable under its versioned name until retired
          await c.query(`ALTER ${dropKind(was)} ${target} RENAME TO ${quoteIdent(`${n.table}_v${published}`.slice(0, 63))}`);
        } else if (was !== undefined) {
          try {
            // whatever the relation was (a view, a table, a materialized view), it is replaced, never written into
            await c.query(`DROP ${dropKind(was)} ${target}`);
          } catch (e) {
            if ((e as { code?: string }).code === '2BP01') {
              throw new DependentObjectsError(`${target} has dependent views; build them in the same selection (${n.name}+)`);
            }
            throw e;
          }
        }
        await c.query(`ALTER ${kind} ${fresh} RENAME TO ${quoteIdent(n.table)}`);
        if (uniqueKey.length) await c.query(`ALTER INDEX ${qualifiedTable(n.schema, `${building}_uk`.slice(0, 63))} RENAME TO ${quoteIdent(`${n.table}_uk`.slice(0, 63))}`);
      });
      if (declared !== undefined && declared !== published) await this.catalog.setRelease(n.name, declared);
      const refs = {
        ...(replaced ? { replaced: { was: replaced, now: kind === 'VIEW' ? 'view' : 'table' } } : {}),
        ...(verdict.runIds?.length ? { qualityRuns: verdict.runIds } : {}),
        ...(schemaChange ? { schemaChange } : {}),
        ...(newVersion ? { published: declared, previousVersion: `${n.schema}.${n.table}_v${published}` } : {}),
      };
      return { rowsAffected: rows === null ? null : String(rows), refs: Object.keys(refs).length ? refs : null };
    } catch (e) {
      await this.warehouse.query(`DROP ${kind} IF EXISTS ${fresh}`).catch(() => undefined);
      throw e;
    }
  }

  /**
   * Incremental models: the first build (or a full refresh) builds the whole table; later builds
   * stage the new rows (is_incremental() is true), audit them, and apply them in one transaction
   * by strategy — append, merge (MERGE on unique_key) or delete+insert — after settling schema
   * changes per on_schema_change (ignore | fail | append_new_columns | sync_all_columns).
   */
  private async incremental(p: ProjectOrmEntity, project: Project, compiled: CompiledProject, n: CompiledNode, fullRefresh: boolean): Promise<StepPatch> {
    const keyCfg = n.config['unique_key'];
    const uniqueKey = Array.isArray(keyCfg) ? keyCfg.map(String) : typeof keyCfg === 'string' ? keyCfg.split(',').map((k) => k.trim()).filter(Boolean) : [];
    const strategy = String(n.config['incremental_strategy'] ?? (uniqueKey.length ? 'merge' : 'append'));
    if (!['append', 'merge', 'delete+insert'].includes(strategy)) throw new BadConfigError(`${n.path}: incremental_strategy must be append, merge or delete+insert`);
    if (strategy !== 'append' && uniqueKey.length === 0) throw new BadConfigError(`${n.path}: incremental_strategy ${strategy} needs unique_key`);
    const onSchemaChange = String(n.config['on_schema_change'] ?? 'ignore');
    const target = qualifiedTable(n.schema, n.table);
    // an incremental build only ever writes into a table: a view (PostgreSQL would pass the rows
    // through it into its base table) or any other kind of relation is replaced by a full build
    const kind = await relationKind(this.warehouse, target);
    if (kind === undefined || fullRefresh || !TABLE_KINDS.has(kind)) return this.model(project, compiled, n, uniqueKey);

    const again = (await this.compile(p, new Set([n.id]))).compiled.nodes.get(n.id)!;
    const staging = qualifiedTable(n.schema, `__weir_incr_${n.table}`.slice(0, 63));
    await this.warehouse.query(`DROP TABLE IF EXISTS ${staging}`);
    let dropped = false;
    try {
      let staged: number;
      try {
        await this.prepareWriter(n);
        staged = await writeAsWriter(this.warehouse.pool, `CREATE UNLOGGED TABLE ${staging} AS ${asSubquery(again.compiledSql!)}`, (m) => this.log.warn(m));
      } catch (e) {
        throw new ModelSqlFailedError(`${n.path}: ${(e as Error).message}`);
      }
      const both = await this.warehouse.query<{ target: boolean; name: string; type: string }>(
        `SELECT attrelid = $1::regclass AS target, attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
          WHERE attrelid IN ($1::regclass, $2::regclass) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
        [target, staging],
      );
      const have = both.filter((x) => x.target);
      const incoming = both.filter((x) => !x.target);
      const added = incoming.filter((c) => !have.some((h) => h.name === c.name));
      const removed = have.filter((h) => !incoming.some((c) => c.name === h.name));
      if ((added.length || removed.length) && onSchemaChange === 'fail') {
        throw new SchemaChangedError(`${n.path}: the columns changed (added ${added.map((c) => c.name).join(', ') || 'none'}; removed ${removed.map((c) => c.name).join(', ') || 'none'}) and on_schema_change is fail`);
      }
      const verdict = await this.gate.check({ dataset: n.name, schema: n.schema, table: `__weir_incr_${n.table}`.slice(0, 63), runId: `build:${n.id}`, rows: staged });
      if (!verdict.passed) {
        throw new GateFailedError(`audit of the new rows failed, nothing was applied: ${verdict.failures.filter((f) => f.severity === 'error').map((f) => f.message).join('; ')}`);
      }
      let path: string = strategy;
      await this.warehouse.transaction(async (c) => {
        // other builds of this model wait on the step's advisory lock; this keeps writers outside
        // Weir out between the key-range check and the apply (readers are not blocked)
        await c.query(`LOCK TABLE ${target} IN SHARE ROW EXCLUSIVE MODE`);
        if (onSchemaChange === 'append_new_columns' || onSchemaChange === 'sync_all_columns') {
          for (const a of added) await c.query(`ALTER TABLE ${target} ADD COLUMN ${quoteIdent(a.name, 'column')} ${a.type}`);
        }
        if (onSchemaChange === 'sync_all_columns') for (const r of removed) await c.query(`ALTER TABLE ${target} DROP COLUMN ${quoteIdent(r.name, 'column')}`);
        const now = onSchemaChange === 'append_new_columns' || onSchemaChange === 'sync_all_columns' ? incoming : incoming.filter((x) => have.some((h) => h.name === x.name));
        const list = now.map((x) => quoteIdent(x.name, 'column')).join(', ');
        if (strategy === 'append') {
          await c.query(`INSERT INTO ${target} (${list}) SELECT ${list} FROM ${staging}`);
        } else if (strategy === 'delete+insert') {
          const keys = uniqueKey.map((k) => quoteIdent(k, 'column')).join(', ');
          await c.query(`DELETE FROM ${target} t WHERE (${uniqueKey.map((k) => `t.${quoteIdent(k)}`).join(', ')}) IN (SELECT ${keys} FROM ${staging})`);
          await c.query(`INSERT INTO ${target} (${list}) SELECT ${list} FROM ${staging}`);
        } else if (await this.keyRangesDisjoint(c, target, staging, uniqueKey, have, incoming)) {
          // merge, when no key of the target lies within the staged keys' range (rows past the end,
          // the usual increment): nothing can match, so a plain INSERT does the MERGE's work without
          // probing the key index once per row (about 40% of the MERGE's time on 20k rows)
          path = 'merge (insert-only: staged keys beyond the target)';
          await c.query(`INSERT INTO ${target} (${list}) SELECT ${list} FROM ${staging}`);
        } else {
          const on = uniqueKey.map((k) => `t.${quoteIdent(k)} = s.${quoteIdent(k)}`).join(' AND ');
          const set = now.filter((x) => !uniqueKey.includes(x.name)).map((x) => `${quoteIdent(x.name)} = s.${quoteIdent(x.name)}`);
          await c.query(
            `MERGE INTO ${target} t USING ${staging} s ON ${on}
               ${set.length ? `WHEN MATCHED THEN UPDATE SET ${set.join(', ')}` : ''}
               WHEN NOT MATCHED THEN INSERT (${list}) VALUES (${now.map((x) => `s.${quoteIdent(x.name)}`).join(', ')})`,
          );
        }
        await c.query(`DROP TABLE ${staging}`);
      });
      dropped = true;
      return { rowsAffected: String(staged), compiledSql: again.compiledSql ?? null, refs: { strategy, ...(path !== strategy ? { applied: path } : {}), ...(verdict.runIds?.length ? { qualityRuns: verdict.runIds } : {}) } };
    } finally {
      if (!dropped) await this.warehouse.query(`DROP TABLE IF EXISTS ${staging}`).catch(() => undefined);
    }
  }

  /**
   * True when a single-column unique key, of a type ordered without collation, has no value in
   * the target between the smallest and the largest staged key: then no staged row can match
   * (NULL keys never match either). One index range probe instead of one probe per staged row.
   * Composite, text and other keys answer false (the caller MERGEs).
   */
  private async keyRangesDisjoint(c: { query: (sql: string) => Promise<{ rows: { disjoint: boolean }[] }> }, target: string, staging: string, uniqueKey: string[], have: { name: string; type: string }[], incoming: { name: string; type: string }[]): Promise<boolean> {
    if (uniqueKey.length !== 1) return false;
    const [key] = uniqueKey;
    const type = incoming.find((x) => x.name === key)?.type;
    if (!type || have.find((x) => x.name === key)?.type !== type) return false;
    if (!/^(smallint|integer|bigint|numeric(\(\d+,\d+\))?|date|timestamp(\(\d\))? with(out)? time zone)$/.test(type)) return false;
    const k = quoteIdent(key, 'column');
    const r = await c.query(`SELECT NOT EXISTS (SELECT 1 FROM ${target} t WHERE t.${k} >= r.lo AND t.${k} <= r.hi) AS disjoint FROM (SELECT min(${k}) AS lo, max(${k}) AS hi FROM ${staging}) r`);
    return r.rows[0].disjoint === true;
  }

  /**
   * SCD type 2 snapshots (dbt's `timestamp` and `check` strategies, `unique_key`, `hard_deletes`
   * ignore | invalidate | new_record) with columns dbt_scd_id, dbt_updated_at, dbt_valid_from,
   * dbt_valid_to, dbt_is_deleted and a generated dbt_is_current. A partial unique index allows one
   * current row per key, the run holds an exclusive lock and works in one transaction, duplicates
   * of a key in one batch keep the latest row, and unchanged data changes nothing.
   */
  private async snapshot(n: CompiledNode): Promise<StepPatch> {
    const cfg = n.config;
    const keyCfg = cfg['unique_key'];
    const keys = Array.isArray(keyCfg) ? keyCfg.map(String) : typeof keyCfg === 'string' ? keyCfg.split(',').map((k) => k.trim()).filter(Boolean) : [];
    const strategy = String(cfg['strategy'] ?? '');
    const hardDeletes = String(cfg['hard_deletes'] ?? (cfg['invalidate_hard_deletes'] ? 'invalidate' : 'ignore'));
    if (keys.length === 0) throw new BadConfigError(`${n.path}: snapshot ${n.name} needs unique_key`);
    if (strategy !== 'timestamp' && strategy !== 'check') throw new BadConfigError(`${n.path}: snapshot strategy must be timestamp or check`);
    if (!['ignore', 'invalidate', 'new_record'].includes(hardDeletes)) throw new BadConfigError(`${n.path}: hard_deletes must be ignore, invalidate or new_record`);
    const updatedAt = strategy === 'timestamp' ? String(cfg['updated_at'] ?? '') : '';
    if (strategy === 'timestamp' && !updatedAt) throw new BadConfigError(`${n.path}: the timestamp strategy needs updated_at`);
    const target = n.relation;
    const k = keys.map((x) => quoteIdent(x, 'column'));
    const keyExpr = k.length === 1 ? `${k[0]}::text` : `concat_ws('|', ${k.map((x) => `${x}::text`).join(', ')})`;
    const stage = qualifiedTable(n.schema, `__weir_snap_${n.name}`.slice(0, 63));
    await this.warehouse.ensureSchema(n.schema);
    await this.prepareWriter(n);
    return this.warehouse.transaction(async (c) => {
      // the batch, one row per key (the latest by updated_at, or the last by content for check)
      const order = strategy === 'timestamp' ? `${quoteIdent(updatedAt, 'column')} DESC NULLS LAST` : `md5(s::text) DESC`;
      try {
        await writeAsWriter(c, `CREATE TEMP TABLE __weir_batch ON COMMIT DROP AS SELECT DISTINCT ON (${k.join(', ')}) s.* FROM ${asSubquery(n.compiledSql!)} s ORDER BY ${k.join(', ')}, ${order}`, (m) => this.log.warn(m));
      } catch (e) {
        throw new ModelSqlFailedError(`${n.path}: ${(e as Error).message}`);
      }
      const batchCols = (await c.query(`SELECT attname AS name FROM pg_attribute WHERE attrelid = 'pg_temp.__weir_batch'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`)).rows.map((r) => r.name as string);
      const cols = batchCols.map((x) => quoteIdent(x, 'column')).join(', ');
      const checkCols = strategy === 'check' ? (cfg['check_cols'] === 'all' || cfg['check_cols'] === undefined ? batchCols.filter((x) => !keys.includes(x)) : (cfg['check_cols'] as string[])) : [];
      const changeTs = strategy === 'timestamp' ? `b.${quoteIdent(updatedAt)}` : 'now()';
      const relkind = (await c.query(`SELECT relkind FROM pg_class WHERE oid = to_regclass($1)`, [target])).rows[0]?.relkind as string | undefined;
      void stage;
      if (relkind !== undefined) {
        // dbt's valid_snapshot_target: only a table with the snapshot's meta columns is written into
        const meta = (await c.query(`SELECT array_agg(attname::text) AS a FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`, [target])).rows[0].a as string[] | null;
        const missing = ['dbt_scd_id', 'dbt_valid_from', 'dbt_valid_to'].filter((m) => !(meta ?? []).includes(m));
        if (!TABLE_KINDS.has(relkind) || missing.length) {
          throw new NotASnapshotTableError(`${n.path}: ${target} exists as a ${RELATION_KINDS[relkind] ?? relkind}${missing.length ? ` without ${missing.join(', ')}` : ''}, not a snapshot table; nothing was written. Drop or rename it to start the snapshot`);
        }
      }
      if (relkind === undefined) {
        await c.query(
          `CREATE TABLE ${target} AS SELECT b.*, md5(${keyExpr.replace(/"/g, '"')} || '|' || ${changeTs}::text) AS dbt_scd_id, ${changeTs}::timestamptz AS dbt_updated_at,
                  ${changeTs}::timestamptz AS dbt_valid_from, NULL::timestamptz AS dbt_valid_to, false AS dbt_is_deleted FROM __weir_batch b`,
        );
        await c.query(`ALTER TABLE ${target} ADD COLUMN dbt_is_current boolean GENERATED ALWAYS AS (dbt_valid_to IS NULL) STORED`);
        await c.query(`CREATE UNIQUE INDEX ${quoteIdent(`${n.name}_one_current`.slice(0, 63))} ON ${target} (${k.join(', ')}) WHERE dbt_valid_to IS NULL`);
        const inserted = (await c.query(`SELECT count(*)::int AS n FROM ${target}`)).rows[0].n;
        return { rowsAffected: String(inserted), refs: { inserted, invalidated: 0 } };
      }
      // one snapshot run at a time per target (a racing run waits, then sees this one's result)
      await c.query(`LOCK TABLE ${target} IN EXCLUSIVE MODE`);
      const join = keys.map((x) => `t.${quoteIdent(x)} = b.${quoteIdent(x)}`).join(' AND ');
      const changed =
        strategy === 'timestamp'
          ? `(t.dbt_is_deleted OR b.${quoteIdent(updatedAt)}::timestamptz > t.dbt_updated_at)`
          : `(t.dbt_is_deleted OR ${checkCols.map((x) => `t.${quoteIdent(x)} IS DISTINCT FROM b.${quoteIdent(x)}`).join(' OR ') || 'FALSE'})`;
      await c.query(`CREATE TEMP TABLE __weir_changes ON COMMIT DROP AS SELECT b.* FROM __weir_batch b JOIN ${target} t ON ${join} AND t.dbt_valid_to IS NULL WHERE ${changed}`);
      const invalidated = (
        await c.query(
          `UPDATE ${target} t SET dbt_valid_to = ${strategy === 'timestamp' ? `b.${quoteIdent(updatedAt)}::timestamptz` : 'now()'} FROM __weir_changes b WHERE ${join} AND t.dbt_valid_to IS NULL`,
        )
      ).rowCount ?? 0;
      const fresh = `SELECT b.* FROM __weir_batch b WHERE NOT EXISTS (SELECT 1 FROM ${target} t WHERE ${join} AND t.dbt_valid_to IS NULL)`;
      const inserted = (
        await c.query(
          `INSERT INTO ${target} (${cols}, dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to, dbt_is_deleted)
           SELECT ${batchCols.map((x) => `b.${quoteIdent(x)}`).join(', ')}, md5(${keyExpr.replace(/"([^"]+)"/g, 'b."$1"')} || '|' || ${changeTs}::text), ${changeTs}::timestamptz, ${changeTs}::timestamptz, NULL, false
             FROM (${fresh}) b`,
        )
      ).rowCount ?? 0;
      let deleted = 0;
      if (hardDeletes !== 'ignore') {
        const gone = `t.dbt_valid_to IS NULL AND NOT t.dbt_is_deleted AND NOT EXISTS (SELECT 1 FROM __weir_batch b WHERE ${join})`;
        if (hardDeletes === 'new_record') {
          await c.query(`CREATE TEMP TABLE __weir_gone ON COMMIT DROP AS SELECT * FROM ${target} t WHERE ${gone}`);
        }
        deleted = (await c.query(`UPDATE ${target} t SET dbt_valid_to = now() WHERE ${gone}`)).rowCount ?? 0;
        if (hardDeletes === 'new_record' && deleted) {
          await c.query(
            `INSERT INTO ${target} (${cols}, dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to, dbt_is_deleted)
             SELECT ${batchCols.map((x) => `g.${quoteIdent(x)}`).join(', ')}, md5(${keyExpr.replace(/"([^"]+)"/g, 'g."$1"')} || '|deleted|' || now()::text), now(), now(), NULL, true FROM __weir_gone g`,
          );
        }
      }
      return { rowsAffected: String(inserted), refs: { inserted, invalidated: invalidated + deleted, hardDeleted: deleted } };
    });
  }

  /** A model's SQL runs as the warehouse writer (see writeAsWriter): it may create in its schema and read the data plane. */
  private async prepareWriter(n: CompiledNode): Promise<void> {
    await prepareWriter(this.warehouse.pool, n.schema, (m) => this.log.warn(m));
  }

  /**
   * Weir once built an aliased model under its name: when the catalog still records the model at
   * `schema.name` and that relation exists while `schema.alias` does not, it is renamed to the
   * alias (with its unique index and versioned copies' naming following), so its data, an
   * incremental model's history in particular, carries over instead of being rebuilt beside it.
   */
  private async adoptUnaliased(n: CompiledNode): Promise<void> {
    if (n.table === n.name || n.kind !== 'model') return;
    const ds = await this.catalog.findDataset(n.name);
    if (!ds || ds.schema !== n.schema || ds.table !== n.name) return;
    const atAlias = await this.warehouse.transaction(async (c) => {
      const [{ old, kind, fresh }] = (
        await c.query(`SELECT to_regclass($1) AS old, (SELECT relkind FROM pg_class WHERE oid = to_regclass($1)) AS kind, to_regclass($2) AS fresh`, [qualifiedTable(n.schema, n.name), qualifiedTable(n.schema, n.table)])
      ).rows;
      if (!old || fresh) return fresh !== null;
      await c.query(`ALTER ${kind === 'v' ? 'VIEW' : 'TABLE'} ${qualifiedTable(n.schema, n.name)} RENAME TO ${quoteIdent(n.table)}`);
      const uk = (await c.query(`SELECT to_regclass($1) AS i`, [qualifiedTable(n.schema, `${n.name}_uk`.slice(0, 63))])).rows[0].i;
      if (uk) await c.query(`ALTER INDEX ${qualifiedTable(n.schema, `${n.name}_uk`.slice(0, 63))} RENAME TO ${quoteIdent(`${n.table}_uk`.slice(0, 63))}`);
      this.log.warn(`${n.id}: ${n.schema}.${n.name} was built before its alias was honoured; renamed to ${n.schema}.${n.table}`);
      return true;
    });
    if (atAlias) await this.catalog.setTable(n.name, n.table);
  }

  /** Records a built relation (snapshot) as a catalog dataset, its contract read from the table. */
  private async registerRelation(project: Project, n: CompiledNode): Promise<void> {
    const columns = await this.warehouse.query<{ column_name: string; data_type: string; numeric_precision: number | null; numeric_scale: number | null }>(
      `SELECT column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [n.schema, n.table],
    );
    const contract: DatasetContract = { columns: columns.map((c) => ({ name: c.column_name, type: contractType(c.data_type, c.numeric_precision, c.numeric_scale), nullable: true })) };
    await this.catalog.ensureDataset({ name: n.name, schema: n.schema, table: n.table, contract, tags: [n.kind, `project:${project.name}`], managedBy: `modeling:${project.name}` }, `modeling:${project.name}`);
  }

  /** The model's YAML tests as a quality suite named `dbt:<project>:<model>` (through the quality slice). */
  private async syncYamlSuite(project: Project, compiled: CompiledProject, n: CompiledNode): Promise<void> {
    const props = project.properties.get(n.name);
    const { expectations, problems } = props
      ? yamlTests(props, (ref) => {
          const t = compiled.nodes.get(`model.${ref}`) ?? compiled.nodes.get(`seed.${ref}`);
          return t ? `${t.schema}.${t.table}` : undefined; // the relation: a model's alias when it has one
        })
      : { expectations: [], problems: [] };
    if (problems.length) throw new UnsupportedTestError(problems.join('; '));
    await this.suites.upsertSuite(`dbt:${project.name}:${n.name}`.slice(0, 100), n.name, expectations, { source: 'dbt schema.yml', anomalies: { enabled: false } });
  }
}

/**
 * A model's SQL as dbt-postgres runs it: in parentheses (`create table … as (\n<sql>\n)`), so it
 * is one query — a second statement after a `;` is a syntax error, as in dbt — and a trailing
 * `-- comment` cannot swallow the closing parenthesis. Trailing semicolons are dropped.
 */
export function asSubquery(sql: string): string {
  return `(\n${sql.replace(/[\s;]+$/, '')}\n)`;
}

/** pg_class.relkind of the relations a build may meet. */
const RELATION_KINDS: Record<string, string> = { r: 'table', p: 'partitioned table', v: 'view', m: 'materialized view', f: 'foreign table' };
const TABLE_KINDS: ReadonlySet<string> = new Set(['r', 'p']);

/** The DROP/ALTER keyword of a relkind. */
function dropKind(relkind: string): string {
  return relkind === 'v' ? 'VIEW' : relkind === 'm' ? 'MATERIALIZED VIEW' : relkind === 'f' ? 'FOREIGN TABLE' : 'TABLE';
}

async function relationKind(warehouse: Warehouse, qualified: string): Promise<string | undefined> {
  return (await warehouse.query<{ relkind: string }>(`SELECT relkind FROM pg_class WHERE oid = to_regclass($1)`, [qualified]))[0]?.relkind;
}

const TYPE_ALIASES: Record<string, string> = {
  int: 'integer',
  int4: 'integer',
  int8: 'bigint',
  int2: 'smallint',
  bool: 'boolean',
  float: 'double precision',
  float8: 'double precision',
  float4: 'real',
  varchar: 'character varying',
  timestamp: 'timestamp without time zone',
  timestamptz: 'timestamp with time zone',
  string: 'text',
};

/** `varchar(10)` → `character varying(10)`, `INT` → `integer`: PostgreSQL's own spelling (format_type). */
export function normalizeType(t: string): string {
  const m = /^\s*([a-z_][a-z0-9_ ]*?)\s*(\(.*\))?\s*$/i.exec(t);
  if (!m) return t.trim().toLowerCase();
  const base = m[1].toLowerCase().replace(/\s+/g, ' ');
  return `${TYPE_ALIASES[base] ?? base}${m[2] ? m[2].replace(/\s+/g, '') : ''}`;
}

/** Differences between a model's declared columns (YAML, data_type) and what the SQL built. */
export function contractDiff(declared: { name: string; data_type?: string }[], built: { name: string; type: string }[]): string[] {
  const out: string[] = [];
  const have = new Map(built.map((b) => [b.name, normalizeType(b.type)]));
  for (const d of declared) {
    if (!have.has(d.name)) out.push(`missing column ${d.name}`);
    else if (!d.data_type) out.push(`column ${d.name} declares no data_type`);
    else if (normalizeType(d.data_type) !== have.get(d.name)) out.push(`column ${d.name} is ${have.get(d.name)}, the contract says ${normalizeType(d.data_type)}`);
  }
  for (const b of built) if (!declared.some((d) => d.name === b.name)) out.push(`unexpected column ${b.name}`);
  return out;
}

