import { inlineParameters } from './restricted-sql';

describe('inlineParameters', () => {
  it('replaces $n by quoted literals, NULL for null, and escapes quotes', () => {
    expect(
      inlineParameters(`SELECT * FROM t WHERE a = $1 AND b IN ($2, $3) LIMIT $10`, [
        5,
        "o'brien",
        null,
        4,
        5,
        6,
        7,
        8,
        9,
        20,
      ]),
    ).toBe(`SELECT * FROM t WHERE a = '5' AND b IN ('o''brien', NULL) LIMIT '20'`);
  });

  it('leaves $n alone inside strings, quoted names, dollar quotes and comments', () => {
    const sql = `SELECT '$1', E'\\'$1', "$1", $q$ $1 $q$, $$ $1 $$ -- $1\n, /* $1 /* $1 */ */ $1`;
    expect(inlineParameters(sql, ['x'])).toBe(
      `SELECT '$1', E'\\'$1', "$1", $q$ $1 $q$, $$ $1 $$ -- $1\n, /* $1 /* $1 */ */ 'x'`,
    );
  });

  it('converts arrays, dates and buffers as node-pg sends them', () => {
    expect(inlineParameters(`SELECT $1::int[], $2::bytea`, [[1, 2], Buffer.from([1, 255])])).toBe(
      `SELECT '{"1","2"}'::int[], '\\x01ff'::bytea`,
    );
    expect(inlineParameters(`SELECT $1`, [{ a: "it's" }])).toBe(`SELECT '{"a":"it''s"}'`);
  });

  it('refuses a placeholder without a value', () => {
    expect(() => inlineParameters(`SELECT $2`, [1])).toThrow(/\$2 has no value/);
    expect(inlineParameters(`SELECT $1`, [])).toBe(`SELECT $1`);
  });
});
