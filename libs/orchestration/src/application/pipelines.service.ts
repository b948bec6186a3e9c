import { isDeepStrictEqual } from 'node:util';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Dependent, describeDependents, ForbiddenError, WEIR_CONFIG, WeirConfig } from '@weir/platform';
import type { PipelineSpec } from '../domain/pipeline';
import { clearPiiSteps, parsePipelineSpec, PipelineSpecError, scheduleOf } from '../domain/pipeline-spec';
import { scheduleRefusal } from '../domain/schedule';
import {
  InvalidPipelineError,
  InvalidScheduleError,
  PipelineExistsError,
  PipelineInUseError,
  PipelineManagedError,
  PipelineNotFoundError,
} from '../orchestration.errors';
import { PIPELINE_STORE, PipelineRecord, PipelineStore } from './ports/pipeline-store.port';
import { RUN_QUEUE, RunQueue } from './ports/run-queue.port';
import { ALERT_STORE, AlertStore } from './ports/alert-store.port';
import { PipelineView, pipelineView } from './pipeline.views';

/**
 * Who defines a pipeline: the name its versions record (`createdBy`), and whether it sees PII in
 * clear (an admin key, or the CLI, which runs as the operator) — only then may an export step
 * write PII in clear (`pii: clear`).
 */
export interface PipelineAuthor {
  name: string | null;
  seesPii: boolean;
}

/** register-pipeline: pipelines defined, changed (a new version each time), read and removed. */
@Injectable()
export class PipelinesService {
  private readonly log = new Logger('orchestration');

  constructor(
    @Inject(PIPELINE_STORE) private readonly store: PipelineStore,
    @Inject(RUN_QUEUE) private readonly queue: RunQueue,
    @Inject(ALERT_STORE) private readonly alerts: AlertStore,
    @Inject(WEIR_CONFIG) private readonly config: WeirConfig,
  ) {}

  /**
   * Validates a definition (REST JSON or parsed YAML); every problem at once, each with its path
   * (400). A definition whose only problem is its schedule — one that never fires, or fires more
   * often than WEIR_MIN_SCHEDULE_INTERVAL_SECONDS (`minIntervalMs`) — is refused with
   * ORCHESTRATION.INVALID_SCHEDULE (422).
   */
  async validate(raw: unknown, self?: string, opts: { minIntervalMs?: number } = {}): Promise<PipelineSpec> {
    const minIntervalMs = opts.minIntervalMs ?? this.config.minScheduleIntervalMs;
    let spec: PipelineSpec;
    try {
      spec = parsePipelineSpec(raw);
    } catch (e) {
      if (e instanceof PipelineSpecError) {
        const refused = scheduleRefusal(scheduleOf(raw), minIntervalMs);
        const problems = [...e.problems, ...(refused ? [refused.message] : [])];
        throw new InvalidPipelineError(`The pipeline definition is invalid: ${problems.join('; ')}`, { problems });
      }
      throw e;
    }
    const refused = scheduleRefusal(spec.schedule, minIntervalMs);
    // the pipelines it names must exist (another one's sub-DAG, or the partition it waits for)
    const problems: string[] = [];
    for (const [i, s] of spec.steps.entries()) {
      const other = s.kind === 'pipeline' ? s.pipeline : s.kind === 'wait_for' ? s.pipeline : null;
      if (other && other !== self && !(await this.store.findByName(other)))
        problems.push(`steps[${i}].pipeline: unknown pipeline "${other}"`);
    }
    // the alert destinations it names must exist
    for (const [i, name] of spec.alerts.entries())
      if (!(await this.alerts.findDestination(name)))
        problems.push(`alerts[${i}]: unknown alert destination "${name}"`);
    if (!problems.length) problems.push(...(await this.subPipelineCycles(spec)));
    if (problems.length) {
      if (refused) problems.push(refused.message);
      throw new InvalidPipelineError(`The pipeline definition is invalid: ${problems.join('; ')}`, { problems });
    }
    if (refused)
      throw new InvalidScheduleError(refused.message, { reason: refused.reason, problems: [refused.message] });
    return spec;
  }

  /**
   * An export step with `pii: clear` writes PII columns in clear to its target on every run,
   * whoever starts it: only an author who sees PII may define one (PLATFORM.FORBIDDEN naming the
   * steps, before anything is stored). `where` prefixes the message (a project's file).
   */
  authorize(spec: PipelineSpec, author: PipelineAuthor, where = ''): void {
    const clear = clearPiiSteps(spec);
    if (!clear.length || author.seesPii) return;
    throw new ForbiddenError(
      `${where}Pipeline ${spec.name}: ${clear.join(', ')} ${clear.length > 1 ? 'ask' : 'asks'} for PII in clear (pii: clear), which only an admin key may define; ${author.name ? `the key "${author.name}" gets` : 'this caller gets'} PII masked. Leave pii out (masked, the default) or have an admin apply it`,
      { steps: spec.steps.flatMap((s) => (s.kind === 'export' && s.pii === 'clear' ? [s.id] : [])) },
    );
  }

