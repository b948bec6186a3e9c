import type { ExpectationResult } from './expectations';
import type { AnomalyVerdict } from './anomaly';

/** A metric a run records (row_count, the profile, each numeric observed value). */
export interface RunMetric {
  metric: string;
  value: number;
}

/**
 * The metrics of a run: its row count (for a gate run, the load volume: the staged rows), the
 * profile, and every finite numeric observed value as `<expectation type>(<column>)`.
 */
export function runMetrics(
  rowCount: number,
  profile: Record<string, number>,
  results: ExpectationResult[],
): RunMetric[] {
  const metrics: RunMetric[] = [
    { metric: 'row_count', value: rowCount },
    ...Object.entries(profile).map(([metric, value]) => ({ metric, value })),
  ];
  for (const x of results) {
    const col = (x.expectation.kwargs['column'] as string | undefined) ?? '';
    if (typeof x.result.observed_value === 'number' && Number.isFinite(x.result.observed_value))
      metrics.push({ metric: `${x.expectation.type}(${col})`, value: x.result.observed_value });
  }
  return metrics;
}

/** An anomaly verdict on a metric, as a result of the run (type `anomaly`). */
export function anomalyResult(m: RunMetric, verdict: AnomalyVerdict, severity: 'warn' | 'error'): ExpectationResult {
  return {
    expectation: { type: 'anomaly', kwargs: { metric: m.metric }, severity },
    success: !verdict.anomalous,
    severity,
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
  };
}

/** passed, warned (a warn check failed) or failed (an error check failed). */
export function runStatus(results: ExpectationResult[]): 'passed' | 'warned' | 'failed' {
  const failedError = results.some((r) => !r.success && r.severity === 'error');
  const failedWarn = results.some((r) => !r.success && r.severity === 'warn');
  return failedError ? 'failed' : failedWarn ? 'warned' : 'passed';
}
