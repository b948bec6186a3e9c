import { connectorProblems, readsAfresh, isContinuous, streamDurable, StreamConnector } from './connector';

describe('connectorProblems: singer', () => {
  it('accepts a tap with its stream, config, secrets and env as references', () => {
    expect(
      connectorProblems(
        {
          kind: 'singer',
          protocol: 'airbyte',
          command: 'source-github',
          args: ['--debug'],
          config: 'github.json',
          catalog: 'catalog.json',
          stream: 'issues',
          secrets: { access_token: { env: 'GITHUB_TOKEN' } },
          env: { HTTPS_PROXY: { env: 'PROXY_URL' } },
          batchRecords: 1000,
        },
        [],
      ),
    ).toEqual([]);
  });

  it('names every problem with its path; a literal secret is refused', () => {
    const p = connectorProblems(
      {
        kind: 'singer',
        protocol: 'meltano',
        command: '../tap',
        args: 'x',
        secrets: { password: 'hunter2' },
        env: { 'bad-name': { env: 'X' } },
        batchRecords: 0,
        extra: 1,
      },
      [],
    );
    for (const path of [
      'connector.protocol',
      'connector.command: may not contain ".."',
      'connector.config',
      'connector.args',
      'connector.stream',
      'connector.secrets.password',
      'connector.env.bad-name',
      'connector.batchRecords',
      'connector.extra: unknown',
    ])
      expect(p.some((x) => x.startsWith(path))).toBe(true);
    expect(p.join(' ')).not.toContain('hunter2');
  });
});

describe('connectorProblems: nats_jetstream', () => {
  it('accepts a stream with servers, a subject filter and batch limits', () => {
    expect(
      connectorProblems(
        {
          kind: 'nats_jetstream',
          servers: ['nats://127.0.0.1:4222'],
          stream: 'EVENTS',
          subject: 'events.*.>',
          durable: 'weir_events',
          deliver: 'new',
          batchMessages: 5000,
          batchMs: 1000,
          ackWaitMs: 60000,
          user: 'weir',
          password: { env: 'NATS_PASSWORD' },
        },
        [],
      ),
    ).toEqual([]);
  });

  it('names every problem with its path', () => {
    const p = connectorProblems(
      {
        kind: 'nats_jetstream',
        servers: ['http://x'],
        url: { env: 'NATS_URL' },
        token: 'secret',
        user: 'weir',
        stream: 'a.b',
        subject: 'a..b',
        deliver: 'last',
        batchMessages: 1e9,
      },
      [],
    );
    for (const path of [
      'connector: give servers or url',
      'connector.servers',
      'connector.token',
      'connector: user and password go together',
      'connector.stream',
      'connector.subject',
      'connector.deliver',
      'connector.batchMessages',
    ])
      expect(p.some((x) => x.startsWith(path))).toBe(true);
  });
});

describe('connector kinds', () => {
  it('taps and queries are read afresh by runs; streams and CDC are continuous', () => {
    expect(readsAfresh({ kind: 'singer', command: 't', config: 'c', stream: 's' })).toBe(true);
    expect(readsAfresh({ kind: 'nats_jetstream', stream: 'S' })).toBe(false);
    expect(isContinuous({ kind: 'nats_jetstream', stream: 'S' })).toBe(true);
    expect(isContinuous(null)).toBe(false);
  });

  it('a stream source durable defaults to weir_<source name>, made a valid NATS name', () => {
    const c: StreamConnector = { kind: 'nats_jetstream', stream: 'S' };
    expect(streamDurable('events.v1', c)).toBe('weir_events_v1');
    expect(streamDurable('x', { ...c, durable: 'mine' })).toBe('mine');
  });
});

describe('connectorProblems: http_json params and unnest', () => {
  const http = (extra: Record<string, unknown>) =>
    connectorProblems({ kind: 'http_json', url: 'https://api.example.com/v1/orders', ...extra }, []);

  it('accepts query parameters in clear or as env references, and an unnest', () => {
    expect(
      http({
        params: { api_key: { env: 'SRC_API_KEY' }, q: 'open', token: { env: 'SRC_TOKEN' } },
        unnest: { path: 'items.line_items', parent: 'order', index: 'position' },
      }),
    ).toEqual([]);
    expect(http({ unnest: { path: 'line_items' } })).toEqual([]);
  });

  it('refuses a secret query parameter in clear (in params or the URL) without showing it', () => {
    const p = [
      ...http({ params: { api_key: 'clear-key-1', page_size: 5, other: { env: 'lower' } } }),
      ...connectorProblems({ kind: 'http_json', url: 'https://x.example/v1?API_KEY=clear-key-2&q=1' }, []),
    ];
    expect(p).toEqual([
      'connector.params.api_key: a secret is given as {"env": "VARIABLE"}, never in clear',
      'connector.params.page_size: a string or {"env": "VARIABLE"}',
      'connector.params.other: expected {"env": "VARIABLE_NAME"} (upper case, digits, _)',
      'connector.url: the query parameter API_KEY is a secret: give it in params as {"env": "VARIABLE"}, never in the URL',
    ]);
    expect(JSON.stringify(p)).not.toContain('clear-key');
  });

  it('names every problem of an unnest', () => {
    expect(http({ unnest: 'line_items' })).toEqual([
      'connector.unnest: expected {"path": …} (the array of each record to read as rows)',
    ]);
    expect(http({ unnest: { path: 'a..b', parent: 'p.q', index: 3, as: 'x' } })).toEqual([
      'connector.unnest.as: unknown (one of path, parent, index)',
      'connector.unnest.path: a field path (line_items)',
      'connector.unnest.parent: a field name (no dots)',
      'connector.unnest.index: a field name (no dots)',
    ]);
    expect(http({ unnest: { path: 'x', parent: 'same', index: 'same' } })).toEqual([
      'connector.unnest: parent and index must differ',
    ]);
  });
});
