import { isUuid, rowsOf } from './rows';

describe('rowsOf', () => {
  it('reads the rows of a TypeORM result (plain, or [rows, affected]) and of a pg result ({ rows })', () => {
    expect(rowsOf([{ a: 1 }])).toEqual([{ a: 1 }]);
    expect(rowsOf([[{ a: 1 }], 1])).toEqual([{ a: 1 }]);
    expect(rowsOf({ rows: [{ a: 2 }], rowCount: 1 })).toEqual([{ a: 2 }]);
    expect(rowsOf([])).toEqual([]);
  });
});

describe('isUuid', () => {
  it('accepts a UUID in either case and nothing else', () => {
    expect(isUuid('8B1B156F-0000-4000-8000-000000000001')).toBe(true);
    expect(isUuid('orders_csv')).toBe(false);
    expect(isUuid('8b1b156f-0000-4000-8000-00000000000')).toBe(false);
  });
});
