import { insertVersionsSql } from './dataset-versions.sql';

const flat = (s: string) => s.replace(/\s+/g, ' ');

describe('insertVersionsSql', () => {
  it('inserts versions stamped with the run and moves current_version up only', () => {
    const { sql, params } = insertVersionsSql(
      [
        { id: '1', version: 2, fields: [{ name: 'a' }] },
        { id: '1', version: 3, fields: [{ name: 'b' }] },
      ],
      'r1',
    );
    expect(flat(sql)).toContain(
      'INSERT INTO lineage.dataset_versions (dataset_id, version, fields, run_id) SELECT *, $4::uuid FROM unnest($1::bigint[], $2::int[], $3::jsonb[]) ON CONFLICT (dataset_id, version) DO NOTHING',
    );
    expect(flat(sql)).toContain('AND d.current_version < m.version');
    expect(params).toEqual([['1', '1'], [2, 3], ['[{"name":"a"}]', '[{"name":"b"}]'], 'r1']);
  });
});
