import { foldEvents, graphKey, runState } from './graph-delta';

const ev = (eventType: string, eventTime: string, extra: Record<string, unknown> = {}) => ({
  kind: 'RunEvent' as const,
  event: {
    eventType,
    eventTime,
    run: { runId: 'r1', facets: {} },
    job: { namespace: 'ns', name: 'job', facets: {} },
    inputs: [{ namespace: 'pg', name: 'db.raw.orders', facets: { schema: { fields: [{ name: 'id', type: 'int' }] } } }],
    outputs: [],
    ...extra,
  },
});

describe('foldEvents: a batch of OpenLineage events as one graph delta', () => {
  it('keeps a run at its terminal state, whatever order its events come in', () => {
    const d = foldEvents([ev('COMPLETE', '2026-01-01T00:00:02Z'), ev('START', '2026-01-01T00:00:01Z')]);
    const run = d.runs.get('r1')!;
    expect([run.state, run.startedAt, run.endedAt]).toEqual([
      'COMPLETE',
      '2026-01-01T00:00:01Z',
      '2026-01-01T00:00:02Z',
    ]);
    expect(d.runIo.get('r1')).toEqual({
      job: graphKey('ns', 'job'),
      io: new Set([`input\u0001${graphKey('pg', 'db.raw.orders')}`]),
      completed: true,
    });
    expect([...d.namespaces].sort()).toEqual(['ns', 'pg']);
  });

  it('records each new field list of a dataset once, and the edges of its job', () => {
    const changed = ev('COMPLETE', '2026-01-01T00:00:03Z', {
      inputs: [
        {
          namespace: 'pg',
          name: 'db.raw.orders',
          facets: { schema: { fields: [{ name: 'id', type: 'int' }, { name: 'note' }] } },
        },
      ],
    });
    const d = foldEvents([ev('START', '2026-01-01T00:00:01Z'), ev('RUNNING', '2026-01-01T00:00:02Z'), changed]);
    expect(d.schemas.get(graphKey('pg', 'db.raw.orders'))).toEqual([
      [{ name: 'id', type: 'int' }],
      [{ name: 'id', type: 'int' }, { name: 'note' }],
    ]);
    expect([...d.io.values()]).toEqual([
      { job: graphKey('ns', 'job'), direction: 'input', dataset: graphKey('pg', 'db.raw.orders') },
    ]);
  });

  it("a job's latest column lineage for an output wins, and its input datasets are known", () => {
    const cl = (field: string) => ({
      columnLineage: { fields: { total: { inputFields: [{ namespace: 'pg', name: 'db.raw.items', field }] } } },
    });
    const out = (at: string, field: string) =>
      ev('COMPLETE', at, { outputs: [{ namespace: 'pg', name: 'db.marts.totals', facets: cl(field) }] });
    const d = foldEvents([out('2026-01-01T00:00:05Z', 'price'), out('2026-01-01T00:00:04Z', 'qty')]);
    const l = d.lineage.get(`${graphKey('ns', 'job')}\u0001${graphKey('pg', 'db.marts.totals')}`)!;
    expect(l.facet['fields']['total']['inputFields'][0]['field']).toBe('price');
    expect(d.datasets.has(graphKey('pg', 'db.raw.items'))).toBe(true);
    // column lineage is per run: not kept on the dataset node
    expect(d.datasets.get(graphKey('pg', 'db.marts.totals'))!.facets).toEqual({});
  });

  it('runState: an end beats a non-end; otherwise the later event wins', () => {
    expect(runState('COMPLETE', 'RUNNING', true)).toBe('COMPLETE');
    expect(runState('RUNNING', 'FAIL', false)).toBe('FAIL');
    expect(runState('START', 'RUNNING', false)).toBe('START');
    expect(runState('START', 'RUNNING', true)).toBe('RUNNING');
  });
});
