import { compileContract } from '@weir/catalog';
import { driftColumns, EVOLVE_MAX_PER_RUN, headerPlan } from './drift';

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

describe('headerPlan', () => {
  const contract = {
    columns: [
      { name: 'id', type: 'integer', nullable: false },
      { name: 'name', type: 'text', nullable: true },
      { name: 'kind', type: 'text', nullable: false },
    ],
  };
  const compiled = compileContract(contract);

  it('places each contract column in the row, -1 when absent', () => {
    const p = headerPlan(['name', 'id', 'kind', 'extra'], compiled, contract, 'discard_columns', {});
    expect([...p.index]).toEqual([1, 0, 2]);
    expect(p.unknown).toEqual(['extra']);
    expect(p.violation).toBeUndefined();
  });

  it('under freeze, an unknown column or a missing required one is every row’s violation', () => {
    const p = headerPlan(['id', 'extra'], compiled, contract, 'freeze', {});
    expect(p.violation).toEqual({
      reason: 'SCHEMA_DRIFT',
      message: 'unknown columns extra; missing required columns kind (drift policy freeze)',
    });
    // a required column with a default in the mapping may be missing
    expect(headerPlan(['id'], compiled, contract, 'freeze', { kind: { default: 'x' } }).violation).toBeUndefined();
  });
});
