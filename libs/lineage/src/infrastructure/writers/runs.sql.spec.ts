import { upsertRunsSql } from './runs.sql';

const flat = (s: string) => s.replace(/\s+/g, ' ');

describe('upsertRunsSql', () => {
  const run = {
    id: 'r1',
    job: 'k',
    jobId: '4',
    state: 'COMPLETE',
    parent: null,
    nominalStart: '2026-01-01T00:00:00Z',
    nominalEnd: null,
    startedAt: null,
    endedAt: '2026-01-01T00:00:05Z',
    eventTime: '2026-01-01T00:00:05Z',
    facets: { a: 1 },
    declared: { i2: 1, o3: 1 },
  };

  it('upserts with a final end, merged facets and declared datasets, and reports a superseded run', () => {
    const { sql, params } = upsertRunsSql([run]);
    const s = flat(sql);
    expect(s).toContain('ON CONFLICT (id) DO UPDATE SET state = CASE');
    expect(s).toContain(
      "WHEN lineage.runs.state IN ('COMPLETE', 'FAIL', 'ABORT') AND EXCLUDED.state NOT IN ('COMPLETE', 'FAIL', 'ABORT') THEN lineage.runs.state",
    );
    expect(s).toContain('started_at = LEAST(lineage.runs.started_at, EXCLUDED.started_at)');
    expect(s).toContain('declared = lineage.runs.declared || EXCLUDED.declared');
    expect(s).toContain('RETURNING id::text, job_id::text, state, ended_at, declared,');
    expect(s).toContain('AS superseded');
    expect(params).toEqual([
      ['r1'],
      ['4'],
      ['COMPLETE'],
      [null],
      ['2026-01-01T00:00:00Z'],
      [null],
      [null],
      ['2026-01-01T00:00:05Z'],
      ['2026-01-01T00:00:05Z'],
      ['{"a":1}'],
      ['{"i2":1,"o3":1}'],
    ]);
  });
});
