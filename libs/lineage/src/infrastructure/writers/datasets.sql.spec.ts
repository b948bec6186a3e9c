import { insertOrFindDatasetsSql, updateDatasetsSql } from './datasets.sql';

const flat = (s: string) => s.replace(/\s+/g, ' ');

describe('datasets SQL', () => {
  it('insert-or-find reads existing datasets back with the fields of their current version', () => {
    const { sql, params } = insertOrFindDatasetsSql([
      { namespace: 'pg', name: 'raw.a', facets: { schema: { fields: [] }, x: { _deleted: true } } },
      { namespace: 'pg', name: 'raw.b', facets: {} },
    ]);
    expect(flat(sql)).toContain(
      'INSERT INTO lineage.datasets (namespace, name, facets) SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::jsonb[]) ON CONFLICT (namespace, name) DO NOTHING RETURNING id, namespace, name, facets, current_version',
    );
    expect(flat(sql)).toContain(
      'LEFT JOIN lineage.dataset_versions v ON v.dataset_id = d.id AND v.version = d.current_version WHERE d.namespace = ANY($4::varchar[]) AND d.name = ANY($2::varchar[])',
    );
    expect(params).toEqual([['pg', 'pg'], ['raw.a', 'raw.b'], ['{"schema":{"fields":[]}}', '{}'], ['pg']]);
  });

  it('update sets facets by primary key', () => {
    const { sql, params } = updateDatasetsSql([{ id: '7', facets: { a: 1 } }]);
    expect(sql).toContain('UPDATE lineage.datasets d SET facets = x.f, updated_at = now()');
    expect(sql).toContain('WHERE d.id = ANY($1::bigint[]) AND d.id = x.id');
    expect(params).toEqual([['7'], ['{"a":1}']]);
  });
});
