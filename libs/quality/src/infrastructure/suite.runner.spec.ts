import type { Expectation } from '../domain/expectations';
import { sampleSizes } from './suite.runner';

const check = (resultFormat?: unknown): Expectation => ({
  type: 'expect_column_values_to_not_be_null',
  kwargs: { column: 'id', ...(resultFormat === undefined ? {} : { result_format: resultFormat }) },
});

describe('sampleSizes: how many unexpected values a check keeps', () => {
  it("keeps GX's 20 (or the run's default) in the partial list, and every value of a COMPLETE list without a cap", () => {
    expect(sampleSizes(check(), 'BASIC', {})).toEqual({ partial: 20 });
    expect(sampleSizes(check(), 'SUMMARY', { partialCount: 5 })).toEqual({ partial: 5 });
    expect(sampleSizes(check('COMPLETE'), 'COMPLETE', {})).toEqual({ partial: 20, complete: undefined });
  });

  it("honours a check's partial_unexpected_count, cut to WEIR_QUALITY_SAMPLE_MAX", () => {
    const asked = (n: unknown) => check({ result_format: 'SUMMARY', partial_unexpected_count: n });
    expect(sampleSizes(asked(50), 'SUMMARY', { sampleMax: 1000 })).toEqual({ partial: 50 });
    expect(sampleSizes(asked(0), 'SUMMARY', { sampleMax: 1000 })).toEqual({ partial: 0 });
    expect(sampleSizes(asked(1_000_000), 'SUMMARY', { sampleMax: 1000 })).toEqual({ partial: 1000 });
    expect(sampleSizes(asked(1_000_000), 'SUMMARY', {})).toEqual({ partial: 1_000_000 });
    // not a count: the default
    for (const bad of [-1, 2.5, '50', null])
      expect(sampleSizes(asked(bad), 'SUMMARY', { sampleMax: 1000 })).toEqual({ partial: 20 });
  });

  it('cuts a COMPLETE list and a large default to the cap', () => {
    expect(sampleSizes(check({ result_format: 'COMPLETE' }), 'COMPLETE', { sampleMax: 3 })).toEqual({
      partial: 3,
      complete: 3,
    });
    expect(sampleSizes(check(), 'BASIC', { partialCount: 20, sampleMax: 7 })).toEqual({ partial: 7 });
  });
});
