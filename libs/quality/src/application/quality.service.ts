import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  assertDataPlane,
  readAsReader,
  Outbox,
  prepareReader,
  RUN_EVENTS_TOPIC,
  RunQuality,
  RunStateEvent,
  validateIdentifier,
  Warehouse,
  WEIR_CONFIG,
  WeirConfig,
} from '@weir/platform';
import { CATALOG, CatalogPort, DatasetContract, sqlType } from '@weir/catalog';
import {
  canonicalType,
  Expectation,
  EXPECTATION_KWARGS,
  EXPECTATION_TYPES,
  ExpectationResult,
  isGxType,
  KwargSpec,
} from '../domain/expectations';
import { ColumnInfo, compileSuite } from '../domain/suite-compiler';
import { runSuite } from '../infrastructure/suite-runner';
import { SUITE_STORE, SuiteNameTakenError, SuiteRecord, SuiteStore } from './ports/suite-store.port';
import { QUALITY_RUN_STORE, QualityRunStore } from './ports/quality-run-store.port';
import { QualityGate, QualityGateInput, QualityGateResult } from './quality-gate.port';
import { AnomalyConfig, DEFAULT_ANOMALY, robustZ } from '../domain/anomaly';
import { QUALITY_EVENTS, QualityAlert, QualityEvents } from './quality-events';
import {
  InvalidRowConditionError,
  InvalidSuiteError,
  RunNotFoundError,
  SuiteExistsError,
  SuiteNotFoundError,
  TableNotFoundError,
  UnknownExpectationTypeError,
} from '../quality.errors';

export interface SuiteInput {
  name: string;
  dataset: string;
  expectations: Expectation[];
  meta?: Record<string, unknown> | null;
}

export interface SuiteView extends SuiteInput {
  id: string;
  createdAt: string;
  updatedAt: string;
}

