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

describe('partitionRange and keysAt: a range counted, not listed; a page of its keys', () => {
  const { partitionRange, keysAt, partitionKeys } = jest.requireActual('./partitions') as typeof import('./partitions');
  it('agrees with partitionKeys for hourly, daily and monthly ranges, at any offset', () => {
    for (const [kind, start, from, to] of [
      ['hourly', '2026-03-28T22:00:00Z', '2026-03-29T00', '2026-03-30T05'],
      ['daily', '2024-02-27', '2024-02-01', '2024-03-02'],
      ['monthly', '2023-11-01', '2023-10', '2024-03'],
    ] as const) {
      const p = { kind, start, values: null };
      const all = partitionKeys(p, from, to);
      const r = partitionRange(p, from, to);
      expect(r.count).toBe(all.length);
      expect(keysAt(r, 0, 1000)).toEqual(all);
      expect(keysAt(r, 3, 2)).toEqual(all.slice(3, 5));
      expect(keysAt(r, all.length - 1, 10)).toEqual(all.slice(-1));
    }
  });
  it('counts an empty range as 0 and refuses a bad key or more than 100,000 partitions', () => {
    const p = { kind: 'daily' as const, start: '2026-01-10', values: null };
    expect(partitionRange(p, '2026-01-01', '2026-01-05').count).toBe(0);
    expect(() => partitionRange(p, '2026-13-01')).toThrow('from: "2026-13-01" is not a daily partition key');
    expect(() => partitionRange({ kind: 'hourly', start: '2000-01-01', values: null })).toThrow(
      'more than 100000 partitions',
    );
  });
});
