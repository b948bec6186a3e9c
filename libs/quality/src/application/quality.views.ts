import type { Expectation } from '../domain/expectations';
import type { QualityRunRecord } from './ports/quality-run-store.port';
import type { SuiteRecord } from './ports/suite-store.port';

/** A suite as it is registered (POST/PUT /api/quality/suites, QUALITY_SUITES). */
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

/** One run of a suite with its results, as the API and QUALITY_RUNS return it. */
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

/** A point of a dataset's metric history. */
export interface MetricPointView {
  metric: string;
  value: number;
  runId: string;
  at: string;
}

export function suiteView(e: SuiteRecord): SuiteView {
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

export function runView(r: QualityRunRecord): QualityRunView {
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
    results: r.results.map((x) => {
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