export interface QualityRunView {
  id: string;
  suiteId: string;
  dataset: string;
  target: string;
  status: 'passed' | 'warned' | 'failed';
  trigger: string;
  triggerRef: string | null;
  startedAt: string;
  finishedAt: string;
  rowCount: number;
  results: {
    index: number;
    type: string;
    kwargs: Record<string, unknown>;
    severity: string;
    success: boolean;
    observedValue?: unknown;
    elementCount?: number;
    unexpectedCount?: number;
    unexpectedPercent?: number | null;
    sampleUnexpected?: unknown[];
    exception?: string;
  }[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function suiteView(e: SuiteRecord): SuiteView {
  return {
    id: e.id,
    name: e.name,
    dataset: e.dataset,
    expectations: e.expectations,
    meta: e.meta,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

function contractColumns(contract: DatasetContract): ColumnInfo[] {
  return contract.columns.map((c) => ({ name: c.name, type: sqlType(c) }));
}

/**
 * Suites (GX-compatible), their runs with stored evidence and metrics, and the QualityGate that
 * ingestion calls before publishing.
 */
@Injectable()
export class QualityService implements QualityGate {
  private readonly log = new Logger('quality');

  constructor(
    private readonly warehouse: Warehouse,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    @Inject(QUALITY_EVENTS) private readonly events: QualityEvents,
    private readonly outbox: Outbox,
    @Inject(WEIR_CONFIG) config: WeirConfig,
    @Inject(SUITE_STORE) private readonly store: SuiteStore,
    @Inject(QUALITY_RUN_STORE) private readonly runStore: QualityRunStore,
  ) {
    this.checkTimeoutMs = config.checkTimeoutMs;
  }
  /** statement_timeout of a check's statements (WEIR_CHECK_TIMEOUT_SECONDS). */
  readonly checkTimeoutMs: number;

  /** `relationships.to` may name a dataset: resolve it to its warehouse table. */
  private async resolveRefs(expectations: Expectation[]): Promise<Expectation[]> {
    return Promise.all(
      expectations.map(async (e) => {
        if (e.type !== 'relationships' || typeof e.kwargs['to'] !== 'string') return e;
        const to = String(e.kwargs['to']);
        if (to.includes('.')) {
          const [schema, table] = to.split('.');
          assertDataPlane(schema, table, 'A relationships check');
          return e;
        }
        const ref = await this.catalog.findDataset(to);
        if (ref) assertDataPlane(ref.schema, ref.table, 'A relationships check');
        return ref ? { ...e, kwargs: { ...e.kwargs, to: `${ref.schema}.${ref.table}` } } : e;
      }),
    );
  }

  /** Normalises and checks expectations against the dataset's columns; every problem in one error. */
  private async checkSuite(input: SuiteInput): Promise<Expectation[]> {
    const dataset = await this.catalog.getDataset(input.dataset);
    if (!Array.isArray(input.expectations)) throw new InvalidSuiteError('expectations must be a list');
    const unknown = [...new Set(input.expectations.map((e) => String(e?.type)).filter((t) => !canonicalType(t)))];
    if (unknown.length) {
      throw new UnknownExpectationTypeError(
        `Unknown expectation type${unknown.length > 1 ? 's' : ''} ${unknown.map((t) => JSON.stringify(t)).join(', ')}; supported: ${EXPECTATION_TYPES.join(', ')} (GET /api/quality/expectation-types lists their kwargs)`,
        { unknown, supported: EXPECTATION_TYPES },
      );
    }
    const expectations = input.expectations.map((e) => ({
      type: canonicalType(String(e.type)) ?? String(e.type),
      kwargs: e.kwargs ?? {},
      ...(e.meta ? { meta: e.meta } : {}),
      severity: (e.severity ?? (e.kwargs?.['severity'] as 'warn' | 'error' | undefined) ?? 'error') as 'warn' | 'error',
    }));
    const compiled = compileSuite(
      { schema: dataset.schema, table: dataset.table },
      contractColumns(dataset.contract),
      await this.resolveRefs(expectations),
    );
    const problems = compiled.plans
      .filter((p) => p.error)
      .map((p) => `expectation ${p.index + 1} (${p.expectation.type}): ${p.error}`);
    for (const e of expectations)
      if (e.severity !== 'warn' && e.severity !== 'error') problems.push(`severity must be warn or error (${e.type})`);
    if (compiled.plans.some((p) => p.error?.startsWith('row_condition'))) {
      // a literal that does not fit its column would fail every later run (and every load): refused now
      throw new InvalidRowConditionError(`The suite is invalid: ${problems.join('; ')}`, { errors: problems });
    }
    if (problems.length)
      throw new InvalidSuiteError(`The suite is invalid: ${problems.join('; ')}`, { errors: problems });
    return expectations;
  }

  async create(input: SuiteInput): Promise<SuiteView> {
    const expectations = await this.checkSuite(input);
    try {
      return suiteView(
        await this.store.insert({ name: input.name, dataset: input.dataset, expectations, meta: input.meta ?? null }),
      );
    } catch (e) {
      if (e instanceof SuiteNameTakenError) throw new SuiteExistsError(e.message);
      throw e;
    }
  }

  async replace(id: string, input: SuiteInput): Promise<SuiteView> {
    const e = await this.entity(id);
    const expectations = await this.checkSuite(input);
    try {
      const saved = await this.store.update(e.id, {
        name: input.name,
        dataset: input.dataset,
        expectations,
        meta: input.meta ?? null,
      });
      if (!saved) throw new SuiteNotFoundError(`No suite ${JSON.stringify(id)}`);
      return suiteView(saved);
    } catch (err) {
      if (err instanceof SuiteNameTakenError) throw new SuiteExistsError(err.message);
      throw err;
    }
  }

  /** Creates or replaces the suite `name` (used by other slices, e.g. dbt YAML tests); an empty list removes it. */
  async upsertSuite(
    name: string,
    dataset: string,
    expectations: Expectation[],
    meta?: Record<string, unknown>,
  ): Promise<void> {
    const existing = await this.store.findByName(name);
    if (expectations.length === 0) {
      if (existing) await this.store.remove(existing.id);
      return;
    }
    const checked = await this.checkSuite({ name, dataset, expectations, meta });
    const suite = { name, dataset, expectations: checked, meta: meta ?? null };
    if (existing) await this.store.update(existing.id, suite);
    else await this.store.insert(suite);
  }

  async listSuites(dataset?: string): Promise<{ name: string; dataset: string; expectations: Expectation[] }[]> {
    return (await this.list(dataset)).map((s) => ({ name: s.name, dataset: s.dataset, expectations: s.expectations }));
  }

  async list(dataset?: string): Promise<SuiteView[]> {
    return (await this.store.list(dataset)).map(suiteView);
  }

  async entity(id: string): Promise<SuiteRecord> {
    const e = UUID.test(id) ? await this.store.findById(id) : await this.store.findByName(id);
    if (!e) throw new SuiteNotFoundError(`No suite ${JSON.stringify(id)}`);
    return e;
  }

  async get(id: string): Promise<SuiteView> {
    return suiteView(await this.entity(id));
  }

  async remove(id: string): Promise<void> {
    const e = await this.entity(id);
    await this.store.remove(e.id);
  }

  /**
   * Imports a GX suite JSON ({name|expectation_suite_name, expectations: [{type|expectation_type, kwargs, meta}]});
   * Weir's own checks exported under `meta.weir.expectations` go back to their places.
   */
  async importGx(dataset: string, gx: Record<string, unknown>, name?: string): Promise<SuiteView> {
    const gxList = gx['expectations'];
    if (!Array.isArray(gxList)) throw new InvalidSuiteError('A GX suite has an "expectations" list');
    const meta = (
      gx['meta'] && typeof gx['meta'] === 'object' ? { ...(gx['meta'] as Record<string, unknown>) } : {}
    ) as Record<string, unknown>;
    const weir =
      meta['weir'] && typeof meta['weir'] === 'object' ? { ...(meta['weir'] as Record<string, unknown>) } : undefined;
    const own = Array.isArray(weir?.['expectations'])
      ? (weir!['expectations'] as (Record<string, unknown> & { index?: number })[])
      : [];
    const list: Record<string, unknown>[] = [...gxList];
    for (const o of [...own].sort((a, b) => Number(a.index ?? Infinity) - Number(b.index ?? Infinity))) {
      const { index, ...x } = o;
      list.splice(Number.isInteger(index) ? Math.min(Number(index), list.length) : list.length, 0, x);
    }
    if (weir) {
      delete weir['expectations'];
      delete weir['dataset'];
      if (Object.keys(weir).length) meta['weir'] = weir;
      else delete meta['weir'];
    }
    gx = { ...gx, meta };
    const suiteName = name ?? (gx['name'] as string) ?? (gx['expectation_suite_name'] as string);
    if (typeof suiteName !== 'string' || suiteName.trim() === '')
      throw new InvalidSuiteError('The suite needs a name (name or expectation_suite_name)');
    const expectations = list.map((x: Record<string, unknown>) => {
      // the export carries severity in meta: it becomes the severity again, not a meta key
      const { severity, ...meta } = (x['meta'] as Record<string, unknown> | undefined) ?? {};
      return {
        type: String(x['type'] ?? x['expectation_type']),
        kwargs: (x['kwargs'] as Record<string, unknown>) ?? {},
        ...(Object.keys(meta).length ? { meta } : {}),
        severity: (severity ?? (x['kwargs'] as Record<string, unknown> | undefined)?.['severity']) as
          'warn' | 'error' | undefined,
      };
    });
    return this.create({ name: suiteName, dataset, expectations, meta: Object.keys(meta).length ? meta : null });
  }

  /**
   * The suite as GX 1.x suite JSON: only GX's own types under `expectations` (real GX refuses
   * others); Weir's checks (freshness, relationships, …) under `meta.weir.expectations` with their
   * position, so an import round-trips.
   */
  async exportGx(id: string): Promise<Record<string, unknown>> {
    const s = await this.entity(id);
    const all = s.expectations.map((e, index) => ({
      index,
      type: e.type,
      kwargs: e.kwargs,
      meta: { ...(e.meta ?? {}), severity: e.severity ?? 'error' },
    }));
    return {
      name: s.name,
      expectations: all.filter((e) => isGxType(e.type)).map(({ index: _index, ...e }) => e),
      meta: {
        ...(s.meta ?? {}),
        weir: {
          dataset: s.dataset,
          ...(all.some((e) => !isGxType(e.type)) ? { expectations: all.filter((e) => !isGxType(e.type)) } : {}),
        },
      },
    };
  }

  /** Every expectation type Weir runs, with its kwargs and whether GX knows it. */
  expectationTypes(): { type: string; gx: boolean; kwargs: readonly KwargSpec[] }[] {
    return EXPECTATION_TYPES.map((type) => ({ type, gx: isGxType(type), kwargs: EXPECTATION_KWARGS[type] }));
  }

  /** The SQL the suite compiles to on its dataset (one scan plus grouped queries). */
  async sql(
    id: string,
  ): Promise<{ scan: string; params: unknown[]; queries: { expectation: number; sql: string; params: unknown[] }[] }> {
    const s = await this.entity(id);
    const dataset = await this.catalog.getDataset(s.dataset);
    const c = compileSuite(
      { schema: dataset.schema, table: dataset.table },
      contractColumns(dataset.contract),
      await this.resolveRefs(s.expectations),
    );
    const queries = c.plans.flatMap((p) =>
      [p.groupedSql, p.kind === 'distinct' ? p.distinctSql : undefined]
        .filter((x): x is string => !!x)
        .map((sql) => ({ expectation: p.index, sql, params: p.params })),
    );
    return { scan: c.scanSql, params: c.params, queries };
  }

  /** Runs a suite on its dataset's table, or on `target` (a staging table, for gates). */
  async run(
    id: string,
    opts: {
      target?: { schema: string; table: string };
      trigger?: 'api' | 'gate' | 'pipeline';
      triggerRef?: string;
    } = {},
  ): Promise<QualityRunView> {
    const s = await this.entity(id);
    const dataset = await this.catalog.getDataset(s.dataset);
    const target = opts.target ?? { schema: dataset.schema, table: dataset.table };
    assertDataPlane(target.schema, target.table, 'A suite run');
    validateIdentifier(target.schema, 'schema');
    validateIdentifier(target.table, 'table');
    const masked = new Set(dataset.contract.columns.filter((c) => c.pii).map((c) => c.name));
    const startedAt = new Date();
    const trigger = opts.trigger ?? 'api';
    const previous = await this.runStore.history(s.dataset, 'row_count', trigger, 1, false);
    const expectations = await this.resolveRefs(s.expectations);
    const client = await this.warehouse.pool.connect();
    let results: ExpectationResult[];
    let rowCount: number;
    let profile: Record<string, number> = {};
    const cfg: AnomalyConfig = { ...DEFAULT_ANOMALY, ...((s.meta?.['anomalies'] as Partial<AnomalyConfig>) ?? {}) };
    try {
      // checks read as the reader role (no privilege on Weir's own schemas, none on the server's
      // files), in a READ ONLY transaction with a statement timeout: custom_sql and row_condition
      // can neither write nor reach the control plane
      const refs = expectations
        .filter(
          (e) =>
            e.type === 'relationships' && typeof e.kwargs['to'] === 'string' && String(e.kwargs['to']).includes('.'),
        )
        .map((e) => {
          const [schema, table] = String(e.kwargs['to']).split('.');
          return { schema, table };
        });
      const asReader = await prepareReader(client, [target, ...refs], (m) => this.log.warn(m));
      await client.query(`BEGIN READ ONLY`);
      await client.query(`SET LOCAL statement_timeout = ${Math.max(1000, this.checkTimeoutMs)}`);
      const exists = (
        await client.query(`SELECT to_regclass($1) IS NOT NULL AS e`, [`"${target.schema}"."${target.table}"`])
      ).rows[0].e;
      if (!exists)
        throw new TableNotFoundError(
          `The table ${target.schema}.${target.table} does not exist (load the dataset first)`,
        );
      const rowCountCheck: Expectation = {
        type: 'expect_table_row_count_to_be_between',
        kwargs: { min_value: 0 },
        severity: 'warn',
      };
      const runOpts = {
        masked,
        resultFormat: 'BASIC' as const,
        partialCount: 20,
        lastLoadAt: dataset.lastLoad ? new Date(dataset.lastLoad.at) : null,
        previousRowCount: previous.length ? previous[0] : null,
        profile: cfg.enabled,
        distinctColumns: cfg.distinctColumns,
        // every query a user's SQL (custom_sql, row_condition) is part of runs as the reader, inside
        // a function where PostgreSQL refuses any change of role
        ...(asReader
          ? { read: (text: string, values: unknown[]) => readAsReader(client, text, values, (m) => this.log.warn(m)) }
          : {}),
      };
      let run: Awaited<ReturnType<typeof runSuite>>;
      await client.query('SAVEPOINT weir_scan');
      try {
        run = await runSuite(client, target, [...expectations, rowCountCheck], runOpts);
        await client.query('RELEASE SAVEPOINT weir_scan');
      } catch (e) {
        // the scan failed as a whole (a column's type changed under a row_condition, say): when warn
        // checks are among it, run the error-severity checks alone, so a check that is only a warning
        // can never fail a load; the warn checks are reported as not evaluated
        await client.query('ROLLBACK TO SAVEPOINT weir_scan');
        const warns = expectations.filter((x) => x.severity === 'warn');
        if (!warns.length) throw e;
        this.log.warn(
          `suite ${s.name}: the scan failed (${(e as Error).message}); running its ${expectations.length - warns.length} error-severity check(s) alone`,
        );
        const strict = await runSuite(
          client,
          target,
          [...expectations.filter((x) => x.severity !== 'warn'), rowCountCheck],
          runOpts,
        );
        const left = [...strict.results];
        const last = left.pop()!;
        const results = expectations.map((x) =>
          x.severity === 'warn'
            ? {
                expectation: x,
                success: false,
                severity: 'warn' as const,
                result: {},
                exception_info: {
                  raised_exception: true,
                  exception_message: `not evaluated: the scan failed (${(e as Error).message})`,
                },
              }
            : left.shift()!,
        );
        run = { ...strict, results: [...results, last] };
      }
      profile = run.profile;
      rowCount = Number(run.results[run.results.length - 1].result.observed_value ?? 0);
      results = run.results.slice(0, -1);
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
    // metrics of this run, then anomalies against their history (same trigger kind, runs that did not fail)
    // for a gate run, row_count is the load volume (the staged rows)
    const metrics: { metric: string; value: number }[] = [
      { metric: 'row_count', value: rowCount },
      ...Object.entries(profile).map(([metric, value]) => ({ metric, value })),
    ];
    for (const x of results) {
      const col = (x.expectation.kwargs['column'] as string | undefined) ?? '';
      if (typeof x.result.observed_value === 'number' && Number.isFinite(x.result.observed_value))
        metrics.push({ metric: `${x.expectation.type}(${col})`, value: x.result.observed_value });
    }
    const anomalies: QualityAlert['anomalies'] = [];
    if (cfg.enabled) {
      for (const m of metrics) {
        const hist = await this.runStore.history(s.dataset, m.metric, trigger, cfg.history, true);
        const verdict = robustZ(m.value, hist, cfg);
        if (!verdict) continue;
        results.push({
          expectation: { type: 'anomaly', kwargs: { metric: m.metric }, severity: cfg.severity },
          success: !verdict.anomalous,
          severity: cfg.severity,
          result: {
            observed_value: m.value,
            details: {
              expected_band: verdict.band,
              median: verdict.median,
              mad: verdict.mad,
              robust_z: Number.isFinite(verdict.z) ? verdict.z : null,
              history: verdict.history,
            },
          },
        });
        if (verdict.anomalous) anomalies.push({ metric: m.metric, value: m.value, band: verdict.band, z: verdict.z });
      }
    }
    const failedError = results.some((r) => !r.success && r.severity === 'error');
    const failedWarn = results.some((r) => !r.success && r.severity === 'warn');
    const status = failedError ? 'failed' : failedWarn ? 'warned' : 'passed';
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
    const savedId = await this.runStore.record(run, recorded, metrics, async (em, runId) => {
      // the run is recorded once, when it is done: its START and its end are published with it
      const table = { name: `${dataset.schema}.${dataset.table}` };
      const quality: RunQuality = {
        dataset: table,
        rowCount,
        columnMetrics: columnMetrics(profile, rowCount),
        assertions: results.map((x) => ({
          assertion: x.expectation.type,
          success: x.success,
          ...(typeof x.expectation.kwargs['column'] === 'string'
            ? { column: x.expectation.kwargs['column'] as string }
            : {}),
          severity: x.severity === 'warn' ? ('warn' as const) : ('error' as const),
        })),
      };
      const base = {
        slice: 'quality' as const,
        job: `quality.${s.name}`,
        jobType: 'TEST',
        runId,
        inputs: [table],
        outputs: [],
      };
      await this.outbox.publish(
        em,
        RUN_EVENTS_TOPIC,
        { ...base, state: 'START', at: startedAt.toISOString() } satisfies RunStateEvent,
        `${runId}:START`,
      );
      const failures = results.filter((x) => !x.success && x.severity === 'error').length;
      await this.outbox.publish(
        em,
        RUN_EVENTS_TOPIC,
        {
          ...base,
          state: status === 'failed' ? 'FAIL' : 'COMPLETE',
          at: finishedAt.toISOString(),
          quality: [quality],
          ...(status === 'failed'
            ? {
                error: {
                  code: 'QUALITY.RUN_FAILED',
                  message: `${failures} error-severity expectation(s) failed on ${table.name}`,
                },
              }
            : {}),
        } satisfies RunStateEvent,
        `${runId}:END`,
      );
    });
    if (status !== 'passed') {
      this.events.emitAlert({
        type: status === 'failed' ? 'quality.run.failed' : 'quality.run.warned',
        runId: savedId,
        suite: s.name,
        dataset: s.dataset,
        target: `${target.schema}.${target.table}`,
        trigger,
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
    this.log.log(
      `suite ${s.name} on ${target.schema}.${target.table}: ${status} (${results.filter((r) => !r.success).length} of ${results.length} failed)`,
    );
    return this.getRun(savedId);
  }

  async getRun(id: string): Promise<QualityRunView> {
    const r = await this.runStore.get(id);
    if (!r) throw new RunNotFoundError(`No quality run with id ${JSON.stringify(id)}`);
    const results = r.results;
    return {
      id: r.id,
      suiteId: r.suiteId,
      dataset: r.dataset,
      target: `${r.targetSchema}.${r.targetTable}`,
      status: r.status as QualityRunView['status'],
      trigger: r.trigger,
      triggerRef: r.triggerRef,
      startedAt: r.startedAt.toISOString(),
      finishedAt: r.finishedAt.toISOString(),
      rowCount: r.rowCount,
      results: results.map((x) => {
        const ev = x.evidence as Record<string, unknown>;
        return {
          index: x.expectationIndex,
          type: x.expectationType,
          kwargs: x.kwargs,
          severity: x.severity,
          success: x.success,
          ...(ev['observed_value'] !== undefined ? { observedValue: ev['observed_value'] } : {}),
          ...(ev['element_count'] !== undefined ? { elementCount: ev['element_count'] as number } : {}),
          ...(ev['unexpected_count'] !== undefined
            ? {
                unexpectedCount: ev['unexpected_count'] as number,
                unexpectedPercent: ev['unexpected_percent'] as number | null,
              }
            : {}),
          ...(Array.isArray(ev['partial_unexpected_list'])
            ? { sampleUnexpected: ev['partial_unexpected_list'] as unknown[] }
            : {}),
          ...(x.exception ? { exception: x.exception } : {}),
        };
      }),
    };
  }

  async metrics(
    dataset: string,
    metric?: string,
    limit = 100,
  ): Promise<{ metric: string; value: number; runId: string; at: string }[]> {
    const rows = await this.runStore.metrics(dataset, metric, Math.min(limit, 1000));
    return rows.map((m) => ({ metric: m.metric, value: m.value, runId: m.runId, at: m.at.toISOString() }));
  }

  /** QualityGate: the dataset's suites on the staged rows; error-severity failures block publishing. */
  async hasChecks(dataset: string): Promise<boolean> {
    return (await this.store.countFor(dataset)) > 0;
  }

  async check(input: QualityGateInput): Promise<QualityGateResult> {
    const suites = await this.store.list(input.dataset);
    const failures: QualityGateResult['failures'] = [];
    const runIds: string[] = [];
    for (const s of suites) {
      const run = await this.run(s.id, {
        target: { schema: input.schema, table: input.table },
        trigger: 'gate',
        triggerRef: input.runId,
      });
      runIds.push(run.id);
      for (const r of run.results.filter((x) => !x.success)) {
        failures.push({
          check: `${s.name}#${r.index + 1} ${r.type}`,
          severity: r.severity === 'warn' ? 'warning' : 'error',
          message: `${s.name}: ${r.type}(${JSON.stringify(r.kwargs['column'] ?? r.kwargs['column_list'] ?? '')}) failed${r.unexpectedCount !== undefined ? `, ${r.unexpectedCount} unexpected` : ''}${r.observedValue !== undefined ? `, observed ${JSON.stringify(r.observedValue)}` : ''}${r.exception ? `: ${r.exception}` : ''} (quality run ${run.id})`,
          observed: r.observedValue,
        });
      }
    }
    return { passed: !failures.some((f) => f.severity === 'error'), failures, runIds };
  }
}

/** OpenLineage column metrics from the profile of a run (`null_ratio(c)`, `min(c)`, `distinct_count(c)` …). */
function columnMetrics(profile: Record<string, number>, rows: number): NonNullable<RunQuality['columnMetrics']> {
  const out: NonNullable<RunQuality['columnMetrics']> = {};
  const names: Record<string, 'nullCount' | 'distinctCount' | 'min' | 'max' | 'sum'> = {
    null_ratio: 'nullCount',
    distinct_count: 'distinctCount',
    min: 'min',
    max: 'max',
    sum: 'sum',
  };
  for (const [metric, value] of Object.entries(profile)) {
    const m = /^(\w+)\((.+)\)$/.exec(metric);
    const key = m ? names[m[1]] : undefined;
    if (!m || !key) continue;
    (out[m[2]] ??= {})[key] = key === 'nullCount' ? Math.round(value * rows) : value;
  }
  return out;
}
