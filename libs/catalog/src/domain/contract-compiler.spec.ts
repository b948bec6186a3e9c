import { compileContract } from './contract-compiler';
import { classifyChange, contractProblems, DatasetContract, sqlType } from './contract';
import { isViolation } from './reason-codes';

const one = (type: string, extra: Record<string, unknown> = {}, mapping: Record<string, unknown> = {}) =>
  compileContract({ columns: [{ name: 'v', type, nullable: true, ...extra }] }, { mapping: { v: mapping } });

const ok = (type: string, input: unknown, expected: string, extra = {}, mapping = {}) =>
  expect(one(type, extra, mapping).encode([input])).toBe(expected);
const bad = (type: string, input: unknown, reason: string, extra = {}, mapping = {}) => {
  const r = one(type, extra, mapping).encode([input]);
  expect(isViolation(r) ? r.reason : r).toBe(reason);
};

describe('contract compiler: each type coerces as PostgreSQL accepts it', () => {
  it('text: escapes for COPY, keeps whitespace, refuses NUL', () => {
    ok('text', ' a\tb\nc\\d\re ', ' a\\tb\\nc\\\\d\\re ');
    ok('text', 'ünïcødé "q", x', 'ünïcødé "q", x');
    bad('text', 'a\u0000b', 'TYPE_MISMATCH');
  });
  it('integer and bigint: ranges, signs, leading zeros, whitespace', () => {
    ok('integer', ' 42 ', '42');
    ok('integer', '-2147483648', '-2147483648');
    ok('integer', '+007', '7');
    ok('integer', '-0', '0');
    bad('integer', '2147483648', 'TYPE_MISMATCH');
    bad('integer', '1.5', 'TYPE_MISMATCH');
    bad('integer', '1e3', 'TYPE_MISMATCH');
    ok('bigint', '9223372036854775807', '9223372036854775807');
    ok('bigint', '-9223372036854775808', '-9223372036854775808');
    bad('bigint', '9223372036854775808', 'TYPE_MISMATCH');
    bad('bigint', '12a', 'TYPE_MISMATCH');
    ok('bigint', 123456, '123456');
  });
  it('numeric(p,s): rounds half away from zero, refuses overflow', () => {
    ok('numeric(12,2)', '10.005', '10.01');
    ok('numeric(12,2)', '-10.005', '-10.01');
    ok('numeric(12,2)', '.5', '.5'); // PostgreSQL pads the scale itself
    ok('numeric(12,2)', '7', '7');
    ok('numeric(4,2)', '99.994', '99.99');
    bad('numeric(4,2)', '99.995', 'TYPE_MISMATCH');
    bad('numeric(4,2)', '100', 'TYPE_MISMATCH');
    bad('numeric(12,2)', '1,5', 'TYPE_MISMATCH');
    bad('numeric(12,2)', 'NaN', 'TYPE_MISMATCH');
    ok('numeric', '1.5e-7', '1.5e-7');
    ok('numeric(12,2)', '1.234,56', '1234.56', {}, { decimalSeparator: ',', thousandsSeparator: '.' });
  });
  it('boolean', () => {
    for (const t of ['true', 'T', 'yes', 'on', '1', 'y']) ok('boolean', t, 't');
    for (const f of ['false', 'F', 'no', 'off', '0', 'n']) ok('boolean', f, 'f');
    ok('boolean', true, 't');
    bad('boolean', 'maybe', 'TYPE_MISMATCH');
  });
  it('date, timestamp, timestamptz: calendar checked, offsets only where kept', () => {
    ok('date', '2024-02-29', '2024-02-29');
    bad('date', '2023-02-29', 'TYPE_MISMATCH');
    bad('date', '2024-13-01', 'TYPE_MISMATCH');
    bad('date', '01/02/2024', 'TYPE_MISMATCH');
    ok('date', '29/02/2024', '2024-02-29', {}, { format: 'DD/MM/YYYY' });
    ok('timestamp', '2024-01-02T03:04:05.123456', '2024-01-02T03:04:05.123456');
    ok('timestamp', '2024-01-02 03:04', '2024-01-02 03:04');
    bad('timestamp', '2024-01-02 24:00:00', 'TYPE_MISMATCH');
    bad('timestamptz', '2023-02-29T00:00:00Z', 'TYPE_MISMATCH');
    bad('timestamptz', '2024-04-31 10:00', 'TYPE_MISMATCH');
    bad('timestamptz', '0000-01-01T00:00:00Z', 'TYPE_MISMATCH');
    bad('timestamptz', '2024-01-01T10:00:00.Z', 'TYPE_MISMATCH');
    ok('timestamptz', '2024-02-29T23:59:59.999999-0330', '2024-02-29T23:59:59.999999-0330');
    bad('timestamp', '2024-01-02T03:04:05Z', 'TYPE_MISMATCH');
    ok('timestamptz', '2024-01-02T03:04:05Z', '2024-01-02T03:04:05Z');
    ok('timestamptz', '2024-01-02 03:04:05+05:30', '2024-01-02 03:04:05+05:30');
    bad('timestamptz', '2024-01-02 03:04:05+25', 'TYPE_MISMATCH');
    ok('timestamptz', '12/31/2024 23:59:58', '2024-12-31 23:59:58', {}, { format: 'MM/DD/YYYY HH:mm:ss' });
  });
  it('uuid and jsonb', () => {
    ok('uuid', '{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    ok('uuid', 'a0eebc999c0b4ef8bb6d6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    bad('uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1', 'TYPE_MISMATCH');
    ok('jsonb', '{"a":[1,"x\\ty"]}', '{"a":[1,"x\\\\ty"]}');
    ok('jsonb', { a: 1 }, '{"a":1}');
    bad('jsonb', '{"a":', 'TYPE_MISMATCH');
    bad('jsonb', '{"a":"\\u0000"}', 'TYPE_MISMATCH');
    bad('jsonb', '"\\ud800"', 'TYPE_MISMATCH');
    ok('jsonb', '"\\ud83d\\ude00"', '"\\\\ud83d\\\\ude00"');
  });
});

describe('contract compiler: rules and reason codes', () => {
  const contract: DatasetContract = {
    columns: [
      { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
      { name: 'status', type: 'text', nullable: false, allowed: ['new', 'paid'] },
      { name: 'code', type: 'text', nullable: true, pattern: '^[A-Z]{3}$', maxLength: 3 },
      { name: 'email', type: 'text', nullable: true, pii: true, pattern: '@' },
      { name: 'note', type: 'text', nullable: true, maxLength: 5 },
    ],
  };
  const c = compileContract(contract);
  it('encodes a good row with \\N for nulls', () => {
    expect(c.encode(['1', 'new', 'EUR', 'a@b', ''])).toBe('1\tnew\tEUR\ta@b\t\\N');
    expect(c.encode(['1', 'new', null, undefined, 'ünï€'])).toBe('1\tnew\t\\N\t\\N\tünï€');
  });
  it.each([
    [['', 'new', null, null, null], 'NULL_IN_REQUIRED', 'id'],
    [['x', 'new', null, null, null], 'TYPE_MISMATCH', 'id'],
    [['1', 'old', null, null, null], 'NOT_ALLOWED', 'status'],
    [['1', 'new', 'eur', null, null], 'PATTERN', 'code'],
    [['1', 'new', null, null, 'toolong'], 'TOO_LONG', 'note'],
  ])('%j -> %s on %s', (row, reason, column) => {
    expect(c.encode(row)).toMatchObject({ reason, column });
  });
  it('masks the value of a PII column', () => {
    expect(c.encode(['1', 'new', null, 'no-at-sign', null])).toMatchObject({
      reason: 'PATTERN',
      column: 'email',
      value: '***',
    });
  });
  it('applies mapping: rename, default, trim, custom nulls', () => {
    const m = compileContract(contract, {
      mapping: { id: { from: 'ID' }, status: { default: 'new' }, note: { trim: true } },
      nullValues: ['', 'NULL'],
    });
    expect(m.sourceFields).toEqual(['ID', 'status', 'code', 'email', 'note']);
    expect(m.encode(['5', 'NULL', null, null, '  hi  '])).toBe('5\tnew\t\\N\t\\N\thi');
  });
});

describe('contracts', () => {
  it('reports every problem with the column named', () => {
    expect(
      contractProblems({
        columns: [
          { name: 'Bad Name', type: 'text', nullable: true },
          { name: 'a', type: 'varchar2', nullable: true },
          { name: 'a', type: 'numeric(2,5)', nullable: true },
          { name: 'k', type: 'integer', nullable: true, primaryKey: true, maxLength: 3 },
          { name: 'p', type: 'text', nullable: true, pattern: '(' },
        ],
      }),
    ).toEqual([
      expect.stringMatching(/column 1 "Bad Name": name must be letters, digits and underscores/),
      expect.stringMatching(
        /column 2 "a": unknown type "varchar2" \(supported: text, varchar\(n\), char\(n\), smallint/,
      ),
      expect.stringMatching(/column 3 "a": duplicate column name/),
      expect.stringMatching(/column 3 "a": numeric scale 5 exceeds precision 2/),
      expect.stringMatching(/column 4 "k": a primary key column cannot be nullable/),
      expect.stringMatching(/column 4 "k": maxLength applies to text columns only/),
      expect.stringMatching(/column 5 "p": pattern is not a valid regular expression/),
    ]);
    expect(contractProblems({ columns: [] })).toEqual(['a contract needs at least one column']);
  });
  it('maps to SQL types', () => {
    expect(sqlType({ name: 'a', type: 'numeric(12,2)', nullable: true })).toBe('numeric(12,2)');
    expect(sqlType({ name: 'a', type: 'text', nullable: true, maxLength: 3 })).toBe('varchar(3)');
    expect(sqlType({ name: 'a', type: 'timestamptz', nullable: true })).toBe('timestamp with time zone');
  });
  it('classifies changes: additive, widening, breaking', () => {
    const base: DatasetContract = {
      columns: [
        { name: 'id', type: 'integer', nullable: false, primaryKey: true },
        { name: 'n', type: 'text', nullable: false, maxLength: 5 },
      ],
    };
    const withCol = { columns: [...base.columns, { name: 'x', type: 'text', nullable: true }] };
    expect(classifyChange(undefined, base).kind).toBe('initial');
    expect(classifyChange(base, base).kind).toBe('none');
    expect(classifyChange(base, withCol)).toEqual({ kind: 'additive', details: ['added column x (text, nullable)'] });
    expect(
      classifyChange(base, {
        columns: [
          { ...base.columns[0], type: 'bigint' },
          { ...base.columns[1], maxLength: 10, nullable: true },
        ],
      }).kind,
    ).toBe('widening');
    expect(classifyChange(withCol, base)).toMatchObject({ kind: 'breaking', details: ['removed column x'] });
    expect(
      classifyChange(base, {
        columns: [
          { ...base.columns[0], type: 'bigint' },
          { ...base.columns[1], maxLength: 3 },
        ],
      }).kind,
    ).toBe('breaking');
    expect(
      classifyChange(base, { columns: [...base.columns, { name: 'r', type: 'text', nullable: false }] }).kind,
    ).toBe('breaking');
  });
});
