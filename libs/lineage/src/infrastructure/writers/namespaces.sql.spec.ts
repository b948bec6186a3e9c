import { insertNamespacesSql } from './namespaces.sql';

describe('insertNamespacesSql', () => {
  it('inserts the names sorted, skipping those there', () => {
    const { sql, params } = insertNamespacesSql(new Set(['pg', 'etl', 'a']));
    expect(sql).toBe(
      'INSERT INTO lineage.namespaces (name) SELECT n FROM unnest($1::varchar[]) n ORDER BY 1 ON CONFLICT (name) DO NOTHING',
    );
    expect(params).toEqual([['a', 'etl', 'pg']]);
  });
});
