import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isUuid, Outbox, rowsOf, RUN_EVENTS_TOPIC, RunStateEvent } from '@weir/platform';
import type {
  BuildListFilter,
  BuildStore,
  BuildSummary,
  NewBuild,
  StaleBuild,
} from '../application/ports/build-store.port';
import type { BuildView, StepPatch } from '../application/modeling.views';
import * as q from './build-store.sql';

const keyOf = (e: RunStateEvent) => `${e.runId}:${e.state}`;

interface BuildRow {
  id: string;
  project_id: string;
  selector: string | null;
  full_refresh: boolean;
  take_over: boolean;
  command: string | null;
  dbt_args: Record<string, unknown> | null;
  status: string;
  started_at: Date;
  finished_at: Date | null;
  steps:
    | {
        node_id: string;
        materialized: string | null;
        status: string;
        started_at: string | null;
        finished_at: string | null;
        rows_affected: number | string | null;
        error: string | null;
        error_code: string | null;
        refs: Record<string, unknown> | null;
      }[]
    | null;
}

function buildView(b: BuildRow): BuildView {
  const iso = (t: string | null) => (t === null ? null : new Date(t).toISOString());
  return {
    id: b.id,
    projectId: b.project_id,
    selector: b.selector,
    command: b.command ?? null,
    dbtArgs: b.dbt_args ?? null,
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

/** Builds in PostgreSQL (modeling.builds, build_steps), each change with its event through the outbox. */
@Injectable()
export class PgBuildStore implements BuildStore {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly outbox: Outbox,
  ) {}

  async create(build: NewBuild, start: RunStateEvent): Promise<void> {
    const s = q.createBuildSql(build);
    await this.outbox.publishAlong(this.ds, s.sql, s.params, RUN_EVENTS_TOPIC, start, keyOf(start), s.ctes);
  }

  async find(id: string): Promise<BuildView | null> {
    if (!isUuid(id)) return null;
    const s = q.findBuildSql(id);
    const [row] = (await this.ds.query(s.sql, s.params)) as BuildRow[];
    return row ? buildView(row) : null;
  }

  async list(filter: BuildListFilter): Promise<BuildSummary[]> {
    const s = q.listBuildsSql(filter);
    const rows = (await this.ds.query(s.sql, s.params)) as (Record<string, number> & {
      id: string;
      project_id: string;
      selector: string | null;
      command: string | null;
      status: string;
      started_at: Date;
      finished_at: Date | null;
    })[];
    return rows.map((r) => ({
      id: r.id,
      projectId: r.project_id,
      selector: r.selector,
      command: r.command,
      status: r.status,
      startedAt: r.started_at.toISOString(),
      finishedAt: r.finished_at?.toISOString() ?? null,
      steps: {
        total: r['total'],
        succeeded: r['succeeded'],
        failed: r['failed'],
        skipped: r['skipped'],
        running: r['running'],
        pending: r['pending'],
      },
    }));
  }

  async heartbeat(id: string): Promise<boolean> {
    const s = q.heartbeatSql(id);
    return rowsOf(await this.ds.query(s.sql, s.params)).length > 0;
  }

  async requestCancel(id: string): Promise<boolean> {
    const s = q.requestCancelSql(id);
    return rowsOf(await this.ds.query(s.sql, s.params)).length > 0;
  }

  async cancelRequested(id: string): Promise<boolean> {
    const s = q.cancelRequestedSql(id);
    return rowsOf(await this.ds.query(s.sql, s.params)).length > 0;
  }

  async updateStep(buildId: string, nodeId: string, patch: StepPatch, event?: RunStateEvent): Promise<boolean> {
    const s = q.updateStepSql(buildId, nodeId, patch);
    if (event)
      return (
        (await this.outbox.publishAlong(this.ds, s.sql, s.params, RUN_EVENTS_TOPIC, event, keyOf(event))).length > 0
      );
    return rowsOf(await this.ds.query(s.sql, s.params)).length > 0;
  }

  async end(buildId: string, status: 'succeeded' | 'failed', event: RunStateEvent): Promise<boolean> {
    const s = q.endBuildSql(buildId, status, new Date());
    return (await this.outbox.publishAlong(this.ds, s.sql, s.params, RUN_EVENTS_TOPIC, event, keyOf(event))).length > 0;
  }

  async failStale(
    staleMs: number,
    message: string,
    eventsOf: (b: StaleBuild) => Promise<RunStateEvent[]>,
  ): Promise<StaleBuild[]> {
    return this.ds.transaction(async (em) => {
      const s = q.failStaleSql(staleMs, message);
      const rows = rowsOf<{
        id: string;
        project_id: string;
        started: string[] | null;
        parent: StaleBuild['parent'];
      }>(await em.query(s.sql, s.params));
      const out = rows.map((r) => ({
        id: r.id,
        projectId: r.project_id,
        started: r.started ?? [],
        parent: r.parent ?? null,
      }));
      for (const b of out)
        for (const ev of await eventsOf(b)) await this.outbox.publish(em, RUN_EVENTS_TOPIC, ev, keyOf(ev));
      return out;
    });
  }
}

interface MemoryBuild {
  view: BuildView;
  heartbeatAt: number;
  parent: StaleBuild['parent'];
}

/**
 * Builds in memory, for unit tests of the use cases; passes the contract suite of the PostgreSQL
 * store (libs/modeling/test/build-store.contract.spec.ts). `events` holds what would be published.
 */
export class InMemoryBuildStore implements BuildStore {
  private readonly builds = new Map<string, MemoryBuild>();
  readonly events: { key: string; event: RunStateEvent }[] = [];

  private publish(e: RunStateEvent): void {
    if (!this.events.some((x) => x.key === keyOf(e))) this.events.push({ key: keyOf(e), event: e });
  }

  async list(f: BuildListFilter): Promise<BuildSummary[]> {
    const count = (v: BuildView, st: string) => v.steps.filter((x) => x.status === st).length;
    return [...this.builds.values()]
      .map((b) => b.view)
      .filter((v) => (!f.projectId || v.projectId === f.projectId) && (!f.status || v.status === f.status))
      .filter((v) => !f.before || v.startedAt < f.before)
      .sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1))
      .slice(0, f.limit)
      .map((v) => ({
        id: v.id,
        projectId: v.projectId,
        selector: v.selector,
        command: v.command,
        status: v.status,
        startedAt: v.startedAt,
        finishedAt: v.finishedAt,
        steps: {
          total: v.steps.length,
          succeeded: count(v, 'succeeded'),
          failed: count(v, 'failed'),
          skipped: count(v, 'skipped'),
          running: count(v, 'running'),
          pending: count(v, 'pending'),
        },
      }));
  }

  async create(build: NewBuild, start: RunStateEvent): Promise<void> {
    this.builds.set(build.id, {
      heartbeatAt: Date.now(),
      parent: build.parent ?? null,
      view: {
        id: build.id,
        projectId: build.projectId,
        selector: build.selector,
        command: build.command ?? null,
        dbtArgs: build.dbtArgs ?? null,
        fullRefresh: build.fullRefresh,
        takeOver: build.takeOver,
        status: 'running',
        startedAt: new Date().toISOString(),
        finishedAt: null,
        steps: build.steps.map((s) => ({
          node: s.nodeId,
          materialized: s.materialized,
          status: 'pending',
          startedAt: null,
          finishedAt: null,
          rowsAffected: null,
          error: null,
          errorCode: null,
          refs: null,
        })),
      },
    });
    this.publish(start);
  }

  async find(id: string): Promise<BuildView | null> {
    const b = this.builds.get(id);
    return b ? structuredClone(b.view) : null;
  }

  async heartbeat(id: string): Promise<boolean> {
    const b = this.builds.get(id);
    if (b?.view.status !== 'running') return false;
    b.heartbeatAt = Date.now();
    return true;
  }

  private readonly cancels = new Set<string>();

  async requestCancel(id: string): Promise<boolean> {
    if (this.builds.get(id)?.view.status !== 'running') return false;
    this.cancels.add(id);
    return true;
  }

  async cancelRequested(id: string): Promise<boolean> {
    return this.cancels.has(id);
  }

  async updateStep(buildId: string, nodeId: string, patch: StepPatch, event?: RunStateEvent): Promise<boolean> {
    q.updateStepSql(buildId, nodeId, patch); // the same refusal of an empty patch
    const b = this.builds.get(buildId);
    const step = b?.view.steps.find((s) => s.node === nodeId);
    if (b?.view.status !== 'running' || !step) return false;
    const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
    if (patch.status !== undefined) step.status = patch.status;
    if (patch.startedAt !== undefined) step.startedAt = iso(patch.startedAt);
    if (patch.finishedAt !== undefined) step.finishedAt = iso(patch.finishedAt);
    if (patch.rowsAffected !== undefined)
      step.rowsAffected = patch.rowsAffected === null ? null : Number(patch.rowsAffected);
    if (patch.error !== undefined) step.error = patch.error;
    if (patch.errorCode !== undefined) step.errorCode = patch.errorCode;
    if (patch.refs !== undefined) step.refs = patch.refs;
    if (event) this.publish(event);
    return true;
  }

  async end(buildId: string, status: 'succeeded' | 'failed', event: RunStateEvent): Promise<boolean> {
    const b = this.builds.get(buildId);
    if (b?.view.status !== 'running') return false;
    Object.assign(b.view, { status, finishedAt: new Date().toISOString() });
    this.publish(event);
    return true;
  }

  async failStale(
    staleMs: number,
    message: string,
    eventsOf: (b: StaleBuild) => Promise<RunStateEvent[]>,
  ): Promise<StaleBuild[]> {
    const out: StaleBuild[] = [];
    const now = new Date().toISOString();
    for (const b of this.builds.values()) {
      if (b.view.status !== 'running' || b.heartbeatAt >= Date.now() - staleMs) continue;
      Object.assign(b.view, { status: 'failed', finishedAt: now });
      const started: string[] = [];
      for (const s of b.view.steps) {
        if (s.status === 'running') {
          Object.assign(s, { status: 'failed', finishedAt: now, error: message });
          started.push(s.node);
        } else if (s.status === 'pending') Object.assign(s, { status: 'skipped', finishedAt: null, error: message });
      }
      out.push({ id: b.view.id, projectId: b.view.projectId, started, parent: b.parent });
    }
    for (const b of out) for (const ev of await eventsOf(b)) this.publish(ev);
    return out;
  }
}
