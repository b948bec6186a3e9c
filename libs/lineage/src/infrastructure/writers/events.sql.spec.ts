import { EVENT_IDS_PAYLOAD_SQL, loadEventsSql, oldEventsSql, SAVEPOINT_SQL, storeEventsSql } from './events.sql';

describe('lineage.events SQL', () => {
  const ev = { eventType: 'START', eventTime: '2026-01-01T00:00:00Z' };

  it('stores events as one JSON text, the raw text when given, warnings only when some event has them', () => {
    const plain = storeEventsSql([
      { kind: 'RunEvent', event: ev, raw: '{"raw":true}' },
      { kind: 'JobEvent', event: ev },
    ]);
    expect(plain.sql).toContain('INSERT INTO lineage.events (kind, event_type, event_time, run_id');
    expect(plain.sql).toContain('RETURNING id');
    expect(plain.params).toEqual([['RunEvent', 'JobEvent'], `[{"raw":true},${JSON.stringify(ev)}]`, '[]']);
    const warned = storeEventsSql([
      { kind: 'RunEvent', event: ev },
      { kind: 'RunEvent', event: ev, warnings: [{ kind: 'format:uri', path: '/producer', message: 'm' }] as never },
    ]);
    expect(JSON.parse(warned.params[2] as string)).toEqual([
      null,
      [{ kind: 'format:uri', path: '/producer', message: 'm' }],
    ]);
  });

  it('reads events back by id, publishes their ids in order, and names what retention deletes', () => {
    expect(loadEventsSql(['1'])).toEqual({
      sql: 'SELECT id::text AS id, kind, payload FROM lineage.events WHERE id = ANY($1::bigint[])',
      params: [['1']],
    });
    expect(EVENT_IDS_PAYLOAD_SQL).toBe(`SELECT jsonb_build_object('events', jsonb_agg(id::text ORDER BY id)) FROM src`);
    const before = new Date(0);
    expect(oldEventsSql(30, before)).toEqual({
      where: 'received_at < now() - make_interval(days => $2) AND ($3::timestamptz IS NULL OR received_at < $3)',
      orderBy: 'received_at',
      params: [30, before],
    });
    expect(Object.values(SAVEPOINT_SQL)).toEqual([
      'SAVEPOINT lineage_apply',
      'ROLLBACK TO SAVEPOINT lineage_apply',
      'RELEASE SAVEPOINT lineage_apply',
    ]);
  });
});
