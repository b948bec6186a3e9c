import { insertOrFindFieldsSql, updateFieldsSql } from './fields.sql';

const flat = (s: string) => s.replace(/\s+/g, ' ');

describe('fields SQL', () => {
  it('insert-or-find reads existing fields back by dataset and name (each listed once)', () => {
    const { sql, params } = insertOrFindFieldsSql([
      { datasetId: '1', name: 'id', type: 'int', description: null },
      { datasetId: '2', name: 'id', type: null, description: 'key' },
    ]);
    expect(flat(sql)).toContain(
      'ON CONFLICT (dataset_id, name) DO NOTHING RETURNING id, dataset_id, name, type, description',
    );
    expect(flat(sql)).toContain('WHERE dataset_id = ANY($5::bigint[]) AND name = ANY($6::varchar[])');
    expect(params).toEqual([['1', '2'], ['id', 'id'], ['int', null], [null, 'key'], ['1', '2'], ['id']]);
  });

  it('update sets type and description by primary key', () => {
    const { sql, params } = updateFieldsSql([{ id: '9', type: 't', description: null }]);
    expect(sql).toContain('UPDATE lineage.fields f SET type = x.t, description = x.d');
    expect(params).toEqual([['9'], ['t'], [null]]);
  });
});
