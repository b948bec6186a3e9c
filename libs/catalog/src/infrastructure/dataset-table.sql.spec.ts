import type { DatasetContract } from '../domain/contract';
import {
  columnTypesQuery,
  contractChangeSql,
  countSql,
  dropRelationSql,
  estimatedCountQuery,
  previewSql,
  relationKindQuery,
  tableExistsQuery,
} from './dataset-table.sql';
import { claimLockQuery } from './dataset.sql';

const before: DatasetContract = {
  columns: [
    { name: 'id', type: 'integer', nullable: false, primaryKey: true },
    { name: 'amount', type: 'numeric(10,2)', nullable: false },
    { name: 'note', type: 'text', nullable: true },
  ],
};

describe('dataset table SQL: what each builder emits', () => {
  it('looks relations up by their quoted name, bound as a parameter', () => {
    expect(tableExistsQuery('raw', 'orders')).toEqual({
      text: 'SELECT to_regclass($1) IS NOT NULL AS ok',
      values: ['"raw"."orders"'],
    });
    expect(relationKindQuery('raw', 'orders_v1')).toEqual({
      text: 'SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass($1)',
      values: ['"raw"."orders_v1"'],
    });
    expect(estimatedCountQuery('raw', 'orders')).toEqual({
      text: 'SELECT reltuples::bigint AS n FROM pg_class WHERE oid = $1::regclass',
      values: ['"raw"."orders"'],
    });
  });

  it('drops a view as a view and anything else as a table', () => {
    expect(dropRelationSql('analytics', 'orders_v1', 'v')).toBe('DROP VIEW "analytics"."orders_v1"');
    expect(dropRelationSql('analytics', 'orders_v1', 'r')).toBe('DROP TABLE "analytics"."orders_v1"');
  });

  it('refuses a name that is not a valid identifier rather than quoting it into the SQL', () => {
    expect(() => dropRelationSql('raw', 'x"; DROP TABLE y; --', 'r')).toThrow();
    expect(() => countSql('raw', 'a b')).toThrow();
  });

  it('an additive or widening change: new columns nullable, wider types, NOT NULL dropped; nothing else', () => {
    const next: DatasetContract = {
      columns: [
        { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
        { name: 'amount', type: 'numeric(10,2)', nullable: true },
        { name: 'note', type: 'text', nullable: true },
        { name: 'email', type: 'text', nullable: false },
      ],
    };
    expect(contractChangeSql('raw', 'orders', before, next)).toEqual([
      'ALTER TABLE "raw"."orders" ALTER COLUMN "id" TYPE bigint',
      'ALTER TABLE "raw"."orders" ALTER COLUMN "amount" DROP NOT NULL',
      'ALTER TABLE "raw"."orders" ADD COLUMN "email" text',
    ]);
    expect(contractChangeSql('raw', 'orders', before, before)).toEqual([]);
  });

  it('previews named columns with bigint and numeric as text, the limit bound as $1; * without columns', () => {
    expect(
      previewSql('raw', 'orders', [
        { c: 'id', t: 'bigint' },
        { c: 'amount', t: 'numeric' },
        { c: 'note', t: 'text' },
      ]),
    ).toBe('SELECT "id"::text AS "id", "amount"::text AS "amount", "note" FROM "raw"."orders" LIMIT $1');
    expect(previewSql('raw', 'orders', [])).toBe('SELECT * FROM "raw"."orders" LIMIT $1');
    expect(columnTypesQuery('raw', 'orders')).toEqual({
      text: 'SELECT column_name AS c, data_type AS t FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
      values: ['raw', 'orders'],
    });
  });

  it('counts exactly', () => {
    expect(countSql('raw', 'orders')).toBe('SELECT count(*) AS n FROM "raw"."orders"');
  });

  it('claims lock the relation and the name, both bound as parameters', () => {
    expect(claimLockQuery('raw.orders', 'orders')).toEqual({
      text: 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0)), pg_advisory_xact_lock(hashtextextended($2, 0))',
      values: ['weir.claim:raw.orders', 'weir.claim.name:orders'],
    });
  });
});
