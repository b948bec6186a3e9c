import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { randomUUID } from 'node:crypto';
import { Outbox, RUN_EVENTS_TOPIC } from '@weir/platform';
import { auditParents, select } from '../domain/compile';
import { BadSelectorError, BuildNotFoundError } from '../modeling.errors';
import { buildEvent } from './build-events';
import { BuildRunnerService } from './build-runner.service';
import { CompileProjectService } from './compile-project.service';
import { BuildOptions, BuildView, UUID } from './modeling.views';
import { ProjectsService } from './projects.service';

/** start-build: a build of a selection, recorded with its pending steps and START event, then run; and its reads. */
@Injectable()
export class StartBuildService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly outbox: Outbox,
    private readonly projects: ProjectsService,
    private readonly compiler: CompileProjectService,
    private readonly runner: BuildRunnerService,
  ) {}

  /** Starts a build of the selection; returns at once with the steps pending. */
  async build(projectIdOrName: string, selector?: string, opts: BuildOptions = {}): Promise<BuildView> {
    const fullRefresh = opts.fullRefresh === true;
    const takeOver = opts.takeOver === true;
    const p = await this.projects.entity(projectIdOrName);
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
    await this.outbox.publishAlong(
      this.ds,
      `SELECT id FROM b`,
      [
        b.id,
        p.id,
        selector ?? null,
        fullRefresh,
        ids,
        ids.map((id) => compiled.nodes.get(id)!.materialized ?? (id.startsWith('seed.') ? 'seed' : null)),
        takeOver,
      ],
      RUN_EVENTS_TOPIC,
      buildEvent(b.id, compiled.name, 'START'),
      `${b.id}:START`,
      `b AS (INSERT INTO modeling.builds (id, project_id, selector, full_refresh, take_over, status) VALUES ($1, $2, $3, $4, $7, 'running') RETURNING id),
       s AS (INSERT INTO modeling.build_steps (build_id, node_id, materialized, status)
             SELECT b.id, x.node, x.mat, 'pending' FROM b, unnest($5::text[], $6::text[]) WITH ORDINALITY x(node, mat, ord) ORDER BY x.ord)`,
    );
    this.runner.launch(b.id, p, project, compiled, ids, { fullRefresh, takeOver });
    return this.getBuild(b.id);
  }

  async waitForBuild(id: string, timeoutMs = 600_000): Promise<BuildView> {
    const local = this.runner.inProcess.get(id);
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
    type Row = {
      id: string;
      project_id: string;
      selector: string | null;
      full_refresh: boolean;
      take_over: boolean;
      status: string;
      started_at: Date;
      finished_at: Date | null;
      steps: StepRow[] | null;
    };
    type StepRow = {
      node_id: string;
      materialized: string | null;
      status: string;
      started_at: string | null;
      finished_at: string | null;
      rows_affected: number | string | null;
      error: string | null;
      error_code: string | null;
      refs: Record<string, unknown> | null;
    };
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
}
