import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  DomainError,
  HEARTBEAT_MS,
  Outbox,
  quoteIdent,
  qualifiedTable,
  rowsOf,
  RUN_EVENTS_TOPIC,
  RunStateEvent,
  Warehouse,
} from '@weir/platform';
import { CATALOG, CatalogPort } from '@weir/catalog';
import { auditParents, CompiledNode, CompiledProject } from '../domain/compile';
import type { Project } from '../domain/project';
import { ProjectOrmEntity } from '../infrastructure/project.orm-entity';
import { InterruptedError } from '../modeling.errors';
import { buildEvent, stepEvent } from './build-events';
import { IncrementalMaterializer } from './materializers/incremental.materializer';
import { SeedMaterializer } from './materializers/seed.materializer';
import { SnapshotMaterializer } from './materializers/snapshot.materializer';
import { TableViewMaterializer } from './materializers/table-view.materializer';
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

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly warehouse: Warehouse,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    private readonly outbox: Outbox,
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
        void this.ds
          .query(`UPDATE modeling.builds SET heartbeat_at = now() WHERE id = $1 AND status = 'running' RETURNING id`, [
            buildId,
          ])
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
    await this.endBuild(buildId, compiled, state);
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
  private async endBuild(buildId: string, compiled: CompiledProject, state: Map<string, string>): Promise<void> {
    const failed = [...state.values()].some((s) => s === 'failed' || s === 'skipped');
    const ended = failed ? 'FAIL' : 'COMPLETE';
    const summary = [...state.entries()].map(([k, v]) => `${k} ${v}`);
    const error = {
      code: 'MODELING.BUILD_FAILED',
      message: [...state.entries()]
        .filter(([, v]) => v !== 'succeeded')
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    };
    await this.outbox.publishAlong(
      this.ds,
      `UPDATE modeling.builds SET status = $2, finished_at = $3 WHERE id = $1 AND status = 'running' RETURNING id`,
      [buildId, failed ? 'failed' : 'succeeded', new Date()],
      RUN_EVENTS_TOPIC,
      buildEvent(buildId, compiled.name, ended, failed ? { error } : {}),
      `${buildId}:${ended}`,
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
    const done = (patch: StepPatch): Promise<void> =>
      this.updateStep(
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
      ).then(() => undefined);
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
    const release = await this.lockRelation(n);
    try {
      await this.adoptUnaliased(n);
      return await done(await (n.materialized === 'incremental' ? this.incrementals : this.tables).materialize(ctx));
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

  /**
   * Updates a step and, in the same statement, publishes its state change through the outbox
   * (one round trip, atomic). No event for ephemeral models, which build nothing.
   */
  private async updateStep(
    buildId: string,
    nodeId: string,
    patch: StepPatch,
    event: RunStateEvent | undefined,
  ): Promise<boolean> {
    const columns: Record<keyof StepPatch, string> = {
      status: 'status',
      startedAt: 'started_at',
      finishedAt: 'finished_at',
      rowsAffected: 'rows_affected',
      compiledSql: 'compiled_sql',
      error: 'error',
      errorCode: 'error_code',
      refs: 'refs',
    };
    const keys = (Object.keys(patch) as (keyof StepPatch)[]).filter((k) => patch[k] !== undefined);
    if (!keys.length) throw new Error(`updateStep ${nodeId}: empty patch`);
    const params: unknown[] = [
      buildId,
      nodeId,
      ...keys.map((k) => (k === 'refs' && patch.refs !== null ? JSON.stringify(patch.refs) : patch[k])),
    ];
    // only while the build is still running: a build a worker took as interrupted keeps the states
    // recovery gave its steps, and sends no more events
    const sql = `UPDATE modeling.build_steps SET ${keys.map((k, i) => `${columns[k]} = $${i + 3}`).join(', ')}
                  WHERE build_id = $1 AND node_id = $2 AND EXISTS (SELECT 1 FROM modeling.builds b WHERE b.id = $1 AND b.status = 'running' FOR SHARE) RETURNING id`;
    if (event)
      return (
        (await this.outbox.publishAlong(this.ds, sql, params, RUN_EVENTS_TOPIC, event, `${event.runId}:${event.state}`))
          .length > 0
      );
    return rowsOf(await this.ds.query(sql, params)).length > 0;
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
        await c.query(
          `SELECT to_regclass($1) AS old, (SELECT relkind FROM pg_class WHERE oid = to_regclass($1)) AS kind, to_regclass($2) AS fresh`,
          [qualifiedTable(n.schema, n.name), qualifiedTable(n.schema, n.table)],
        )
      ).rows;
      if (!old || fresh) return fresh !== null;
      await c.query(
        `ALTER ${kind === 'v' ? 'VIEW' : 'TABLE'} ${qualifiedTable(n.schema, n.name)} RENAME TO ${quoteIdent(n.table)}`,
      );
      const uk = (await c.query(`SELECT to_regclass($1) AS i`, [qualifiedTable(n.schema, `${n.name}_uk`.slice(0, 63))]))
        .rows[0].i;
      if (uk)
        await c.query(
          `ALTER INDEX ${qualifiedTable(n.schema, `${n.name}_uk`.slice(0, 63))} RENAME TO ${quoteIdent(`${n.table}_uk`.slice(0, 63))}`,
        );
      this.log.warn(
        `${n.id}: ${n.schema}.${n.name} was built before its alias was honoured; renamed to ${n.schema}.${n.table}`,
      );
      return true;
    });
    if (atAlias) await this.catalog.setTable(n.name, n.table);
  }
}