  /** Logged (names only, never values) whenever a version with a clear-PII export step is stored. */
  private noteClearPii(spec: PipelineSpec, version: number, author: PipelineAuthor): void {
    const clear = clearPiiSteps(spec);
    if (clear.length)
      this.log.log(
        `pipeline ${spec.name} v${version}: ${clear.join(', ')} exports PII in clear (defined by ${author.name ?? 'an unnamed caller'})`,
      );
  }

  /**
   * `pipeline` steps that would run this pipeline again (through the current versions of the
   * pipelines they run), each with the path: `a -> b -> c -> a`. (`wait_for` steps are no edges:
   * waiting on each other ends in a timeout, not an endless run.)
   */
  private async subPipelineCycles(spec: PipelineSpec): Promise<string[]> {
    const children = new Map<string, string[]>();
    const childrenOf = async (name: string): Promise<string[]> => {
      if (name === spec.name) return spec.steps.flatMap((s) => (s.kind === 'pipeline' ? [s.pipeline] : []));
      if (!children.has(name)) {
        const p = await this.store.findByName(name);
        children.set(name, p ? p.spec.steps.flatMap((s) => (s.kind === 'pipeline' ? [s.pipeline] : [])) : []);
      }
      return children.get(name)!;
    };
    // depth first from each child, with the path so far; a pipeline seen once is not walked again
    const seen = new Set<string>();
    const pathBack = async (name: string, path: string[]): Promise<string[] | null> => {
      if (name === spec.name) return path;
      if (seen.has(name)) return null;
      seen.add(name);
      for (const c of await childrenOf(name)) {
        const found = await pathBack(c, [...path, c]);
        if (found) return found;
      }
      return null;
    };
    const problems: string[] = [];
    for (const [i, s] of spec.steps.entries()) {
      if (s.kind !== 'pipeline') continue;
      seen.clear();
      const path = await pathBack(s.pipeline, [spec.name, s.pipeline]);
      if (path) problems.push(`steps[${i}].pipeline: a cycle of pipeline steps: ${path.join(' -> ')}`);
    }
    return problems;
  }

  async create(raw: unknown, by: PipelineAuthor): Promise<PipelineView> {
    const spec = await this.validate(raw);
    this.authorize(spec, by);
    return this.createValid(spec, by);
  }

  private async createValid(spec: PipelineSpec, by: PipelineAuthor): Promise<PipelineView> {
    const p = await this.store.create(spec, by.name);
    if (!p) throw new PipelineExistsError(`A pipeline named "${spec.name}" already exists; PUT it to change it`);
    this.log.log(`pipeline ${p.name}: created (${spec.steps.length} steps)`);
    this.noteClearPii(spec, p.version, by);
    return pipelineView(p);
  }

  /** A new version when the definition changed; the name cannot change. */
  async update(idOrName: string, raw: unknown, by: PipelineAuthor): Promise<PipelineView> {
    const current = await this.entity(idOrName);
    this.refuseManaged(current);
    const spec = await this.validate(raw, current.name);
    if (spec.name !== current.name)
      throw new InvalidPipelineError(`name: a pipeline keeps its name ("${current.name}"); create a new one instead`);
    this.authorize(spec, by);
    const p = await this.updateValid(current, spec, by);
    if (p.version !== current.version) this.log.log(`pipeline ${p.name}: version ${p.version}`);
    return pipelineView(p);
  }

  private async updateValid(current: PipelineRecord, spec: PipelineSpec, by: PipelineAuthor): Promise<PipelineRecord> {
    const p = await this.store.update(current.id, spec, by.name);
    if (p.version !== current.version) this.noteClearPii(spec, p.version, by);
    return p;
  }

  /** Create or update by the name in the definition (YAML apply). */
  async apply(raw: unknown, by: PipelineAuthor): Promise<{ pipeline: PipelineView; created: boolean }> {
    const spec = await this.validate(raw, (raw as { name?: string })?.name);
    this.authorize(spec, by);
    const existing = await this.store.findByName(spec.name);
    if (!existing) return { pipeline: await this.createValid(spec, by), created: true };
    this.refuseManaged(existing);
    return { pipeline: pipelineView(await this.updateValid(existing, spec, by)), created: false };
  }

  /** The pipeline by id or name; a deleted one only by id and `withDeleted` (reads of its runs). */
  async entity(idOrName: string, withDeleted = false): Promise<PipelineRecord> {
    const p = (await this.store.findById(idOrName, withDeleted)) ?? (await this.store.findByName(idOrName));
    if (!p) throw new PipelineNotFoundError(`No pipeline ${JSON.stringify(idOrName)}`);
    return p;
  }

  async get(idOrName: string): Promise<PipelineView> {
    return pipelineView(await this.entity(idOrName));
  }

  async list(): Promise<PipelineView[]> {
    return (await this.store.list()).map(pipelineView);
  }

  async versions(idOrName: string): Promise<{ version: number; createdAt: string; createdBy: string | null }[]> {
    const p = await this.entity(idOrName);
    return (await this.store.versions(p.id)).map((v) => ({ ...v, createdAt: v.createdAt.toISOString() }));
  }

