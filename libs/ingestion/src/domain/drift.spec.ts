import { driftColumns, EVOLVE_MAX_PER_RUN } from './drift';

describe('driftColumns (evolve)', () => {
  const state = (over: Partial<Parameters<typeof driftColumns>[1]> = {}) => ({
    known: new Set(['id']),
    unaddable: new Set<string>(),
    columns: ['id'],
    addedThisRun: 0,
    mapping: {},
    ...over,
  });

  it('adds a nullable text column per new field, named by the one column-name rule (foldName: as PostgreSQL folds an unquoted name), mapped from the field', () => {
    const s = state();
    const r = driftColumns(['id', 'customerId', 'note'], s);
    expect(r.cols.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['customerid', 'text', true],
      ['note', 'text', true],
    ]);
    expect(r.mapping).toEqual({ customerid: { from: 'customerId' } });
    expect(s.unaddable.size).toBe(0);
  });

  it('marks unaddable a field whose name is taken, or past the per-run limit', () => {
    const s = state({ columns: ['id', 'customerid'], addedThisRun: EVOLVE_MAX_PER_RUN - 1 });
    const r = driftColumns(['customerId', 'a', 'b'], s);
    expect(r.cols.map((c) => c.name)).toEqual(['a']);
    expect([...s.unaddable]).toEqual(['customerId', 'b']);
    // once unaddable, never offered again
    expect(driftColumns(['b'], s).cols).toEqual([]);
  });
});
