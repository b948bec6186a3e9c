import { deleteJobEdgesSql, insertJobEdgesSql, stampColumnLineageSql } from './job-datasets.sql';

const flat = (s: string) => s.replace(/\s+/g, ' ');

describe('job_datasets SQL', () => {
  const edges = [
    { job: '1', direction: 'input' as const, dataset: '5' },
    { job: '1', direction: 'output' as const, dataset: '6' },
  ];

  it('inserts edges and reads back column-lineage stamps and the edges of retargeted jobs', () => {
    const { sql, params } = insertJobEdgesSql(edges, ['1']);
    const s = flat(sql);
    expect(s).toContain('ON CONFLICT (job_id, direction, dataset_id) DO NOTHING');
    expect(s).toContain(
      "WHERE job_id = ANY($1::bigint[]) AND dataset_id = ANY($3::bigint[]) AND direction = 'output' AND column_lineage_hash IS NOT NULL",
    );
    expect(s).toContain('FROM lineage.job_datasets WHERE job_id = ANY($4::bigint[])');
    expect(params).toEqual([['1', '1'], ['input', 'output'], ['5', '6'], ['1']]);
  });

  it('deletes edges by (job, direction, dataset); stamps output edges', () => {
    const d = deleteJobEdgesSql(edges);
    expect(flat(d.sql)).toContain(
      'AND (jd.job_id, jd.direction, jd.dataset_id) IN (SELECT * FROM unnest($1::bigint[], $2::varchar[], $3::bigint[]))',
    );
    expect(d.params).toEqual([
      ['1', '1'],
      ['input', 'output'],
      ['5', '6'],
    ]);
    const s = stampColumnLineageSql([{ job: '1', dataset: '6', hash: 'h', at: '2026-01-01T00:00:00Z' }]);
    expect(flat(s.sql)).toContain('SET column_lineage_hash = x.h, column_lineage_at = x.at');
    expect(flat(s.sql)).toContain("AND jd.direction = 'output' AND jd.dataset_id = x.d");
    expect(s.params).toEqual([['1'], ['6'], ['h'], ['2026-01-01T00:00:00Z']]);
  });
});