  async version(idOrName: string, version: number): Promise<PipelineSpec> {
    const p = await this.entity(idOrName);
    const spec = await this.store.version(p.id, version);
    if (!spec) throw new PipelineNotFoundError(`Pipeline ${p.name} has no version ${version}`);
    return spec;
  }

  /**
   * Deletes the pipeline, softly: gone from names, lists and schedules (the name can be used again),
   * its versions, runs and their steps stay readable (`GET /runs/:id`, `?pipeline=<its id>`).
   * Refused with ORCHESTRATION.PIPELINE_IN_USE while another pipeline's step runs it or waits for
   * it, and while a run of it is queued or running unless `force` (which cancels them).
   */
  async remove(idOrName: string, force: boolean): Promise<void> {
    const p = await this.entity(idOrName);
    this.refuseManaged(p);
    await this.removeRecord(p, force, await this.usedBy(p.name));
  }

  /** Other pipelines (not deleted) whose `pipeline` or `wait_for` steps name `name`. */
  private async usedBy(name: string): Promise<Dependent[]> {
    const out: Dependent[] = [];
    for (const other of await this.store.list()) {
      if (other.name === name) continue;
      for (const s of other.spec.steps)
        if (s.kind === 'pipeline' && s.pipeline === name)
          out.push({ kind: 'pipeline', name: other.name, detail: `step "${s.id}" runs it as a sub-pipeline` });
        else if (s.kind === 'wait_for' && s.pipeline === name)
          out.push({ kind: 'pipeline', name: other.name, detail: `step "${s.id}" waits for its partition` });
    }
    return out;
  }

  /** A pipeline another slice keeps (a source's schedule) is changed there, never here. */
  private refuseManaged(p: PipelineRecord): void {
    if (p.managedBy)
      throw new PipelineManagedError(
        `Pipeline ${p.name} is kept by ${p.managedBy.startsWith('ingestion:source:') ? `the schedule of source ${p.managedBy.slice('ingestion:source:'.length)}` : p.managedBy}; change its schedule there`,
      );
  }

  /**
   * For the slice's own keepers (source schedules): the pipeline `managedBy` keeps, created or
   * brought to `raw` (a new version when it changed); errors as for people's definitions.
   */
  async keep(managedBy: string, raw: unknown): Promise<PipelineRecord> {
    // how often a source's schedule may fire was checked by its slice when it was set: one stored
    // before WEIR_MIN_SCHEDULE_INTERVAL_SECONDS was raised keeps firing, as people's pipelines do
    const spec = await this.validate(raw, undefined, { minIntervalMs: 0 });
    const current = await this.store.findManaged(managedBy);
    // unchanged (the keepers compare every few seconds): no write
    if (current && isDeepStrictEqual(current.spec, spec)) return current;
    if (current) return this.store.update(current.id, spec, managedBy);
    const created = await this.store.create(spec, managedBy, managedBy);
    if (created) {
      this.log.log(`pipeline ${spec.name}: created for ${managedBy}`);
      return created;
    }
    // another instance made it at the same moment, or the name is someone else's
    const raced = await this.store.findManaged(managedBy);
    if (raced) return this.store.update(raced.id, spec, managedBy);
    throw new PipelineExistsError(`A pipeline named "${spec.name}" already exists`);
  }

  /** The pipeline `managedBy` keeps, removed with its runs (its keeper is gone). */
  async forget(managedBy: string): Promise<void> {
    const p = await this.store.findManaged(managedBy);
    if (p) await this.removeRecord(p, true);
  }

  /** The pipeline `managedBy` keeps, or null. */
  kept(managedBy: string): Promise<PipelineRecord | null> {
    return this.store.findManaged(managedBy);
  }

  /** Pipelines kept by keepers whose key starts with `prefix`. */
  async managed(prefix: string): Promise<PipelineRecord[]> {
    return (await this.store.list()).filter((p) => p.managedBy?.startsWith(prefix));
  }

  private async removeRecord(p: PipelineRecord, force: boolean, dependents: Dependent[] = []): Promise<void> {
    // every run not finished, queued or running (not only the newest 1000 of all its runs)
    const going = [];
    for (const status of ['queued', 'running'] as const)
      going.push(...(await this.queue.list({ pipelineId: p.id, status, limit: 100_000 })));
    const runs: Dependent[] = force
      ? []
      : going.map((r) => ({ kind: 'pipeline_run', name: r.id, detail: `${r.status} run`, overridable: true }));
    if (runs.length || dependents.length) {
      const all = [...runs, ...dependents];
      throw new PipelineInUseError(
        describeDependents(
          `Pipeline "${p.name}"`,
          all,
          [
            dependents.length ? 'change those pipelines first' : '',
            runs.length ? 'cancel its runs or delete with ?force=true' : '',
          ]
            .filter(Boolean)
            .join('; '),
        ),
        { dependents: all },
      );
    }
    for (const r of going) await this.queue.cancel(r.id);
    await this.store.remove(p.id);
    this.log.log(`pipeline ${p.name}: deleted`);
  }
}
