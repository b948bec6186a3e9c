import { Inject, Injectable, Logger } from '@nestjs/common';
import { partitionKeys } from '../domain/partitions';
import { InvalidRunRequestError, PipelineRunNotFoundError } from '../orchestration.errors';
import { BACKFILL_STORE, BackfillRecord, BackfillStore } from './ports/backfill-store.port';
import { RUN_QUEUE, RunQueue } from './ports/run-queue.port';
import { PipelineRunsService } from './pipeline-runs.service';
import { PipelinesService } from './pipelines.service';

/** A backfill as the API shows it: its progress by the latest run of each of its partitions. */
export interface BackfillView {
  id: string;
  pipelineId: string;
  status: string;
  maxParallel: number;
  partitions: number;
  from: string;
  to: string;
  started: number;
  counts: { succeeded: number; failed: number; running: number; queued: number; cancelled: number; notStarted: number };
  createdBy: string | null;
  createdAt: string;
  finishedAt: string | null;
}

/**
 * backfill: a pipeline's runs over a range of partitions (oldest or newest first), at most
 * `maxParallel` at once, each started as a slot frees (never batch by batch); pause, resume,
 * cancel. Progress survives restarts; every instance with the scheduler role advances running
 * backfills, and the end of one of their runs advances it at once.
 */
@Injectable()
export class BackfillsService {
  private readonly log = new Logger('orchestration');

  constructor(
    @Inject(BACKFILL_STORE) private readonly store: BackfillStore,
    @Inject(RUN_QUEUE) private readonly queue: RunQueue,
    private readonly pipelines: PipelinesService,
    private readonly runs: PipelineRunsService,
  ) {
    runs.onRunEnded.push((run) => (run.backfillId ? this.advance(run.backfillId) : Promise.resolve()));
  }

  async create(
    idOrName: string,
    req: { from?: string; to?: string; order?: 'oldest' | 'newest'; maxParallel?: number },
    by: string | null,
  ): Promise<BackfillView> {
    const p = await this.pipelines.entity(idOrName);
    if (!p.spec.partitions) throw new InvalidRunRequestError(`Pipeline ${p.name} declares no partitions to backfill`);
    let keys: string[];
    try {
      keys = partitionKeys(p.spec.partitions, req.from, req.to);
    } catch (e) {
      throw new InvalidRunRequestError((e as Error).message);
    }
    if (!keys.length) throw new InvalidRunRequestError('The range holds no partition');
    const maxParallel = req.maxParallel ?? 1;
    if (!Number.isInteger(maxParallel) || maxParallel < 1 || maxParallel > 64)
      throw new InvalidRunRequestError('maxParallel: a whole number from 1 to 64');
    if (req.order === 'newest') keys.reverse();
    const b = await this.store.create({ pipelineId: p.id, partitions: keys, maxParallel, createdBy: by });
    this.log.log(`pipeline ${p.name}: backfill ${b.id} of ${keys.length} partitions, ${maxParallel} at once`);
    await this.advance(b.id);
    return this.get(b.id);
  }

  /** Starts runs of the next partitions while slots are free; ends the backfill once all ran. */
  async advance(id: string): Promise<void> {
    await this.store.advance(id, async (b) => {
      const active = await this.queue.activeOfBackfill(b.id);
      const take = Math.min(b.maxParallel - active, b.partitions.length - b.nextIndex);
      for (let i = 0; i < take; i++) {
        const partition = b.partitions[b.nextIndex + i];
        await this.runs.start(b.pipelineId, {
          partition,
          trigger: 'backfill',
          idempotencyKey: `backfill:${b.id}:${partition}`,
          createdBy: `backfill:${b.id}`,
          backfillId: b.id,
        });
      }
      const started = Math.max(take, 0);
      if (b.nextIndex + started < b.partitions.length || active + started > 0) return { started };
      const states = await this.queue.partitionStates(b.pipelineId, b.partitions);
      const failed = b.partitions.some((k) => states.get(k)?.status !== 'succeeded');
      this.log.log(`backfill ${b.id}: ${failed ? 'failed' : 'succeeded'}`);
      return { started, end: failed ? 'failed' : 'succeeded' };
    });
  }

  /** Every running backfill (the scheduler's pass). */
  async advanceAll(): Promise<void> {
    for (const b of await this.store.running()) await this.advance(b.id);
  }

  async get(id: string): Promise<BackfillView> {
    const b = await this.store.find(id);
    if (!b) throw new PipelineRunNotFoundError(`No backfill ${JSON.stringify(id)}`);
    return this.view(b);
  }

  async list(idOrName: string): Promise<BackfillView[]> {
    const p = await this.pipelines.entity(idOrName);
    return Promise.all((await this.store.list(p.id)).map((b) => this.view(b)));
  }

  async pause(id: string): Promise<BackfillView> {
    await this.get(id);
    await this.store.setStatus(id, 'paused', ['running']);
    return this.get(id);
  }

  async resume(id: string): Promise<BackfillView> {
    await this.get(id);
    if (await this.store.setStatus(id, 'running', ['paused'])) await this.advance(id);
    return this.get(id);
  }

  /** Cancels the backfill and its runs not finished. */
  async cancel(id: string): Promise<BackfillView> {
    const b = await this.store.find(id);
    if (!b) throw new PipelineRunNotFoundError(`No backfill ${JSON.stringify(id)}`);
    if (await this.store.setStatus(id, 'cancelled', ['running', 'paused'])) {
      const going = (await this.queue.list({ pipelineId: b.pipelineId, limit: 1000 })).filter(
        (r) => r.backfillId === id && (r.status === 'queued' || r.status === 'running'),
      );
      for (const r of going) await this.runs.cancel(r.id);
    }
    return this.get(id);
  }

  private async view(b: BackfillRecord): Promise<BackfillView> {
    const states = await this.queue.partitionStates(b.pipelineId, b.partitions);
    const counts = { succeeded: 0, failed: 0, running: 0, queued: 0, cancelled: 0, notStarted: 0 };
    for (const [i, k] of b.partitions.entries()) {
      const s = i < b.nextIndex ? states.get(k)?.status : undefined;
      if (s === undefined) counts.notStarted++;
      else counts[s]++;
    }
    return {
      id: b.id,
      pipelineId: b.pipelineId,
      status: b.status,
      maxParallel: b.maxParallel,
      partitions: b.partitions.length,
      from: b.partitions[0],
      to: b.partitions[b.partitions.length - 1],
      started: b.nextIndex,
      counts,
      createdBy: b.createdBy,
      createdAt: b.createdAt.toISOString(),
      finishedAt: b.finishedAt?.toISOString() ?? null,
    };
  }
}
