import pino from 'pino';
import { Writable } from 'node:stream';
import { loggerParams, redactUrl, requestId } from './logging';

describe('logging', () => {
  it('redacts keys, passwords and authorization headers wherever pino sees them', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
    const opts = loggerParams('info').pinoHttp as { redact: pino.LoggerOptions['redact'] };
    const log = pino({ redact: opts.redact }, sink);
    log.info(
      {
        req: { headers: { authorization: 'Bearer weir_secret1', 'x-api-key': 'weir_secret2' } },
        created: { key: 'weir_secret3' },
        db: { password: 'hunter2' },
      },
      'hello',
    );
    const out = lines.join('');
    expect(out).not.toMatch(/weir_secret|hunter2/);
    expect(JSON.parse(out)).toMatchObject({
      req: { headers: { authorization: '[redacted]', 'x-api-key': '[redacted]' } },
      created: { key: '[redacted]' },
      db: { password: '[redacted]' },
    });
  });

  it('hides the password of a connection URL', () => {
    expect(redactUrl('postgres://weir:s3cret@127.0.0.1:5433/weir')).toBe('postgres://weir:***@127.0.0.1:5433/weir');
    expect(redactUrl('::')).toBe('<unparseable url>');
  });

  it('keeps a sane incoming request id and sets the response header', () => {
    const headers: Record<string, string> = {};
    const res = { setHeader: (n: string, v: string) => (headers[n] = v) } as never;
    expect(requestId({ headers: { 'x-request-id': 'abc-123' } } as never, res)).toBe('abc-123');
    expect(headers['X-Request-Id']).toBe('abc-123');
    expect(requestId({ headers: { 'x-request-id': 'x'.repeat(200) } } as never, res)).toMatch(/^[0-9a-f-]{36}$/);
  });
});
