import { compileSuite, resolveParameter } from './suite-compiler';
import { compileRowCondition, RowConditionError } from './row-condition';

const cols = [
  { name: 'id', type: 'bigint' },
  { name: 'status', type: 'text' },
  { name: 'amount', type: 'numeric' },
  { name: 'Weird"Name', type: 'text' },
];
const table = { schema: 'raw', table: 'orders' };

describe('suite compiler', () => {
  it('puts every row-wise and aggregate check into ONE scan with FILTER clauses and bound values', () => {
    const c = compileSuite(table, cols, [
      { type: 'expect_column_values_to_be_in_set', kwargs: { column: 'status', value_set: ['new', "o'hara"] } },
      {
        type: 'expect_column_values_to_be_between',
        kwargs: { column: 'amount', min_value: 0, max_value: 10, strict_max: true },
      },
      { type: 'expect_column_mean_to_be_between', kwargs: { column: 'amount', min_value: 1 } },
      { type: 'expect_table_row_count_to_be_between', kwargs: { min_value: 1 } },
    ]);
    expect(c.scanSql.match(/FROM/g)).toHaveLength(1);
    expect(c.scanSql).toBe(
      [
        'SELECT count(*) AS c0_element,',
        '       count(*) FILTER (WHERE "status" IS NULL) AS c0_missing,',
        '       count(*) FILTER (WHERE "status" IS NOT NULL AND NOT ("status" IN ($1, $2))) AS c0_unexpected,',
        '       count(*) FILTER (WHERE "amount" IS NULL) AS c1_missing,',
        '       count(*) FILTER (WHERE "amount" IS NOT NULL AND NOT COALESCE("amount" >= $3 AND "amount" < $4, FALSE)) AS c1_unexpected,',
        '       avg("amount") AS c2_observed',
        '  FROM "raw"."orders"',
      ].join('\n'),
    );
    expect(c.params).toEqual(['new', "o'hara", 0, 10]);
    // the row count is computed once and shared by every check that needs it
    expect(c.plans[1].aliases['element']).toBe('c0_element');
    expect(c.plans[3].aliases['observed']).toBe('c0_element');
    expect(c.plans[1].unexpectedWhere).toBe(
      'TRUE AND "amount" IS NOT NULL AND NOT COALESCE("amount" >= $1 AND "amount" < $2, FALSE)',
    );
    expect(c.plans[1].params).toEqual([0, 10]);
  });

  it('gives uniqueness checks a grouped window query and distinct sets a GROUP BY', () => {
    const c = compileSuite(table, cols, [
      { type: 'expect_column_values_to_be_unique', kwargs: { column: 'id' } },
      { type: 'expect_column_distinct_values_to_be_in_set', kwargs: { column: 'status', value_set: ['a'] } },
    ]);
    expect(c.scanSql).toBe('');
    expect(c.plans[0].groupedSql).toContain('count(*) OVER (PARTITION BY "id")');
    expect(c.plans[1].distinctSql).toBe(
      'SELECT "status" AS value, count(*)::int AS count FROM "raw"."orders" WHERE TRUE AND "status" IS NOT NULL GROUP BY "status" ORDER BY "status"',
    );
  });

  it('quotes odd column names, refuses unknown columns and bad kwargs per expectation', () => {
    const c = compileSuite(table, cols, [
      { type: 'expect_column_values_to_not_be_null', kwargs: { column: 'Weird"Name' } },
      { type: 'expect_column_values_to_not_be_null', kwargs: { column: 'x"; drop table y; --' } },
      { type: 'expect_column_values_to_be_in_set', kwargs: { column: 'status' } },
      { type: 'expect_table_row_count_to_equal', kwargs: { value: 'hello' } },
      { type: 'expect_column_values_to_not_be_null', kwargs: { column: 'id', mostly: 1.5 } },
      { type: 'expect_nothing', kwargs: {} },
    ]);
    expect(c.scanSql).toContain('"Weird""Name" IS NULL');
    expect(c.plans.map((p) => p.error)).toEqual([
      undefined,
      'column "x\\"; drop table y; --" does not exist',
      'value_set must be a list',
      'value "hello" is not a valid integer',
      'mostly must be a number greater than or equal to 0 and less than or equal to 1',
      'unknown expectation type "expect_nothing"',
    ]);
  });

  it('compiles row_condition into a parsed, parameterised filter', () => {
    const params: unknown[] = [];
    const set = new Set(['x', 'w', 'name']);
    const q = (c: string) => `"${c}"`;
    expect(compileRowCondition('x!=1 & w!=6', set, params, q)).toBe('("x" <> $1::numeric AND "w" <> $2::numeric)');
    expect(compileRowCondition('col("name") == "o\'k" | not (x >= 2.5)', set, params, q)).toBe(
      '("name"::text = $3 OR NOT (("x" >= $4::numeric)))',
    );
    expect(params).toEqual(['1', '6', "o'k", '2.5']);
    expect(() => compileRowCondition('x == 1; drop table t', set, [], q)).toThrow(RowConditionError);
    expect(() => compileRowCondition('secret == 1', set, [], q)).toThrow(/unknown column/);
    expect(() => compileRowCondition('x == (select 1)', set, [], q)).toThrow(RowConditionError);
  });

  it('checks row_condition literals against the column types: a number beyond any type, or of the wrong kind, is refused when the suite is saved', () => {
    const types = new Map([
      ['id', 'bigint'],
      ['status', 'text'],
      ['ok', 'boolean'],
      ['amount', 'numeric(12,2)'],
    ]);
    const q = (c: string) => `"${c}"`;
    expect(() => compileRowCondition('id > 1e999999', types, [], q)).toThrow(
      /the literal 1e999999 is not a finite number/,
    );
    expect(() => compileRowCondition('status > 5', types, [], q)).toThrow(
      /the literal 5 is a number, but column "status" is text/,
    );
    expect(() => compileRowCondition('amount == true', types, [], q)).toThrow(
      /is a boolean, but column "amount" is numeric\(12,2\)/,
    );
    // a number past bigint compares as numeric: no overflow at run time
    const params: unknown[] = [];
    expect(compileRowCondition('id > 1e30 & status == "5" & ok == false', types, params, q)).toBe(
      '("id" > $1::numeric AND "status"::text = $2 AND "ok" = false)',
    );
    expect(params).toEqual(['1e30', '5']);
  });

  it('resolves GX evaluation parameters without evaluating code', () => {
    const now = new Date('2026-01-10T00:00:00Z');
    expect(resolveParameter({ $PARAMETER: 'now()' }, now)).toBe('2026-01-10T00:00:00.000');
    expect(resolveParameter({ $PARAMETER: 'now() - timedelta(days=2)' }, now)).toBe('2026-01-08T00:00:00.000');
    expect(resolveParameter({ $PARAMETER: 'datetime(1969, 1, 1)' }, now)).toBe('1969-01-01T00:00:00');
    expect(() => resolveParameter({ $PARAMETER: '__import__("os")' }, now)).toThrow(/unsupported/);
    expect(resolveParameter(5)).toBe(5);
  });
});
