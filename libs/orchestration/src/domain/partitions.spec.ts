import { partitionKeys, periodStart } from './partitions';

describe('partitionKeys', () => {
  const daily = { kind: 'daily' as const, start: '2026-11-28', values: null };
  it('lists a time range oldest first, from the pipeline start at the earliest', () => {
    expect(partitionKeys(daily, '2026-11-27', '2026-12-02')).toEqual([
      '2026-11-28',
      '2026-11-29',
      '2026-11-30',
      '2026-12-01',
      '2026-12-02',
    ]);
    expect(
      partitionKeys({ kind: 'hourly', start: '2026-12-01', values: null }, '2026-12-01T22', '2026-12-02T01'),
    ).toEqual(['2026-12-01T22', '2026-12-01T23', '2026-12-02T00', '2026-12-02T01']);
    expect(partitionKeys({ kind: 'monthly', start: '2025-11-01', values: null }, '2025-11', '2026-02')).toEqual([
      '2025-11',
      '2025-12',
      '2026-01',
      '2026-02',
    ]);
  });

  it('takes a slice of static partitions; refuses keys that are not the pipeline’s', () => {
    const p = { kind: 'static' as const, start: null, values: ['eu', 'us', 'apac'] };
    expect(partitionKeys(p, 'us')).toEqual(['us', 'apac']);
    expect(() => partitionKeys(p, 'mars')).toThrow(/not one of/);
    expect(() => partitionKeys(daily, '2026-02-30', '2026-03-01')).toThrow(/not a daily partition key/);
    expect(periodStart('daily', '2026-12-01')?.toISOString()).toBe('2026-12-01T00:00:00.000Z');
  });
});
