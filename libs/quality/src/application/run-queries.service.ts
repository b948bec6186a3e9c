import { Inject, Injectable } from '@nestjs/common';
import { RunNotFoundError } from '../quality.errors';
import { QUALITY_RUN_STORE, QualityRunStore } from './ports/quality-run-store.port';
import { MetricPointView, QualityRunView, runView } from './quality.views';

/** Reading runs and metrics: GET /api/quality/runs/:id and /datasets/:name/metrics. */
@Injectable()
export class RunQueriesService {
  constructor(@Inject(QUALITY_RUN_STORE) private readonly runStore: QualityRunStore) {}

  async getRun(id: string): Promise<QualityRunView> {
    const r = await this.runStore.get(id);
    if (!r) throw new RunNotFoundError(`No quality run with id ${JSON.stringify(id)}`);
    return runView(r);
  }

  /** Runs newest first (filters: dataset, suite, status; `before` a startedAt pages back), without their results. */
  async listRuns(f: { dataset?: string; suite?: string; status?: string; before?: string; limit?: number }) {
    const limit = Math.min(Math.max(f.limit ?? 50, 1), 500);
    const items = (
      await this.runStore.list({
        dataset: f.dataset,
        suiteId: f.suite,
        status: f.status,
        before: f.before ? new Date(f.before) : undefined,
        limit,
      })
    ).map((r) => ({ ...r, startedAt: r.startedAt.toISOString(), finishedAt: r.finishedAt.toISOString() }));
    return { items, next: items.length === limit ? items[items.length - 1].startedAt : null };
  }

  /** A dataset's metric history (one metric or all), newest first, at most 1000 points. */
  async metrics(dataset: string, metric?: string, limit = 100): Promise<MetricPointView[]> {
    const rows = await this.runStore.metrics(dataset, metric, Math.min(limit, 1000));
    return rows.map((m) => ({ metric: m.metric, value: m.value, runId: m.runId, at: m.at.toISOString() }));
  }
}
