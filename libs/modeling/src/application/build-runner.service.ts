import { Inject, Injectable, Logger } from '@nestjs/common';
import { DomainError, HEARTBEAT_MS, RunStateEvent, Warehouse } from '@weir/platform';
import { CATALOG, CatalogPort } from '@weir/catalog';
import { auditParents, CompiledNode, CompiledProject } from '../domain/compile';
import type { Project } from '../domain/project';
import { ProjectOrmEntity } from '../infrastructure/project.orm-entity';
import { lockRelation, renameUnaliased } from '../infrastructure/relation.lock';
import { InterruptedError } from '../modeling.errors';
import { BUILD_STORE, BuildStore } from './ports/build-store.port';
import { buildEvent, stepEvent, stepRunId } from './build.events';
import { IncrementalMaterializer } from '../infrastructure/materializers/incremental.materializer';
import { SeedMaterializer } from '../infrastructure/materializers/seed.materializer';
import { SnapshotMaterializer } from '../infrastructure/materializers/snapshot.materializer';
import { TableViewMaterializer } from '../infrastructure/materializers/table-view.materializer';
import { BuildOptions, StepPatch } from './modeling.views';

/** Steps of one build at a time, at most this many at once. */
const PARALLEL = 2;

/**
 * build-runner: runs a build's steps in DAG order (a failed node skips its descendants), each
 * through its materializer, recording every state change with its run event; keeps the build's
 * heartbeat, and stops starting steps once a worker took the build as interrupted.
 */
@Injectable()
export class BuildRunnerService {
  private readonly log = new Logger('modeling');
  /** Builds executing in this process (shutdown waits for them). */
  readonly running = new Set<Promise<void>>();
  /** The same, by build id, to wait on them without polling. */
  readonly inProcess = new Map<string, Promise<void>>();
  /** Builds of this process a worker took as interrupted (their heartbeat found them no longer running). */
  private readonly interrupted = new Set<string>();
  /** Builds asked to stop: no step of theirs starts any more. */
  private readonly cancelling = new Set<string>();

  /** Stops a build running in this process from starting steps (those running end; each is atomic). */
  cancel(buildId: string): boolean {
    if (!this.inProcess.has(buildId)) return false;
    if (!this.cancelling.has(buildId)) this.log.warn(`build ${buildId}: cancelled; no further step starts`);
    this.cancelling.add(buildId);
    return true;
  }

  constructor(
    @Inject(BUILD_STORE) private readonly store: BuildStore,
    private readonly warehouse: Warehouse,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    private readonly tables: TableViewMaterializer,
    private readonly incrementals: IncrementalMaterializer,
    private readonly snapshots: SnapshotMaterializer,
    private readonly seeds: SeedMaterializer,
  ) {}

  /** Starts executing a build in the background; it is tracked until it ends. */
  launch(
    buildId: string,
    p: ProjectOrmEntity,
    project: Project,
    compiled: CompiledProject,
    ids: string[],
    opts: BuildOptions,
  ): void {
    const run = this.execute(buildId, p, project, compiled, ids, opts).catch((e) =>
      this.log.error(`build ${buildId}: ${(e as Error).message}`),
    );
    this.running.add(run);
    this.inProcess.set(buildId, run);
    void run.finally(() => {
      this.running.delete(run);
      this.inProcess.delete(buildId);
    });
  }

