import { AUDIT_MAX_DIFF_CHARS, redactForAudit, storable } from './redact';

describe('redactForAudit', () => {
  it('masks secret-looking fields, keeps {"env": NAME} references and ordinary fields', () => {
    expect(
      redactForAudit({
        name: 'orders',
        password: 'p',
        Password: 'p',
        sslPassword: 'p',
        token: 't',
        accessToken: 't',
        apiKey: 'k',
        api_key: 'k',
        secretAccessKey: 's',
        clientSecret: 's',
        privateKey: 'k',
        credentials: { user: 'u', pass: 'x' },
        authorization: 'Bearer x',
        databaseUrl: 'postgres://h/db',
        connection: { host: 'h', user: 'u', password: { env: 'PG_PASSWORD' } },
        primaryKey: true,
        key: ['id'],
        owner: 'data-eng',
      }),
    ).toEqual({
      name: 'orders',
      password: '***',
      Password: '***',
      sslPassword: '***',
      token: '***',
      accessToken: '***',
      apiKey: '***',
      api_key: '***',
      secretAccessKey: '***',
      clientSecret: '***',
      privateKey: '***',
      credentials: '***',
      authorization: '***',
      databaseUrl: '***',
      connection: { host: 'h', user: 'u', password: { env: 'PG_PASSWORD' } },
      primaryKey: true,
      key: ['id'],
      owner: 'data-eng',
    });
  });

  it('masks credentials inside strings: URLs, libpq strings, query parameters, Weir keys', () => {
    expect(
      redactForAudit([
        'postgres://u:pw@h:5432/db',
        'host=h user=u password=pw dbname=d',
        "host=h password='p w' port=5",
        'https://x.io/a?access_token=abc&page=2&api_key=zz',
        `use weir_${'a'.repeat(43)} please`,
        'plain text',
      ]),
    ).toEqual([
      'postgres://***@h:5432/db',
      'host=h user=u password=*** dbname=d',
      'host=h password=*** port=5',
      'https://x.io/a?access_token=***&page=2&api_key=***',
      'use *** please',
      'plain text',
    ]);
  });

  it('caps long strings, long arrays, deep nesting and the whole size', () => {
    const r = redactForAudit({ s: 'x'.repeat(1000), a: Array.from({ length: 60 }, (_, i) => i) }) as {
      s: string;
      a: unknown[];
    };
    expect(r.s).toMatch(/^x{500}… \(1000 characters\)$/);
    expect(r.a).toHaveLength(51);
    let deep: unknown = 'bottom';
    for (let i = 0; i < 20; i++) deep = { d: deep };
    expect(JSON.stringify(redactForAudit(deep))).toContain('nested deeper');
    const huge = redactForAudit({ rows: Array.from({ length: 50 }, () => ({ t: 'y'.repeat(490) })) });
    expect(huge).toEqual({ truncated: true, chars: expect.any(Number), fields: ['rows'] });
    expect(JSON.stringify(huge).length).toBeLessThan(AUDIT_MAX_DIFF_CHARS);
    expect(redactForAudit(undefined)).toBeNull();
  });
});

describe('storable', () => {
  it('shows NUL as U+2400 and a lone surrogate half as U+FFFD; keeps pairs and ordinary text', () => {
    expect(storable('a\u0000b')).toBe('a\u2400b');
    expect(storable('x\ud800y')).toBe('x\ufffdy');
    expect(storable('x\udc00')).toBe('x\ufffd');
    expect(storable('😀 café')).toBe('😀 café');
    expect(redactForAudit({ 'k\u0000': ['\ud83d'] })).toEqual({ 'k\u2400': ['\ufffd'] });
  });
});
