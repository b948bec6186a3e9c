import {
  Alert,
  ALERT_EVENTS,
  AlertDestinationSpecError,
  alertPayload,
  deliveryBackoffMs,
  maskUrl,
  parseAlertDestination,
  routesTo,
  withoutUrlSecrets,
} from './alert';

const failed: Alert = {
  type: 'run_failed',
  title: 'Pipeline nightly run failed: step(s) failed: load',
  pipeline: 'nightly',
  runId: '6b1c0f6e-0000-4000-8000-000000000001',
  partition: '2026-12-01',
  step: 'load',
  error: { code: 'INGESTION.FILE_NOT_FOUND', message: 'No file <inbox>/a.csv & more' },
  details: {},
  at: '2026-12-02T02:00:00.000Z',
  links: { run: '/api/orchestration/runs/6b1c0f6e-0000-4000-8000-000000000001' },
};

describe('alertPayload', () => {
  it('json: the alert as it is, with a version', () => {
    expect(alertPayload(failed, 'json')).toEqual({ version: 1, ...failed });
  });

  it('slack: text for the notification, a mrkdwn section with the escaped error, a context line', () => {
    const p = alertPayload(failed, 'slack') as { text: string; blocks: Record<string, unknown>[] };
    expect(p.text).toBe(':red_circle: Pipeline nightly run failed: step(s) failed: load');
    expect(p.blocks).toEqual([
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: ':red_circle: *Pipeline nightly run failed: step(s) failed: load*\n```No file &lt;inbox&gt;/a.csv &amp; more```',
        },
      },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text:
              '*run_failed* · pipeline `nightly` · run `6b1c0f6e-0000-4000-8000-000000000001` · partition `2026-12-01`' +
              ' · step `load` · run: /api/orchestration/runs/6b1c0f6e-0000-4000-8000-000000000001 · 2026-12-02T02:00:00.000Z',
          },
        ],
      },
    ]);
  });

  it('slack: lists quality failures (at most 5) and keeps a section under 3000 characters', () => {
    const q: Alert = {
      ...failed,
      type: 'quality_failed',
      title: 'Quality suite orders_checks failed on orders',
      error: { code: null, message: 'x'.repeat(5000) },
      details: { failures: Array.from({ length: 7 }, (_, i) => ({ message: `failure ${i}` })) },
    };
    const p = alertPayload(q, 'slack') as { blocks: { text: { text: string } }[] };
    const text = p.blocks[0]!.text.text;
    expect(text.length).toBeLessThanOrEqual(3000);
    expect(text).toMatch(/^:x: \*Quality suite orders_checks failed on orders\*/);
    expect(text.match(/• failure \d/g)).toEqual([
      '• failure 0',
      '• failure 1',
      '• failure 2',
      '• failure 3',
      '• failure 4',
    ]);
  });
});

