import {
  deleteFieldEdgesSql,
  deleteJobFieldEdgesSql,
  edgesIntoDatasetsSql,
  upsertFieldEdgesSql,
} from './field-edges.sql';

const flat = (s: string) => s.replace(/\s+/g, ' ');

describe('field_edges SQL', () => {
  it('reads the edges into the fields of some datasets', () => {
    const { sql, params } = edgesIntoDatasetsSql(['3']);
    expect(flat(sql)).toContain(
      'WHERE e.target_field_id = ANY (ARRAY(SELECT id FROM lineage.fields WHERE dataset_id = ANY($1::bigint[])))',
    );
    expect(params).toEqual([['3']]);
  });

  it('upserts on the (target, source, type, subtype, job) key, updating the description', () => {
    const { sql, params } = upsertFieldEdgesSql([
      { target: '1', source: '2', type: 'DIRECT', subtype: 'IDENTITY', job: null, description: 'd' },
    ]);
    expect(flat(sql)).toContain(
      'ON CONFLICT (target_field_id, source_field_id, type, subtype, (COALESCE(job_id, 0))) DO UPDATE SET description = EXCLUDED.description, updated_at = now()',
    );
    expect(params).toEqual([['1'], ['2'], ['DIRECT'], ['IDENTITY'], [null], ['d']]);
  });

  it('deletes by id, and the edges of jobs into outputs they no longer write', () => {
    expect(deleteFieldEdgesSql(['4'])).toEqual({
      sql: 'DELETE FROM lineage.field_edges WHERE id = ANY($1::bigint[])',
      params: [['4']],
    });
    const { sql, params } = deleteJobFieldEdgesSql([
      { job: '1', dataset: '6' },
      { job: '2', dataset: '6' },
    ]);
    expect(flat(sql)).toContain('AND f.id = fe.target_field_id AND f.dataset_id = x.d AND fe.job_id = x.j');
    expect(params).toEqual([['6'], ['1', '2'], ['6', '6']]);
  });
});
