import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { Queryable } from '@weir/platform';
import type {
  MetricPoint,
  NewQualityRun,
  QualityResultRecord,
  QualityRunRecord,
  QualityRunStore,
  QualityRunSummary,
} from '../application/ports/quality-run-store.port';
import { QualityMetricOrmEntity } from './quality-metric.orm-entity';
import { QualityResultOrmEntity } from './quality-result.orm-entity';
import { QualityRunOrmEntity } from './quality-run.orm-entity';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** quality.runs, quality.results and quality.metrics through TypeORM. */
export class TypeOrmQualityRunStore implements QualityRunStore {
  constructor(private readonly ds: DataSource) {}

  record(
    run: NewQualityRun,
    results: QualityResultRecord[],
    metrics: { metric: string; value: number }[],
    along?: (tx: Queryable, runId: string) => Promise<void>,
  ): Promise<string> {
    return this.ds.transaction(async (em) => {
      const r = await em.save(em.create(QualityRunOrmEntity, { ...run, rowCount: String(run.rowCount) }));
      await em.save(results.map((x) => em.create(QualityResultOrmEntity, { ...x, runId: r.id })));
      await em.save(
        metrics.map((m) =>
          em.create(QualityMetricOrmEntity, { dataset: run.dataset, runId: r.id, metric: m.metric, value: m.value }),
        ),
      );
      await along?.(em, r.id);
      return r.id;
    });
  }

  async list(f: {
    dataset?: string;
    suiteId?: string;
    status?: string;
    before?: Date;
    limit: number;
  }): Promise<QualityRunSummary[]> {
    const rows = (await this.ds.query(
      `SELECT r.id, r.suite_id, r.dataset, r.target_schema, r.target_table, r.status, r.trigger, r.trigger_ref,
              r.started_at, r.finished_at, r.row_count,
              (SELECT count(*)::int FROM quality.results x WHERE x.run_id = r.id) AS expectations,
              (SELECT count(*)::int FROM quality.results x WHERE x.run_id = r.id AND NOT x.success) AS failed
         FROM quality.runs r
        WHERE ($1::text IS NULL OR r.dataset = $1) AND ($2::uuid IS NULL OR r.suite_id = $2)
          AND ($3::text IS NULL OR r.status = $3) AND ($4::timestamptz IS NULL OR r.started_at < $4)
        ORDER BY r.started_at DESC, r.id DESC LIMIT $5`,
      [f.dataset ?? null, f.suiteId ?? null, f.status ?? null, f.before ?? null, f.limit],
    )) as Record<string, unknown>[];
    return rows.map((r) => ({
      id: String(r['id']),
      suiteId: String(r['suite_id']),
      dataset: String(r['dataset']),
      targetSchema: String(r['target_schema']),
      targetTable: String(r['target_table']),
      status: r['status'] as NewQualityRun['status'],
      trigger: String(r['trigger']),
      triggerRef: (r['trigger_ref'] as string | null) ?? null,
      startedAt: r['started_at'] as Date,
      finishedAt: r['finished_at'] as Date,
      rowCount: Number(r['row_count']),
      expectations: Number(r['expectations']),
      failed: Number(r['failed']),
    }));
  }

  async get(id: string): Promise<QualityRunRecord | undefined> {
    const r = UUID.test(id) ? await this.ds.getRepository(QualityRunOrmEntity).findOne({ where: { id } }) : null;
    if (!r) return undefined;
    const results = await this.ds
      .getRepository(QualityResultOrmEntity)
      .find({ where: { runId: r.id }, order: { expectationIndex: 'ASC' } });
    return {
      id: r.id,
      suiteId: r.suiteId,
      dataset: r.dataset,
      targetSchema: r.targetSchema,
      targetTable: r.targetTable,
      status: r.status as NewQualityRun['status'],
      trigger: r.trigger,
      triggerRef: r.triggerRef,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
      rowCount: Number(r.rowCount),
      results: results.map((x) => ({
        expectationIndex: x.expectationIndex,
        expectationType: x.expectationType,
        kwargs: x.kwargs,
        severity: x.severity,
        success: x.success,
        evidence: x.evidence,
        exception: x.exception,
      })),
    };
  }

