import { InvalidIdentifierError } from '../errors/platform.errors';
import { columnList, parseQualifiedName, qualifiedTable, quoteIdent, validateIdentifier } from './identifiers';

describe('SQL identifiers', () => {
  it('quotes valid names and keeps their case', () => {
    expect(quoteIdent('orders')).toBe('"orders"');
    expect(quoteIdent('Order_Items_2')).toBe('"Order_Items_2"');
    expect(qualifiedTable('raw', 'orders')).toBe('"raw"."orders"');
    expect(columnList(['id', 'customer_id'])).toBe('"id", "customer_id"');
  });

  it.each([
    'x"; drop table y; --',
    'x" OR "1"="1',
    'orders; DELETE FROM platform.api_keys',
    'a b',
    '1abc',
    '',
    'naïve',
    'tab\tname',
    'new\nline',
    'x'.repeat(64),
    'semi;colon',
    'dot.ted',
    "quote'd",
    'back\\slash',
    'null\u0000byte',
  ])('rejects hostile or invalid name %j', (name) => {
    expect(() => validateIdentifier(name, 'table')).toThrow(InvalidIdentifierError);
    expect(() => quoteIdent(name)).toThrow(/Invalid identifier name/);
  });

  it('names the kind and the code in the error', () => {
    try {
      quoteIdent('x"; drop table y; --', 'column');
      fail('should throw');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidIdentifierError);
      expect((e as InvalidIdentifierError).code).toBe('PLATFORM.INVALID_IDENTIFIER');
      expect((e as Error).message).toContain('Invalid column name "x\\"; drop table y; --"');
    }
  });

  it('accepts 63-byte names and rejects reserved schema prefixes', () => {
    expect(validateIdentifier('a'.repeat(63))).toBe('a'.repeat(63));
    expect(() => validateIdentifier('pg_temp', 'schema')).toThrow(/reserved/);
    expect(validateIdentifier('pg_like_table', 'table')).toBe('pg_like_table');
  });

  it('rejects non-strings and duplicate columns', () => {
    expect(() => validateIdentifier(42 as unknown as string)).toThrow(/must be a string/);
    expect(() => columnList(['id', 'id'])).toThrow(/listed twice/);
    expect(() => columnList([])).toThrow(/at least one column/);
  });

  it('parses qualified names with a default schema', () => {
    expect(parseQualifiedName('orders', 'raw')).toEqual({ schema: 'raw', table: 'orders' });
    expect(parseQualifiedName('marts.orders', 'raw')).toEqual({ schema: 'marts', table: 'orders' });
    expect(() => parseQualifiedName('a.b.c', 'raw')).toThrow(/"table" or "schema.table"/);
    expect(() => parseQualifiedName('raw.x"; drop table y; --', 'raw')).toThrow(InvalidIdentifierError);
  });
});
