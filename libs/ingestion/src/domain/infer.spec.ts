import { columnName, foldName, inferContract } from './infer';
import { assertAccounted } from './source';
import { globToRegExp } from '../application/due-runs.service';

describe('inferContract', () => {
  it('picks the narrowest type, nullability and id-like keys', () => {
    const r = inferContract(
      ['id', 'big', 'amt', 'flag', 'day', 'obj', 'mixed'],
      [
        { id: '1', big: '9000000000', amt: '1.5', flag: 'yes', day: '2026-01-01', obj: { a: 1 }, mixed: '1' },
        { id: '2', big: '1', amt: '-20', flag: 'no', day: '', obj: { b: 2 }, mixed: 'x' },
      ],
    );
    expect(r.columns).toEqual([
      { name: 'id', type: 'integer', nullable: false, primaryKey: true },
      { name: 'big', type: 'bigint', nullable: false },
      { name: 'amt', type: 'numeric(13,1)', nullable: false },
      { name: 'flag', type: 'boolean', nullable: false },
      { name: 'day', type: 'date', nullable: true },
      { name: 'obj', type: 'jsonb', nullable: false },
      { name: 'mixed', type: 'text', nullable: false },
    ]);
    expect(r.candidateKeys).toEqual([['id'], ['big'], ['mixed']]);
  });

  it('makes valid, unique column names', () => {
    const taken = new Set<string>();
    expect(['Order ID', 'orderId', '1st', 'order_id', ''].map((f) => columnName(f, taken))).toEqual([
      'order_id',
      'orderid',
      'c_1st',
      'order_id_2',
      'column',
    ]);
  });

  it('folds names as PostgreSQL folds unquoted identifiers, the same rule for infer and evolve (customerId is customerid, sTaTuS is status)', () => {
    expect(['customerId', 'sTaTuS', '  Net Amount (€) ', '__x__'].map(foldName)).toEqual([
      'customerid',
      'status',
      'net_amount',
      'x',
    ]);
    expect(inferContract(['customerId'], [{ customerId: '1' }]).columns[0].name).toBe(foldName('customerId'));
  });

  it('keeps a valid header exactly with the exact rule (dbt seeds, quote_columns true), folds the others', () => {
    const taken = new Set<string>();
    expect(['sTaTuS', 'first name', 'status', '__weir_x'].map((f) => columnName(f, taken, 'exact'))).toEqual([
      'sTaTuS',
      'first_name',
      'status',
      'weir_x',
    ]);
  });
});

describe('row accounting', () => {
  it('throws when read ≠ loaded + rejected + deduplicated', () => {
    expect(() => assertAccounted({ read: 10, loaded: 7, rejected: 2, deduplicated: 1 })).not.toThrow();
    expect(() => assertAccounted({ read: 10, loaded: 7, rejected: 2, deduplicated: 0 })).toThrow(
      /row accounting broken: read 10/,
    );
  });
});

describe('inbox patterns', () => {
  it('turns a glob into an anchored file-name RegExp', () => {
    const re = globToRegExp('orders-??.csv.gz');
    expect(re.test('orders-01.csv.gz')).toBe(true);
    expect(re.test('orders-001.csv.gz')).toBe(false);
    expect(re.test('xorders-01.csv.gz')).toBe(false);
    expect(globToRegExp('*.csv').test('a.b.csv')).toBe(true);
    expect(globToRegExp('*.csv').test('a.csv.bak')).toBe(false);
  });
});
