import * as q from './run-ledger.sql';

const live = { instanceId: 'me', previousInstances: ['old'], graceMs: 30_000 };

describe('run ledger SQL', () => {
  it('claims with SKIP LOCKED, oldest first, uploads only where their file is', () => {
    const s = q.claimNextSql('me');
    expect(s.sql).toMatch(/FOR UPDATE SKIP LOCKED LIMIT 1/);
    expect(s.sql).toMatch(/ORDER BY created_at/);
    expect(s.sql).toMatch(/input->>'heldBy' IS NULL OR input->>'heldBy' = \$1/);
    expect(s.params).toEqual(['me']);
  });

  it('lists with only the filters given, limit last', () => {
    expect(q.listRunsSql({ limit: 5 })).toMatchObject({ params: [5] });
    expect(q.listRunsSql({ limit: 5 }).sql).not.toMatch(/WHERE/);
    const s = q.listRunsSql({ sourceId: 'x', status: 'failed', limit: 5 });
    expect(s.sql).toMatch(/WHERE source_id = \$1 AND status = \$2/);
    expect(s.sql).toMatch(/ORDER BY created_at DESC LIMIT \$3/);
    expect(s.params).toEqual(['x', 'failed', 5]);
  });

  it('changes state only from running, and returns what it changed', () => {
    const ok = q.succeedSql('r', {
      bytesRead: 1,
      rowsRead: 3,
      rowsLoaded: 1,
      rowsRejected: 1,
      rowsDeduplicated: 1,
      columnsDiscarded: {},
      watermarkBefore: null,
      watermarkAfter: 'w',
      quality: null,
      advanceSourceWatermark: true,
    });
    expect(ok.sql).toMatch(/WHERE id = \$1 AND status = 'running' RETURNING source_id/);
    // an empty map of discarded columns is stored as NULL
    expect(ok.params[6]).toBeNull();
    const f = q.failSql('r', {
      code: 'C',
      message: 'm'.repeat(5000),
      bytesRead: 0,
      rowsRead: null,
      rowsRejected: 2,
      rowsDeduplicated: null,
      quality: null,
    });
    expect(f.sql).toMatch(/rows_read = COALESCE\(\$5, rows_read\)/);
    expect(f.sql).toMatch(/status = 'running' RETURNING id/);
    expect((f.params[2] as string).length).toBe(4000);
    expect(f.params.slice(4)).toEqual([null, 2, null, null]);
  });

  it('takes as dead a previous id of this instance, or a gone instance past the grace, never this one', () => {
    const s = q.failIfDeadSql('r', live);
    expect(s.sql).toMatch(/claimed_by <> \$4/);
    expect(s.sql).toMatch(/claimed_by = ANY\(\$2::text\[\]\)/);
    expect(s.sql).toMatch(/heartbeat_at < now\(\) - \$3::interval AND NOT EXISTS \(SELECT 1 FROM pg_stat_activity/);
    expect(s.params).toEqual(['r', ['old'], '30 seconds', 'me']);
    const i = q.failInterruptedSql(90_000, live, 'why');
    expect(i.params).toEqual(['90 seconds', 'why', ['old'], 'me', '30 seconds']);
    expect(q.failLostUploadsSql(live).params).toEqual([['old'], 'me', '10 seconds']);
  });
});
