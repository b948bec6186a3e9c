import { Inject, Injectable } from '@nestjs/common';
import { keysAt, partitionKeys, partitionRange } from '../domain/partitions';
import { InvalidRunRequestError } from '../orchestration.errors';
import { PartitionState, RUN_QUEUE, RunQueue } from './ports/run-queue.port';
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
    const offset = Math.max(q.offset ?? 0, 0);
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
    const view = (k: string, s: PartitionState | null | undefined): PartitionView => ({
      partition: k,
      status: s?.status ?? null,
      runId: s?.runId ?? null,
      lastRunAt: s?.createdAt.toISOString() ?? null,
      lastSuccessAt: s?.lastSuccessAt?.toISOString() ?? null,
      gap: !s || s.status === 'failed' || s.status === 'cancelled',
    });
    try {
      if (p.spec.partitions.kind === 'static') {
        // a listed set: its states in one read
        const keys = partitionKeys(p.spec.partitions, q.from, q.to);
        const states = await this.queue.partitionStates(p.id, keys);
        const all = keys.map((k) => view(k, states.get(k)));
        const shown = q.gaps ? all.filter((v) => v.gap) : all;
        return {
          total: keys.length,
          gaps: all.filter((v) => v.gap).length,
          items: shown.slice(offset, offset + limit),
        };
      }
      // time partitions: counted by arithmetic, covered ones counted in SQL, only the page's keys read
      const range = partitionRange(p.spec.partitions, q.from, q.to);
      const gaps = range.count - (range.count ? await this.queue.partitionsCovered(p.id, range) : 0);
      if (q.gaps) {
        const rows = range.count ? await this.queue.gapsPage(p.id, range, offset, limit) : [];
        return { total: range.count, gaps, items: rows.map((r) => view(r.partition, r.state)) };
      }
      const keys = keysAt(range, offset, limit);
      const states = keys.length ? await this.queue.partitionStates(p.id, keys) : new Map<string, PartitionState>();
      return { total: range.count, gaps, items: keys.map((k) => view(k, states.get(k))) };
    } catch (e) {
      if (e instanceof RangeError) throw new InvalidRunRequestError(e.message);
      throw e;
    }
  }
}