describe('deliveryBackoffMs', () => {
  it('doubles from the base up to the ceiling, with half of it random', () => {
    expect([1, 2, 3, 4].map((a) => deliveryBackoffMs(a, 1000, 60_000, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((a) => deliveryBackoffMs(a, 1000, 60_000, () => 1))).toEqual([1000, 2000, 4000, 8000]);
    expect(deliveryBackoffMs(10, 1000, 60_000, () => 1)).toBe(60_000);
    expect(deliveryBackoffMs(10, 1000, 60_000, () => 0)).toBe(30_000);
    // a huge attempt number gives the ceiling, not Infinity
    expect(deliveryBackoffMs(5000, 1000, 60_000, () => 0.5)).toBe(45_000);
  });

  it('refuses an attempt that is not a whole number >= 1', () => {
    expect(() => deliveryBackoffMs(0, 1000, 60_000)).toThrow(RangeError);
    expect(() => deliveryBackoffMs(1.5, 1000, 60_000)).toThrow(RangeError);
  });
});

describe('parseAlertDestination', () => {
  it('defaults to json and every event, any pipeline', () => {
    expect(parseAlertDestination({ name: 'ops', url: 'https://example.com/hook' })).toEqual({
      name: 'ops',
      url: 'https://example.com/hook',
      format: 'json',
      events: [...ALERT_EVENTS],
      pipelines: null,
    });
  });

  it('names every problem at once', () => {
    let problems: string[] = [];
    try {
      parseAlertDestination({ name: 'Ops', url: 'ftp://x', format: 'teams', events: ['run_failed', 'boom'], extra: 1 });
    } catch (e) {
      problems = (e as AlertDestinationSpecError).problems;
    }
    expect(problems).toEqual([
      'unknown key "extra"',
      'name: "Ops" must match ^[a-z][a-z0-9_-]{0,62}$',
      'url: required, an http(s) URL',
      'format: "teams" must be one of json, slack',
      'events[1]: "boom" must be one of run_failed, retries_exhausted, sla_missed, quality_failed, quality_warned',
    ]);
  });

  it('keeps the name of the path on PUT', () => {
    expect(parseAlertDestination({ url: 'http://h/x' }, 'ops').name).toBe('ops');
    expect(() => parseAlertDestination({ name: 'other', url: 'http://h/x' }, 'ops')).toThrow(/keeps its name/);
  });
});

describe('routesTo', () => {
  const d = (name: string, pipelines: string[] | null = null, events = [...ALERT_EVENTS]) => ({
    name,
    pipelines,
    events,
  });
  const alert = { type: 'run_failed' as const, pipeline: 'nightly' };

  it('a pipeline naming no destination: the ones without a filter and the ones whose filter names it', () => {
    expect(routesTo(d('all'), alert, [])).toBe(true);
    expect(routesTo(d('mine', ['nightly']), alert, [])).toBe(true);
    expect(routesTo(d('other', ['hourly']), alert, [])).toBe(false);
  });

  it('a pipeline naming destinations: those, and the ones whose filter names it; not the catch-all ones', () => {
    expect(routesTo(d('pager'), alert, ['pager'])).toBe(true);
    expect(routesTo(d('all'), alert, ['pager'])).toBe(false);
    expect(routesTo(d('mine', ['nightly']), alert, ['pager'])).toBe(true);
  });

  it('only the events a destination subscribes to; an alert without pipeline only to unfiltered ones', () => {
    expect(routesTo(d('all', null, ['sla_missed']), alert, [])).toBe(false);
    const q = { type: 'quality_failed' as const, pipeline: null };
    expect(routesTo(d('all'), q, [])).toBe(true);
    expect(routesTo(d('mine', ['nightly']), q, [])).toBe(false);
    expect(routesTo(d('all'), { type: 'test', pipeline: null }, [])).toBe(false);
  });
});

describe('maskUrl', () => {
  it('shows the scheme and host only', () => {
    expect(maskUrl('https://hooks.slack.com/services/T000/B000/XXXX')).toBe('https://hooks.slack.com/…');
    expect(maskUrl('http://user:pw@127.0.0.1:8080/hook?token=1')).toBe('http://127.0.0.1:8080/…');
    expect(maskUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080/');
    expect(maskUrl('nope')).toBe('<unparseable url>');
  });
});

describe('withoutUrlSecrets', () => {
  it("takes the URL's path, segments and query values out of a receiver's answer, as written, decoded or encoded", () => {
    const url = 'https://hooks.example.com/services/T0123456/B0123456/s3cr3t%2Ftoken+xyz?sig=abc%20def12&x=1';
    const answer = [
      'no such hook: /services/T0123456/B0123456/s3cr3t%2Ftoken+xyz?sig=abc%20def12&x=1',
      'token s3cr3t/token+xyz',
      'sig abc def12',
      'team T0123456',
      'x=1 stays, so does webhook',
    ].join('\n');
    const out = withoutUrlSecrets(answer, url);
    for (const s of ['T0123456', 'B0123456', 's3cr3t', 'abc def12', 'abc%20def12']) expect(out).not.toContain(s);
    expect(out).toContain('x=1 stays, so does webhook');
    expect(out).toContain('no such hook: …');
    expect(withoutUrlSecrets('anything', 'not a url')).toBe('anything');
  });
});