  async history(
    dataset: string,
    metric: string,
    trigger: string,
    limit: number,
    withoutFailed: boolean,
  ): Promise<number[]> {
    const rows = (await this.ds.query(
      `SELECT m.value FROM quality.metrics m JOIN quality.runs r ON r.id = m.run_id
        WHERE m.dataset = $1 AND m.metric = $2 AND r.trigger = $3 ${withoutFailed ? `AND r.status <> 'failed'` : ''}
        ORDER BY m.recorded_at DESC, m.id DESC LIMIT $4`,
      [dataset, metric, trigger, limit],
    )) as { value: number | string }[];
    return rows.map((h) => Number(h.value));
  }

  async metrics(dataset: string, metric: string | undefined, limit: number): Promise<MetricPoint[]> {
    const rows = await this.ds.getRepository(QualityMetricOrmEntity).find({
      where: metric ? { dataset, metric } : { dataset },
      order: { recordedAt: 'DESC', id: 'DESC' },
      take: limit,
    });
    return rows.map((m) => ({ metric: m.metric, value: m.value, runId: m.runId, at: m.recordedAt }));
  }
}

/** Runs in memory: for use cases unit-tested without a database (`along` gets a transaction that does nothing). */
export class InMemoryQualityRunStore implements QualityRunStore {
  private readonly runs = new Map<string, QualityRunRecord>();
  private readonly points: (MetricPoint & { dataset: string; seq: number })[] = [];
  private seq = 0;

  async record(
    run: NewQualityRun,
    results: QualityResultRecord[],
    metrics: { metric: string; value: number }[],
    along?: (tx: Queryable, runId: string) => Promise<void>,
  ): Promise<string> {
    const id = randomUUID();
    await along?.({ query: async () => ({ rows: [] }) }, id);
    const copy = JSON.parse(JSON.stringify(results)) as QualityResultRecord[];
    this.runs.set(id, { ...run, id, results: copy.sort((a, b) => a.expectationIndex - b.expectationIndex) });
    const at = new Date();
    for (const m of metrics) this.points.push({ ...m, dataset: run.dataset, runId: id, at, seq: this.seq++ });
    return id;
  }

  async list(f: {
    dataset?: string;
    suiteId?: string;
    status?: string;
    before?: Date;
    limit: number;
  }): Promise<QualityRunSummary[]> {
    return [...this.runs.values()]
      .filter((r) => (!f.dataset || r.dataset === f.dataset) && (!f.suiteId || r.suiteId === f.suiteId))
      .filter((r) => (!f.status || r.status === f.status) && (!f.before || r.startedAt < f.before))
      .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())
      .slice(0, f.limit)
      .map(({ results, ...r }) => ({
        ...r,
        expectations: results.length,
        failed: results.filter((x) => !x.success).length,
      }));
  }

  async get(id: string): Promise<QualityRunRecord | undefined> {
    const r = this.runs.get(id);
    return r ? { ...r, results: JSON.parse(JSON.stringify(r.results)) } : undefined;
  }

  async history(
    dataset: string,
    metric: string,
    trigger: string,
    limit: number,
    withoutFailed: boolean,
  ): Promise<number[]> {
    return this.newestFirst()
      .filter((p) => p.dataset === dataset && p.metric === metric)
      .filter((p) => {
        const run = this.runs.get(p.runId)!;
        return run.trigger === trigger && (!withoutFailed || run.status !== 'failed');
      })
      .slice(0, limit)
      .map((p) => p.value);
  }

  async metrics(dataset: string, metric: string | undefined, limit: number): Promise<MetricPoint[]> {
    return this.newestFirst()
      .filter((p) => p.dataset === dataset && (metric === undefined || p.metric === metric))
      .slice(0, limit)
      .map(({ metric: m, value, runId, at }) => ({ metric: m, value, runId, at }));
  }

  private newestFirst() {
    return [...this.points].sort((a, b) => b.at.getTime() - a.at.getTime() || b.seq - a.seq);
  }
}
