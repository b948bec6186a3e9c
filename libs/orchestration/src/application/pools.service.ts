import { Inject, Injectable, Logger } from '@nestjs/common';
import { POOL_RE } from '../domain/pipeline-spec';
import { ORCHESTRATION_CONFIG, OrchestrationConfig } from '../orchestration.config';
import { InvalidPoolError, PoolNotFoundError } from '../orchestration.errors';
import { PIPELINE_STORE, PipelineStore } from './ports/pipeline-store.port';
import { POOL_STORE, PoolRecord, PoolStore, PoolUsage } from './ports/pool-store.port';

/** A pool as the API shows it: its slots (its own or the default), and its step runs now. */
export interface PoolView {
  name: string;
  slots: number;
  /** False: not defined, it has the default slots (WEIR_DEFAULT_POOL_SLOTS). */
  defined: boolean;
  description: string | null;
  running: number;
  queued: number;
  /** Pipelines whose current version has steps in the pool. */
  pipelines: string[];
  updatedBy: string | null;
  updatedAt: string | null;
}

/**
 * manage-pools: pools are named concurrency limits shared by the steps of every pipeline, on every
 * instance (the run queue's lease enforces them). Defined with their slots here; a pool a step names
 * without a definition has WEIR_DEFAULT_POOL_SLOTS.
 */
@Injectable()
export class PoolsService {
  private readonly log = new Logger('orchestration');

  constructor(
    @Inject(POOL_STORE) private readonly store: PoolStore,
    @Inject(PIPELINE_STORE) private readonly pipelines: PipelineStore,
    @Inject(ORCHESTRATION_CONFIG) private readonly cfg: OrchestrationConfig,
  ) {}

  /** Defined pools, pools with step runs now, and pools named by a pipeline's steps. */
  async list(): Promise<PoolView[]> {
    const [defined, usage, users] = await Promise.all([this.store.list(), this.store.usage(), this.users()]);
    const names = new Set([...defined.map((p) => p.name), ...usage.keys(), ...users.keys()]);
    const byName = new Map(defined.map((p) => [p.name, p]));
    return [...names].sort().map((n) => this.view(n, byName.get(n) ?? null, usage.get(n), users.get(n) ?? []));
  }

  async get(name: string): Promise<PoolView> {
    return (await this.list()).find((p) => p.name === name) ?? this.view(this.check(name), null, undefined, []);
  }

  async put(name: string, body: { slots: number; description?: string | null }, by: string | null) {
    this.check(name);
    if (!Number.isInteger(body.slots) || body.slots < 0 || body.slots > 10_000)
      throw new InvalidPoolError("slots: a whole number from 0 (hold the pool's steps) to 10000");
    const { created } = await this.store.put(name, { slots: body.slots, description: body.description ?? null }, by);
    this.log.log(`pool ${name}: ${body.slots} slot(s)${created ? ' (defined)' : ''}`);
    return { pool: await this.get(name), created };
  }

  /** The pool back to the default slots. */
  async remove(name: string): Promise<void> {
    if (!(await this.store.remove(this.check(name))))
      throw new PoolNotFoundError(`No pool ${JSON.stringify(name)} defined (it has the default slots)`);
    this.log.log(`pool ${name}: removed (default slots from now on)`);
  }

  private check(name: string): string {
    if (!POOL_RE.test(name))
      throw new InvalidPoolError(`pool name ${JSON.stringify(name)}: must match ${POOL_RE.source}`);
    return name;
  }

  private async users(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const p of await this.pipelines.list())
      for (const pool of new Set(p.spec.steps.map((s) => s.pool).filter((x): x is string => x !== null)))
        out.set(pool, [...(out.get(pool) ?? []), p.name]);
    return out;
  }

  private view(name: string, p: PoolRecord | null, u: PoolUsage | undefined, pipelines: string[]): PoolView {
    return {
      name,
      slots: p?.slots ?? this.cfg.defaultPoolSlots,
      defined: p !== null,
      description: p?.description ?? null,
      running: u?.running ?? 0,
      queued: u?.queued ?? 0,
      pipelines,
      updatedBy: p?.updatedBy ?? null,
      updatedAt: p ? p.updatedAt.toISOString() : null,
    };
  }
}
