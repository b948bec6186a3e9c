import { Inject, Injectable } from '@nestjs/common';
import { partitionKeys } from '../domain/partitions';
import { InvalidRunRequestError } from '../orchestration.errors';
import { RUN_QUEUE, RunQueue } from './ports/run-queue.port';
import { PipelinesService } from './pipelines.service';

/** One partition on the page: its latest run, when it last succeeded, and whether it is a gap. */
export interface PartitionView {
  partition: string;
  status: string | null;
  runId: string | null;
  lastRunAt: string | null;
  lastSuccessAt: string | null;
  /** Never succeeded, or its latest run failed or was cancelled (after its last success). */
  gap: boolean;
}

/**
 * partitions: each partition of a pipeline with its latest status, and its gaps (partitions never
 * succeeded, or failed after their last success), paged; the latest run per partition comes from
 * one indexed query (pipeline, partition, created_at).
 */
@Injectable()
export class PartitionsService {
  constructor(
    private readonly pipelines: PipelinesService,
    @Inject(RUN_QUEUE) private readonly queue: RunQueue,
  ) {}

  async page(
    idOrName: string,
    q: { from?: string; to?: string; gaps?: boolean; limit?: number; offset?: number },
  ): Promise<{ total: number; gaps: number; items: PartitionView[] }> {
    const p = await this.pipelines.entity(idOrName);
    if (!p.spec.partitions) throw new InvalidRunRequestError(`Pipeline ${p.name} declares no partitions`);
    let keys: string[];
    try {
      keys = partitionKeys(p.spec.partitions, q.from, q.to);
    } catch (e) {
      throw new InvalidRunRequestError((e as Error).message);
    }
    const states = await this.queue.partitionStates(p.id);
    const isGap = (k: string) => {
      const s = states.get(k);
      return !s || s.status === 'failed' || s.status === 'cancelled';
    };
    const view = (k: string): PartitionView => {
      const s = states.get(k);
      return {
        partition: k,
        status: s?.status ?? null,
        runId: s?.runId ?? null,
        lastRunAt: s?.createdAt.toISOString() ?? null,
        lastSuccessAt: s?.lastSuccessAt?.toISOString() ?? null,
        gap: isGap(k),
      };
    };
    // the views of the page only (a range can hold 100,000 partitions)
    let gaps = 0;
    for (const k of keys) if (isGap(k)) gaps++;
    const offset = Math.max(q.offset ?? 0, 0);
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
    const shown = q.gaps ? keys.filter(isGap) : keys;
    return { total: keys.length, gaps, items: shown.slice(offset, offset + limit).map(view) };
  }
}