  /** Runs the steps in DAG order, up to PARALLEL at a time; a failed node skips its descendants. */
  async execute(
    buildId: string,
    p: ProjectOrmEntity,
    project: Project,
    compiled: CompiledProject,
    ids: string[],
    opts: BuildOptions,
  ): Promise<void> {
    // the heartbeat also notices when a worker took the build as interrupted: no step starts after that
    let executing = true;
    const heartbeat = setInterval(
      () =>
        void this.store
          .heartbeat(buildId)
          .then(async (alive) => {
            if (!alive && executing) this.interrupted.add(buildId);
            if (alive && executing && !this.cancelling.has(buildId) && (await this.store.cancelRequested(buildId)))
              this.cancel(buildId);
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
      this.cancelling.delete(buildId);
    }
  }

  private async executeSteps(
    buildId: string,
    p: ProjectOrmEntity,
    project: Project,
    compiled: CompiledProject,
    ids: string[],
    opts: BuildOptions,
  ): Promise<void> {
    const chosen = new Set(ids);
    // a model's audit (its relationships tests) reads other models: build those first
    const auditDeps = auditParents(project, compiled);
    const state = new Map<string, 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped'>(
      ids.map((id) => [id, 'pending']),
    );
    const skips: Promise<unknown>[] = [];
    await new Promise<void>((resolve) => {
      let active = 0;
      const pump = () => {
        for (const id of ids) {
          if (state.get(id) !== 'pending') continue;
          const deps = [...compiled.nodes.get(id)!.dependsOn, ...auditDeps(id)].filter((d) => chosen.has(d));
          if (deps.some((d) => state.get(d) === 'failed' || state.get(d) === 'skipped')) {
            state.set(id, 'skipped');
            skips.push(
              this.updateStep(
                buildId,
                id,
                {
                  status: 'skipped',
                  error: `skipped: upstream ${deps.filter((d) => state.get(d) === 'failed' || state.get(d) === 'skipped').join(', ')} did not build`,
                },
                undefined,
              ).catch((e) =>
                this.log.error(`build ${buildId}: recording ${id} skipped failed: ${(e as Error).message}`),
              ),
            );
            continue;
          }
          if (this.cancelling.has(buildId)) {
            // cancelled: what has not started never starts (what runs ends: each step is atomic)
            state.set(id, 'skipped');
            skips.push(
              this.updateStep(buildId, id, { status: 'skipped', error: 'cancelled' }, undefined).catch((e) =>
                this.log.error(`build ${buildId}: recording ${id} skipped failed: ${(e as Error).message}`),
              ),
            );
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
              await this.recordFailure(buildId, compiled, id, e).catch((err) =>
                this.log.error(`build ${buildId}: recording ${id} failed: ${(err as Error).message}`),
              );
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
    await this.endBuild(buildId, compiled, state, opts.parent);
  }

  /** A step that failed: its state, its error code (MODELING.STEP_FAILED when unexpected) and its FAIL event. */
  private recordFailure(buildId: string, compiled: CompiledProject, id: string, e: unknown): Promise<boolean> {
    const error = e instanceof Error ? e.message : String(e);
    const code = e instanceof DomainError ? e.code : 'MODELING.STEP_FAILED';
    return this.updateStep(
      buildId,
      id,
      { status: 'failed', finishedAt: new Date(), error, errorCode: code },
      stepEvent(buildId, compiled, compiled.nodes.get(id)!, 'FAIL', {
        error: { code, message: error.slice(0, 2000) },
      }),
    );
  }

  /** The build's end and its COMPLETE or FAIL event, in one statement; a build already taken as interrupted keeps that. */
  private async endBuild(
    buildId: string,
    compiled: CompiledProject,
    state: Map<string, string>,
    parent?: BuildOptions['parent'],
  ): Promise<void> {
    const failed = [...state.values()].some((s) => s === 'failed' || s === 'skipped');
    const cancelled = failed && this.cancelling.has(buildId);
    const ended = cancelled ? 'ABORT' : failed ? 'FAIL' : 'COMPLETE';
    const summary = [...state.entries()].map(([k, v]) => `${k} ${v}`);
    const error = {
      code: cancelled ? 'MODELING.CANCELLED' : 'MODELING.BUILD_FAILED',
      message: [...state.entries()]
        .filter(([, v]) => v !== 'succeeded')
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    };
    await this.store.end(
      buildId,
      failed ? 'failed' : 'succeeded',
      buildEvent(buildId, compiled.name, ended, { ...(failed ? { error } : {}), ...(parent ? { parent } : {}) }),
    );
    this.log.log(`build ${buildId}: ${failed ? 'failed' : 'succeeded'} (${summary.join(', ')})`);
  }

  private async step(
    buildId: string,
    id: string,
    p: ProjectOrmEntity,
    project: Project,
    compiled: CompiledProject,
    opts: BuildOptions,
  ): Promise<void> {
    const n = compiled.nodes.get(id)!;
    if (
      !(await this.updateStep(
        buildId,
        id,
        { status: 'running', startedAt: new Date(), compiledSql: n.compiledSql ?? null },
        stepEvent(buildId, compiled, n, 'START'),
      ))
    ) {
      throw new InterruptedError(`build ${buildId} was taken as interrupted; ${id} not started`);
    }
    const done = async (patch: StepPatch): Promise<void> => {
      const recorded = await this.updateStep(
        buildId,
        id,
        { status: 'succeeded', finishedAt: new Date(), ...patch },
        stepEvent(
          buildId,
          compiled,
          n,
          'COMPLETE',
          patch.rowsAffected != null ? { stats: { rowsWritten: Number(patch.rowsAffected) } } : {},
        ),
      );
      // the relation's new data is the dataset's last load, published to data-aware schedules (a seed's
      // load is recorded by the ingestion run that loaded it)
      if (recorded && n.materialized !== 'ephemeral' && n.kind !== 'seed')
        await this.catalog.recordLoad(n.name, {
          runId: stepRunId(buildId, n.id),
          at: new Date(),
          rows: patch.rowsAffected != null ? Number(patch.rowsAffected) : null,
          job: `${n.kind}.${compiled.name}.${n.name}`,
        });
    };
    if (n.materialized === 'ephemeral')
      return done({ error: null, refs: { note: 'ephemeral: inlined as a CTE where referenced' } });
    // a relation recorded for another project or for ingestion is never written without takeOver
    await this.catalog.claim(
      {
        name: n.name,
        schema: n.schema,
        table: n.table,
        managedBy: `modeling:${p.name}`,
        takeOver: opts.takeOver,
        code: 'MODELING.RELATION_OWNED_ELSEWHERE',
      },
      `modeling:${p.name}`,
    );
    const ctx = { entity: p, project, compiled, node: n, fullRefresh: opts.fullRefresh === true };
    if (n.kind === 'seed') return done(await this.seeds.materialize(ctx));
    if (n.kind === 'snapshot') return done(await this.snapshots.materialize(ctx));
    // one build of a relation at a time, across builds and processes: they share its scratch
    // relations (`__weir_build_*`, `__weir_incr_*`), and the second must see the first's result
    const release = await lockRelation(this.warehouse, n);
    try {
      await this.adoptUnaliased(n);
      return await done(await (n.materialized === 'incremental' ? this.incrementals : this.tables).materialize(ctx));
    } finally {
      await release();
    }
  }

  /** Updates a step with its event (none for ephemeral models, which build nothing). */
  private updateStep(buildId: string, nodeId: string, patch: StepPatch, event: RunStateEvent | undefined) {
    return this.store.updateStep(buildId, nodeId, patch, event);
  }

  /**
   * Weir once built an aliased model under its name: when the catalog still records the model at
   * `schema.name`, that relation is renamed to the alias (see renameUnaliased) and the catalog follows.
   */
  private async adoptUnaliased(n: CompiledNode): Promise<void> {
    if (n.table === n.name || n.kind !== 'model') return;
    const ds = await this.catalog.findDataset(n.name);
    if (!ds || ds.schema !== n.schema || ds.table !== n.name) return;
    if (await renameUnaliased(this.warehouse, n, (m) => this.log.warn(m))) await this.catalog.setTable(n.name, n.table);
  }
}
