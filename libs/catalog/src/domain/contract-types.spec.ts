import { compileContract } from './contract-compiler';
import { classifyChange, contractProblems, DatasetContract, sqlType, withDefaults } from './contract';
import { exportColumn, maskedExportColumn } from './lake-export';
import { exportExpression } from '../infrastructure/lake-export.sql';
import { isViolation } from './reason-codes';

const one = (type: string, extra: Record<string, unknown> = {}) =>
  compileContract({ columns: [{ name: 'v', type, nullable: true, ...extra }] });
const ok = (type: string, input: unknown, expected: string) => expect(one(type).encode([input])).toBe(expected);
const bad = (type: string, input: unknown, reason = 'TYPE_MISMATCH') => {
  const r = one(type).encode([input]);
  expect(isViolation(r) ? r.reason : r).toBe(reason);
};

describe('contract types data engineers use', () => {
  it('parses the new types and maps them to PostgreSQL', () => {
    const col = (type: string) => ({ name: 'v', type, nullable: true });
    expect(
      [
        'smallint',
        'real',
        'double precision',
        'DOUBLE  PRECISION',
        'varchar(20)',
        'varchar',
        'char(3)',
        'char',
        'time',
        'interval',
        'bytea',
        'json',
        'text[]',
        'bigint[]',
        'varchar(5)[]',
        'timestamptz[]',
      ].map((t) => sqlType(col(t))),
    ).toEqual([
      'smallint',
      'real',
      'double precision',
      'double precision',
      'varchar(20)',
      'varchar',
      'char(3)',
      'char(1)',
      'time',
      'interval',
      'bytea',
      'json',
      'text[]',
      'bigint[]',
      'varchar(5)[]',
      'timestamp with time zone[]',
    ]);
  });

  it('refuses bad types, listing the supported ones', () => {
    const problems = (type: string, extra = {}) =>
      contractProblems({ columns: [{ name: 'v', type, nullable: true, ...extra }] });
    expect(problems('string')[0]).toMatch(
      /unknown type "string" \(supported: text, varchar\(n\), char\(n\), smallint, integer, bigint, numeric, numeric\(p,s\), real, double precision, boolean, date, time, timestamp, timestamptz, interval, uuid, json, jsonb, bytea, and arrays/,
    );
    expect(problems('varchar(0)')[0]).toMatch(/varchar\(n\) length must be 1..10485760/);
    expect(problems('varchar(10485761)')[0]).toMatch(/length must be 1..10485760/);
    expect(problems('char(2,1)')[0]).toMatch(/takes one length/);
    expect(problems('smallint(3)')[0]).toMatch(/takes no/);
    expect(problems('jsonb[]')[0]).toMatch(/jsonb\[\] is not supported/);
    expect(problems('text[][]')[0]).toMatch(/unknown type/);
    expect(problems('varchar(3)', { maxLength: 3 })[0]).toMatch(/maxLength applies to text columns only/);
    expect(problems('varchar(10485760)')).toEqual([]);
  });

  it('nullable defaults to true (false for a primary key column)', () => {
    const input = {
      columns: [
        { name: 'id', type: 'bigint', primaryKey: true },
        { name: 'a', type: 'text' },
        { name: 'b', type: 'text', nullable: false },
      ],
    };
    expect(contractProblems(input)).toEqual([]);
    expect(withDefaults(input).columns.map((c) => c.nullable)).toEqual([false, true, false]);
    expect(contractProblems({ columns: [{ name: 'a', type: 'text', nullable: 'yes' as never }] })[0]).toMatch(
      /nullable must be true or false/,
    );
  });

  it('smallint, real, double precision', () => {
    ok('smallint', '-32768', '-32768');
    ok('smallint', ' 007 ', '7');
    bad('smallint', '32768');
    bad('smallint', '1.0');
    ok('real', '1.5e10', '1.5e10');
    ok('real', 'NaN', 'NaN');
    ok('double precision', '-Infinity', '-Infinity');
    ok('double precision', 0.1, '0.1');
    bad('real', '3.5e38');
    bad('real', '1e-46');
    bad('double precision', '1e-400');
    bad('double precision', '1,5');
  });

  it('varchar(n) and char(n): too long is dead-lettered, never truncated; whitespace kept', () => {
    ok('varchar(3)', ' ab', ' ab');
    ok('varchar(3)', 'ünï', 'ünï');
    bad('varchar(3)', 'abcd', 'TOO_LONG');
    ok('char(2)', 'ab', 'ab');
    bad('char(2)', 'abc', 'TOO_LONG');
    bad('varchar(3)', 'a\u0000', 'TYPE_MISMATCH');
  });

  it('time', () => {
    ok('time', '13:45', '13:45');
    ok('time', '13:45:06.123456', '13:45:06.123456');
    ok('time', '24:00:00', '24:00:00');
    bad('time', '24:00:01');
    bad('time', '12:60');
    bad('time', '1:45');
    bad('time', '13:45:06Z');
  });

  it('interval: PostgreSQL unit forms and ISO 8601, checked cheaply', () => {
    for (const v of [
      '1 day',
      '1 year 2 mons 3 days 04:05:06',
      '@ 1 hour ago',
      '-1 day +02:03',
      '3 mins 4 secs',
      '2 h 3 m 4 s',
      '10:00',
      '1.5 years',
      '1 week 2 days',
      '1 ms 2 us',
      'P1Y2M3DT4H5M6.5S',
      'PT-1.5H',
      'P2W',
    ])
      ok('interval', v, v);
    for (const v of [
      '1 day 2 days',
      '1 hour 02:00:00',
      '1 fortnight',
      '1e3 days',
      'P',
      'PT',
      'P1H',
      '178956971 years',
      '2147483648 days',
      'forever',
      '10:61',
    ])
      bad('interval', v);
  });

  it('bytea: \\x hex or base64, stored as \\x hex', () => {
    ok('bytea', '\\xDEADbeef', '\\\\xdeadbeef');
    ok('bytea', '3q2+7w==', '\\\\xdeadbeef');
    ok('bytea', 'AQID', '\\\\x010203');
    bad('bytea', '\\xabc');
    bad('bytea', 'not base64!');
    bad('bytea', 'AQI');
  });

  it('json: valid JSON kept as written', () => {
    ok('json', '{"b":1, "a":[1,2]}', '{"b":1, "a":[1,2]}');
    ok('json', { a: 'x\ty' }, '{"a":"x\\\\ty"}');
    ok('json', '"\\u0000"', '"\\\\u0000"');
    bad('json', '{a:1}');
  });

  it('arrays: JSON arrays and PostgreSQL literals, each element checked', () => {
    ok('text[]', ['a', 'b c', null, 'q"\\'], '{"a","b c",NULL,"q\\\\"\\\\\\\\"}');
    ok('text[]', '{a,"b,c",NULL," d "}', '{"a","b,c",NULL," d "}');
    ok('text[]', '["x","y"]', '{"x","y"}');
    ok('bigint[]', [1, 2, 3], '{"1","2","3"}');
    ok('bigint[]', '{1, 2 ,3}', '{"1","2","3"}');
    ok('bigint[]', '{}', '{}');
    ok('bigint[]', [], '{}');
    ok('date[]', '{2024-01-01}', '{"2024-01-01"}');
    ok('bytea[]', ['\\x00ff'], '{"\\\\\\\\x00ff"}');
    bad('bigint[]', '{1,x}');
    bad('bigint[]', [1, 'x']);
    bad('bigint[]', '{{1,2},{3,4}}');
    bad('bigint[]', [[1]]);
    bad('bigint[]', '1,2');
    bad('text[]', '{"a}');
    bad('varchar(2)[]', ['ab', 'abc'], 'TOO_LONG');
    const r = one('bigint[]').encode(['{1,2,x}']);
    expect(isViolation(r) && r.message).toMatch(/element 3: not an integer/);
  });

  it('classifies type changes', () => {
    const c = (type: string, extra = {}): DatasetContract => ({
      columns: [{ name: 'v', type, nullable: true, ...extra }],
    });
    const kind = (a: DatasetContract, b: DatasetContract) => classifyChange(a, b).kind;
    expect(kind(c('varchar(10)'), c('varchar(20)'))).toBe('widening');
    expect(kind(c('varchar(10)'), c('text'))).toBe('widening');
    expect(kind(c('text', { maxLength: 10 }), c('varchar(20)'))).toBe('widening');
    expect(kind(c('varchar(20)'), c('varchar(10)'))).toBe('breaking');
    expect(kind(c('text'), c('varchar(10)'))).toBe('breaking');
    expect(kind(c('smallint'), c('integer'))).toBe('widening');
    expect(kind(c('real'), c('double precision'))).toBe('widening');
    expect(kind(c('double precision'), c('real'))).toBe('breaking');
    expect(kind(c('integer[]'), c('bigint[]'))).toBe('widening');
    expect(kind(c('bigint'), c('bigint[]'))).toBe('breaking');
    expect(kind(c('char(3)'), c('char(4)'))).toBe('breaking');
    expect(kind(c('json'), c('text'))).toBe('widening');
    expect(kind(c('json'), c('jsonb'))).toBe('breaking');
  });

  it('exports to Parquet faithfully or as strings', () => {
    const k = (type: string) => exportColumn({ name: 'v', type, nullable: true }).kind;
    expect(
      ['smallint', 'real', 'double precision', 'bytea', 'json', 'time', 'interval', 'varchar(3)', 'text[]'].map(k),
    ).toEqual(['int32', 'float', 'double', 'binary', 'json', 'string', 'string', 'string', 'json']);
  });

  it('masks a PII column in an export: *** in text columns, NULL in others, the Parquet type kept', () => {
    const m = (type: string) => maskedExportColumn({ name: 'v', type, nullable: true, pii: true });
    const types = [
      'text',
      'varchar(3)',
      'char(2)',
      'text[]',
      'date',
      'integer',
      'uuid',
      'jsonb',
      'interval',
      'numeric',
    ];
    expect(types.map((t) => m(t).mask)).toEqual([
      'text',
      'text',
      'text',
      'null',
      'null',
      'null',
      'null',
      'null',
      'null',
      'null',
    ]);
    for (const t of types)
      expect([t, m(t).kind]).toEqual([t, exportColumn({ name: 'v', type: t, nullable: true }).kind]);
    expect(exportExpression(m('text'))).toBe(`CASE WHEN "v" IS NULL THEN NULL ELSE '***' END`);
    expect(exportExpression(m('date'))).toBe('NULL::text');
    expect(exportExpression(exportColumn({ name: 'v', type: 'text', nullable: true }))).toBe('"v"::text');
  });
});
