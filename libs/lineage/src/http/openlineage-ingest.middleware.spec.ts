import { EventEmitter } from 'node:events';
import type { ApiKeysService, Principal } from '@weir/platform';
import type { OpenLineageService } from '../application/openlineage.service';
import { AccessLog, openLineageIngestMiddleware } from './openlineage-ingest.middleware';

describe('openLineageIngestMiddleware', () => {
  const principal = (role: Principal['role']): Principal => ({ keyId: 'k', name: 'k', role });
  const keys = (p?: Principal) => ({ authenticate: jest.fn(async () => p) }) as unknown as ApiKeysService;
  const service = (fail?: Error) =>
    ({
      ingest: jest.fn(async () => (fail ? Promise.reject(fail) : { kind: 'RunEvent' })),
    }) as unknown as OpenLineageService;
  const call = async (mw: ReturnType<typeof openLineageIngestMiddleware>, over: Record<string, unknown> = {}) => {
    const headers: Record<string, string> = {};
    const ee = new EventEmitter();
    const res = Object.assign(ee, {
      locals: {} as Record<string, unknown>,
      status: 0,
      statusCode: 200,
      body: '',
      setHeader: (k: string, v: string) => void (headers[k.toLowerCase()] = v),
      writeHead(status: number, h: Record<string, string>) {
        this.status = this.statusCode = status;
        for (const [k, v] of Object.entries(h)) headers[k.toLowerCase()] = String(v);
      },
      end(b: string) {
        this.body = b;
        ee.emit('finish');
      },
    });
    const req = {
      method: 'POST',
      url: '/api/v1/lineage',
      originalUrl: '/api/v1/lineage',
      headers: { authorization: 'Bearer secret' },
      body: { a: 1 },
      rawBody: Buffer.from('{"a":1}'),
      ...over,
    };
    const next = jest.fn();
    mw(req as never, res as never, next);
    await new Promise((r) => setImmediate(r));
    return { res, headers, next, req };
  };

  it('answers 201 itself for an editor with a parsed JSON body, passing the raw text on', async () => {
    const s = service();
    const { res, headers, next } = await call(openLineageIngestMiddleware(s, keys(principal('editor'))));
    expect(next).not.toHaveBeenCalled();
    expect([res.status, JSON.parse(res.body)]).toEqual([201, { accepted: true, kind: 'RunEvent' }]);
    expect(headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.locals['route']).toBe('/api/v1/lineage');
    expect(s.ingest).toHaveBeenCalledWith({ a: 1 }, '{"a":1}');
  });

  it.each([
    ['no key', { headers: {} }, principal('admin')],
    ['an unknown key', {}, undefined],
    ['a viewer key', {}, principal('viewer')],
    ['a body the JSON parser did not take', { rawBody: undefined }, principal('admin')],
    ['another route', { url: '/api/v1/lineage/batch' }, principal('admin')],
    ['another method', { method: 'GET' }, principal('admin')],
  ])('passes %s on to the Nest route', async (_what, over, p) => {
    const s = service();
    const { next, res } = await call(openLineageIngestMiddleware(s, keys(p)), over);
    expect(next).toHaveBeenCalledWith();
    expect(res.status).toBe(0);
    expect(s.ingest).not.toHaveBeenCalled();
  });

  it("logs one summary line per request at pino-http's levels", async () => {
    const lines: [string, Record<string, unknown>, string][] = [];
    const log: AccessLog = { isLevelEnabled: () => true, write: (level, o, m) => void lines.push([level, o, m]) };
    await call(openLineageIngestMiddleware(service(), keys(principal('admin')), log));
    expect(lines).toEqual([
      [
        'info',
        expect.objectContaining({
          reqId: expect.any(String),
          req: expect.objectContaining({ method: 'POST' }),
          res: expect.objectContaining({ statusCode: 201 }),
          responseTime: expect.any(Number),
        }),
        'request completed',
      ],
    ]);
    const { res } = await call(openLineageIngestMiddleware(service(new Error('bad')), keys(principal('admin')), log));
    res.statusCode = 400; // as the problem filter answers
    res.emit('finish');
    expect(lines[1]).toEqual([
      'warn',
      expect.objectContaining({ res: expect.objectContaining({ statusCode: 400 }) }),
      'request completed',
    ]);
  });

  it('hands errors to next(err), for the problem+json filter', async () => {
    const err = new Error('invalid');
    const { next, res } = await call(openLineageIngestMiddleware(service(err), keys(principal('admin'))));
    expect(next).toHaveBeenCalledWith(err);
    expect(res.status).toBe(0);
  });
});
