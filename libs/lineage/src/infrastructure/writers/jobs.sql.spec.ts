import { insertOrFindJobsSql, lockJobsSql, updateJobsSql } from './jobs.sql';

const flat = (s: string) => s.replace(/\s+/g, ' ');

describe('jobs SQL', () => {
  it('insert-or-find: new jobs without deleted facets, existing ones read back by namespace and name', () => {
    const { sql, params } = insertOrFindJobsSql([
      { namespace: 'etl', name: 'a', facets: { sql: { query: 'x' }, gone: { _deleted: true } }, run: 'r1' },
      { namespace: 'etl', name: 'b', facets: {}, run: null },
    ]);
    expect(flat(sql)).toContain(
      'INSERT INTO lineage.jobs (namespace, name, facets, latest_run_id) SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::jsonb[], $4::uuid[]) ON CONFLICT (namespace, name) DO NOTHING',
    );
    expect(flat(sql)).toContain('SELECT *, true AS inserted FROM ins UNION ALL');
    expect(flat(sql)).toContain('FROM lineage.jobs WHERE namespace = ANY($5::varchar[]) AND name = ANY($2::varchar[])');
    expect(params).toEqual([['etl', 'etl'], ['a', 'b'], ['{"sql":{"query":"x"}}', '{}'], ['r1', null], ['etl']]);
  });

  it('update by primary key; lock in id order', () => {
    const u = updateJobsSql([{ id: '3', facets: { a: 1 }, run: 'r' }]);
    expect(flat(u.sql)).toBe(
      'UPDATE lineage.jobs t SET facets = x.f, latest_run_id = x.r, updated_at = now() FROM unnest($1::bigint[], $2::jsonb[], $3::uuid[]) AS x(id, f, r) WHERE t.id = ANY($1::bigint[]) AND t.id = x.id',
    );
    expect(u.params).toEqual([['3'], ['{"a":1}'], ['r']]);
    expect(lockJobsSql(['1', '2'])).toEqual({
      sql: 'SELECT id FROM lineage.jobs WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE',
      params: [['1', '2']],
    });
  });
});
