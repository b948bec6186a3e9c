import { Inject, Injectable, Logger } from '@nestjs/common';
import { assertDataPlane, validateIdentifier } from '@weir/platform';
import { CATALOG, CatalogPort } from '@weir/catalog';
import type { ExpectationResult } from '../domain/expectations';
import { AnomalyConfig, DEFAULT_ANOMALY, robustZ } from '../domain/anomaly';
import { anomalyResult, RunMetric, runMetrics, runStatus } from '../domain/run-metrics';
import { QUALITY_RUN_STORE, QualityRunStore } from './ports/quality-run-store.port';
import { SUITE_SCANNER, SuiteScanner } from './ports/suite-scanner.port';
import type { SuiteRecord } from './ports/suite-store.port';
import { QUALITY_EVENTS, QualityAlert, QualityEvents } from './quality.events';
import { QualityRunEventsPublisher } from './quality-run-events.publisher';
import type { QualityRunView } from './quality.views';
import { RunQueriesService } from './run-queries.service';
import { SuiteQueriesService } from './suite-queries.service';
import { SuiteValidationService } from './suite-validation.service';

/** Where and why a suite runs. */
export interface RunSuiteOptions {
  /** A table other than the dataset's own (a staging table, for gates). */
  target?: { schema: string; table: string };
  trigger?: 'api' | 'gate' | 'pipeline';
  triggerRef?: string;
  /** The run that asked (a pipeline run, an ingestion run): the OpenLineage parent of this run. */
  parent?: { job: string; runId: string };
  /** Asked for over HTTP, the client waiting: the scan is bounded by WEIR_REQUEST_STATEMENT_TIMEOUT_MS too. */
  forRequest?: boolean;
}

/**
 * Running a suite (POST /api/quality/suites/:id/runs, QUALITY_RUNS, the gate): the scan
 * (SUITE_SCANNER), metrics and anomalies against their history, the run recorded with its events,
 * an alert when it does not pass.
 */
@Injectable()
export class RunSuiteService {
  private readonly log = new Logger('quality');

  constructor(
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    @Inject(QUALITY_EVENTS) private readonly events: QualityEvents,
    @Inject(QUALITY_RUN_STORE) private readonly runStore: QualityRunStore,
    @Inject(SUITE_SCANNER) private readonly scanner: SuiteScanner,
    private readonly suites: SuiteQueriesService,
    private readonly validation: SuiteValidationService,
    private readonly runs: RunQueriesService,
    private readonly runEvents: QualityRunEventsPublisher,
  ) {}

  /** Runs a suite on its dataset's table, or on `target` (a staging table, for gates). */
  async run(id: string, opts: RunSuiteOptions = {}): Promise<QualityRunView> {
    const s = await this.suites.find(id);
    const dataset = await this.catalog.getDataset(s.dataset);
    const target = opts.target ?? { schema: dataset.schema, table: dataset.table };
    assertDataPlane(target.schema, target.table, 'A suite run');
    validateIdentifier(target.schema, 'schema');
    validateIdentifier(target.table, 'table');
    const startedAt = new Date();
    const trigger = opts.trigger ?? 'api';
    const previous = await this.runStore.history(s.dataset, 'row_count', trigger, 1, false);
    const cfg: AnomalyConfig = { ...DEFAULT_ANOMALY, ...((s.meta?.['anomalies'] as Partial<AnomalyConfig>) ?? {}) };
    const scan = await this.scanner.scan({
      suite: s.name,
      target,
      expectations: await this.validation.resolveRefs(s.expectations),
      masked: new Set(dataset.contract.columns.filter((c) => c.pii).map((c) => c.name)),
      lastLoadAt: dataset.lastLoad ? new Date(dataset.lastLoad.at) : null,
      previousRowCount: previous.length ? previous[0] : null,
      profile: cfg.enabled,
      distinctColumns: cfg.distinctColumns,
      forRequest: opts.forRequest,
    });
    const { rowCount, profile, results } = scan;
    // metrics of this run, then anomalies against their history (same trigger kind, runs that did not fail)
    const metrics = runMetrics(rowCount, profile, results);
    const anomalies = cfg.enabled ? await this.anomalies(s.dataset, trigger, metrics, cfg, results) : [];
    const status = runStatus(results);
    const finishedAt = new Date();
    const run = {
      suiteId: s.id,
      dataset: s.dataset,
      targetSchema: target.schema,
      targetTable: target.table,
      status,
      trigger,
      triggerRef: opts.triggerRef ?? null,
      startedAt,
      finishedAt,
      rowCount,
    } as const;
    const recorded = results.map((x, i) => ({
      expectationIndex: i,
      expectationType: x.expectation.type,
      kwargs: x.expectation.kwargs,
      severity: x.severity,
      success: x.success,
      evidence: x.result as Record<string, unknown>,
      exception: x.exception_info?.raised_exception ? (x.exception_info.exception_message ?? 'error') : null,
    }));
    // the run is recorded once, when it is done: its START and its end are published with it
    const savedId = await this.runStore.record(run, recorded, metrics, (tx, runId) =>
      this.runEvents.publish(tx, {
        runId,
        suite: s.name,
        dataset: `${dataset.schema}.${dataset.table}`,
        status,
        startedAt,
        finishedAt,
        rowCount,
        profile,
        results,
        parent: opts.parent,
      }),
    );
    if (status !== 'passed')
      this.alert(s, savedId, status, `${target.schema}.${target.table}`, opts, results, anomalies);
    this.log.log(
      `suite ${s.name} on ${target.schema}.${target.table}: ${status} (${results.filter((r) => !r.success).length} of ${results.length} failed)`,
    );
    return this.runs.getRun(savedId);
  }

  /** Each metric against its history; a verdict is added to `results` (an `anomaly` result). */
  private async anomalies(
    dataset: string,
    trigger: string,
    metrics: RunMetric[],
    cfg: AnomalyConfig,
    results: ExpectationResult[],
  ): Promise<QualityAlert['anomalies']> {
    const anomalies: QualityAlert['anomalies'] = [];
    for (const m of metrics) {
      const hist = await this.runStore.history(dataset, m.metric, trigger, cfg.history, true);
      const verdict = robustZ(m.value, hist, cfg);
      if (!verdict) continue;
      results.push(anomalyResult(m, verdict, cfg.severity));
      if (verdict.anomalous) anomalies.push({ metric: m.metric, value: m.value, band: verdict.band, z: verdict.z });
    }
    return anomalies;
  }

  private alert(
    s: SuiteRecord,
    runId: string,
    status: 'warned' | 'failed',
    target: string,
    opts: RunSuiteOptions,
    results: ExpectationResult[],
    anomalies: QualityAlert['anomalies'],
  ): void {
    this.events.emitAlert({
      type: status === 'failed' ? 'quality.run.failed' : 'quality.run.warned',
      runId,
      suite: s.name,
      dataset: s.dataset,
      target,
      trigger: opts.trigger ?? 'api',
      triggerRef: opts.triggerRef ?? null,
      failures: results
        .filter((r) => !r.success)
        .map((r) => ({
          type: r.expectation.type,
          severity: r.severity,
          message: `${r.expectation.type}(${JSON.stringify(r.expectation.kwargs['column'] ?? r.expectation.kwargs['metric'] ?? '')}) failed`,
        })),
      anomalies,
      at: new Date().toISOString(),
    });
  }
}
