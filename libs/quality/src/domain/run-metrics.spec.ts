import type { ExpectationResult } from './expectations';
import { anomalyResult, runMetrics, runStatus } from './run-metrics';

const result = (over: Partial<ExpectationResult>): ExpectationResult => ({
  expectation: { type: 'expect_column_mean_to_be_between', kwargs: { column: 'amount' } },
  success: true,
  severity: 'error',
  result: {},
  ...over,
});

describe('run metrics', () => {
  it('row count, the profile, then every finite numeric observed value by type and column', () => {
    expect(
      runMetrics(10, { 'null_ratio(a)': 0.5 }, [
        result({ result: { observed_value: 3.5 } }),
        result({ result: { observed_value: 'x' } }),
        result({ result: { observed_value: Number.NaN } }),
        result({
          expectation: { type: 'expect_table_row_count_to_be_between', kwargs: {} },
          result: { observed_value: 7 },
        }),
      ]),
    ).toEqual([
      { metric: 'row_count', value: 10 },
      { metric: 'null_ratio(a)', value: 0.5 },
      { metric: 'expect_column_mean_to_be_between(amount)', value: 3.5 },
      { metric: 'expect_table_row_count_to_be_between()', value: 7 },
    ]);
  });

  it('an anomaly verdict becomes a result of type anomaly, an infinite z as null', () => {
    const r = anomalyResult(
      { metric: 'row_count', value: 100 },
      { anomalous: true, z: Infinity, median: 10, mad: 0, band: [10, 10], history: 6 },
      'warn',
    );
    expect(r).toEqual({
      expectation: { type: 'anomaly', kwargs: { metric: 'row_count' }, severity: 'warn' },
      success: false,
      severity: 'warn',
      result: {
        observed_value: 100,
        details: { expected_band: [10, 10], median: 10, mad: 0, robust_z: null, history: 6 },
      },
    });
  });

  it('status: failed on an error failure, warned on a warn failure only, else passed', () => {
    expect(runStatus([result({}), result({ success: false, severity: 'warn' })])).toBe('warned');
    expect(runStatus([result({ success: false }), result({ success: false, severity: 'warn' })])).toBe('failed');
    expect(runStatus([result({})])).toBe('passed');
    expect(runStatus([])).toBe('passed');
  });
});
