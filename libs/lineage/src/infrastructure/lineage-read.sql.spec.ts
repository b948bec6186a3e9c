import { eventsPageSql, namespacePageSql, RUN_COLUMNS, runByIdSql, runsOfJobSql, searchSql } from './lineage-read.sql';

describe('lineage read SQL', () => {
  it('pages events by time in the direction asked, open-ended by default, warnings only when asked', () => {
    const { page, count } = eventsPageSql({ sortDirection: 'asc', limit: 10, offset: 20 });
    expect(page.sql).toBe(
      'SELECT payload, warnings FROM lineage.events WHERE event_time < $1::timestamptz AND event_time >= $2::timestamptz ORDER BY event_time ASC, id ASC LIMIT $3 OFFSET $4',
    );
    expect(page.params).toEqual(['infinity', '-infinity', 10, 20]);
    expect(count).toEqual({
      sql: 'SELECT count(*)::int AS n FROM lineage.events WHERE event_time < $1::timestamptz AND event_time >= $2::timestamptz',
      params: ['infinity', '-infinity'],
    });
    const w = eventsPageSql({
      sortDirection: 'desc',
      limit: 1,
      offset: 0,
      withWarnings: true,
      before: 'b',
      after: 'a',
    });
    expect(w.page.sql).toContain('AND warnings IS NOT NULL ORDER BY event_time DESC, id DESC');
    expect(w.count.params).toEqual(['b', 'a']);
  });

  it('search escapes LIKE wildcards, ranks exact then prefix matches first, then orders by name or by update', () => {
    const byName = searchSql({ q: 'a_b%c\\', sort: 'NAME', limit: 5 });
    expect(byName.params).toEqual(['%a\\_b\\%c\\\\%', null, 5, null, 'a_b%c\\', 'a\\_b\\%c\\\\%']);
    expect(byName.sql).toContain(
      "ORDER BY CASE WHEN lower(name) = lower($5) OR lower(regexp_replace(name, '^.*[.]', '')) = lower($5) THEN 0 WHEN name ILIKE $6 OR regexp_replace(name, '^.*[.]', '') ILIKE $6 THEN 1 ELSE 2 END, name, namespace, type LIMIT $3",
    );
    const byUpdate = searchSql({ q: 'x', sort: 'UPDATE_AT', limit: 5, filter: 'JOB', namespace: 'etl' });
    expect(byUpdate.sql).toContain('ELSE 2 END, updated_at DESC, name, namespace, type LIMIT $3');
    expect(byUpdate.params).toEqual(['%x%', 'JOB', 5, 'etl', 'x', 'x%']);
  });

  it('runs: a page of a job, or one by id, in Marquez columns; a page of a namespace by name', () => {
    expect(runsOfJobSql('4', 10, 0).sql).toContain(`SELECT ${RUN_COLUMNS}, count(*) OVER () AS total`);
    expect(runsOfJobSql('4', 10, 0).sql).toContain('ORDER BY r.event_time DESC, r.id LIMIT $2 OFFSET $3');
    expect(runsOfJobSql('4', 10, 0).params).toEqual(['4', 10, 0]);
    expect(runByIdSql('u').sql).toContain('WHERE r.id = $1');
    expect(namespacePageSql('lineage.jobs', 'etl', 100, 0)).toEqual({
      sql: 'SELECT id, count(*) OVER () AS total FROM lineage.jobs WHERE namespace = $1 ORDER BY name LIMIT $2 OFFSET $3',
      params: ['etl', 100, 0],
    });
  });
});
