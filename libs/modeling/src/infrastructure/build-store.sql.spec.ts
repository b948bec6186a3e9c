import * as q from './build-store.sql';

describe('build store SQL', () => {
  it('records the build and its steps in DAG order in one statement', () => {
    const s = q.createBuildSql({
      id: 'b',
      projectId: 'p',
      selector: null,
      fullRefresh: true,
      takeOver: false,
      steps: [
        { nodeId: 'seed.x', materialized: 'seed' },
        { nodeId: 'model.y', materialized: null },
      ],
    });
    expect(s.ctes).toMatch(/WITH ORDINALITY x\(node, mat, ord\) ORDER BY x\.ord/);
    expect(s.params).toEqual(['b', 'p', null, true, ['seed.x', 'model.y'], ['seed', null], false, null, null, null]);
  });

  it('sets only the fields given, refs as JSON, and only while the build runs', () => {
    const s = q.updateStepSql('b', 'model.y', { status: 'succeeded', rowsAffected: '3', refs: { a: 1 }, error: null });
    expect(s.sql).toMatch(/SET status = \$3, rows_affected = \$4, refs = \$5, error = \$6/);
    expect(s.sql).toMatch(/b\.status = 'running' FOR SHARE/);
    expect(s.params).toEqual(['b', 'model.y', 'succeeded', '3', '{"a":1}', null]);
    expect(() => q.updateStepSql('b', 'n', { status: undefined })).toThrow(/empty patch/);
  });

  it('ends and fails builds only from running', () => {
    expect(q.endBuildSql('b', 'failed', new Date(0)).sql).toMatch(/WHERE id = \$1 AND status = 'running'/);
    const f = q.failStaleSql(90_000, 'gone');
    expect(f.sql).toMatch(/heartbeat_at < now\(\) - \$1::interval/);
    expect(f.sql).toMatch(/st\.status IN \('running', 'pending'\)/);
    expect(f.params).toEqual(['90 seconds', 'gone']);
  });
});
