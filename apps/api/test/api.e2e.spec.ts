import request from 'supertest';
import { Controller, Get, INestApplication, Module, Post } from '@nestjs/common';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';
import { loadConfig, PROBLEM_CONTENT_TYPE } from '@weir/platform';
import { DataSource } from 'typeorm';
import { createApp } from '../src/app.factory';

const ADMIN = 'e2e-admin-key-0123456789abcdef';

/** Test-only routes: a slow one (graceful shutdown) and one that fails unexpectedly (500 body). */
@Controller('__e2e')
class E2eController {
  @Get('slow')
  async slow(): Promise<{ done: boolean }> {
    await new Promise((r) => setTimeout(r, 700));
    return { done: true };
  }
  @Get('boom')
  boom(): never {
    throw new Error('relation "secret_table" does not exist at /srv/weir/src/x.ts:12');
  }
  @Post('write')
  write(): { ok: boolean } {
    return { ok: true };
  }
}
@Module({ controllers: [E2eController] })
class E2eModule {}

describe('API e2e (real app, real PostgreSQL)', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    db = await createTestDatabase();
    const config = loadConfig({ DATABASE_URL: db.url, WEIR_ADMIN_API_KEY: ADMIN, WEIR_LOG_LEVEL: 'silent' });
    app = await createApp({ config, databaseUrl: db.url, warehouseUrl: db.url }, [E2eModule]);
    await app.init();
    http = request(app.getHttpServer());
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const admin = { Authorization: `Bearer ${ADMIN}` };
  const expectProblem = (res: request.Response, status: number, code: string) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(PROBLEM_CONTENT_TYPE);
    const body = JSON.parse(res.text);
    expect(body).toMatchObject({ type: `urn:weir:problem:${code}`, status, code });
    expect(typeof body.title).toBe('string');
    expect(typeof body.detail).toBe('string');
    return body;
  };

  it('GET /health is public and pings the database', async () => {
    const res = await http.get('/health').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', details: { database: { status: 'up' } } });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('GET /health answers while every connection of the request pool is held (its own connection)', async () => {
    const ds = app.get(DataSource);
    const held = [];
    for (let i = 0; i < 10; i++) {
      const qr = ds.createQueryRunner();
      await qr.connect();
      held.push(qr);
    }
    try {
      // the pool is exhausted: a query through it waits for a connection
      const waiting = ds.query('SELECT 1').then(() => 'answered');
      const first = await Promise.race([waiting, new Promise((r) => setTimeout(() => r('waits'), 300))]);
      expect(first).toBe('waits');
      const res = await http.get('/health').timeout(1500);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'ok', details: { database: { status: 'up' } } });
    } finally {
      for (const qr of held) await qr.release();
    }
  });

  it('echoes a sane X-Request-Id and replaces an unsafe one', async () => {
    expect((await http.get('/health').set('X-Request-Id', 'job-42.retry:1')).headers['x-request-id']).toBe(
      'job-42.retry:1',
    );
    // replaced by a fresh UUID (a check for "bad" in it failed once: b, a and d are hex digits)
    expect((await http.get('/health').set('X-Request-Id', 'bad id with spaces')).headers['x-request-id']).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
  });

  it('401 problem+json without a key, or with an unknown key', async () => {
    const none = expectProblem(await http.get('/api/platform/api-keys'), 401, 'PLATFORM.UNAUTHENTICATED');
    expect(none.instance).toBe('/api/platform/api-keys');
    expectProblem(
      await http.get('/api/platform/api-keys').set('Authorization', 'Bearer weir_nope'),
      401,
      'PLATFORM.INVALID_API_KEY',
    );
    expectProblem(await http.get('/metrics'), 401, 'PLATFORM.UNAUTHENTICATED');
  });

  it('creates a key once, lists without secrets, revokes it', async () => {
    const created = await http
      .post('/api/platform/api-keys')
      .set(admin)
      .send({ name: 'loader', role: 'editor' })
      .expect(201);
    expect(created.body).toMatchObject({
      name: 'loader',
      role: 'editor',
      createdBy: 'WEIR_ADMIN_API_KEY',
      revokedAt: null,
    });
    expect(created.body.key).toMatch(/^weir_/);
    const list = await http.get('/api/platform/api-keys').set(admin).expect(200);
    expect(list.body.items.map((k: { id: string }) => k.id)).toContain(created.body.id);
    expect(list.text).not.toContain(created.body.key);
    expect(list.body.items[0]).not.toHaveProperty('key');
    expect(list.body.items[0]).not.toHaveProperty('keyHash');
    // the new key works through X-API-Key too
    await http.post('/__e2e/write').set('X-API-Key', created.body.key).expect(201);
    const revoked = await http.delete(`/api/platform/api-keys/${created.body.id}`).set(admin).expect(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    expectProblem(await http.post('/__e2e/write').set('X-API-Key', created.body.key), 401, 'PLATFORM.INVALID_API_KEY');
    expectProblem(
      await http.delete('/api/platform/api-keys/00000000-0000-0000-0000-000000000000').set(admin),
      404,
      'PLATFORM.API_KEY_NOT_FOUND',
    );
  });

  it('403 for the wrong role: viewers only read, non-admins do not manage keys', async () => {
    const viewer = (
      await http.post('/api/platform/api-keys').set(admin).send({ name: 'dash', role: 'viewer' }).expect(201)
    ).body.key;
    const editor = (
      await http.post('/api/platform/api-keys').set(admin).send({ name: 'etl', role: 'editor' }).expect(201)
    ).body.key;
    const v = { Authorization: `Bearer ${viewer}` };
    const e = { Authorization: `Bearer ${editor}` };
    await http.get('/metrics').set(v).expect(200);
    const w = expectProblem(await http.post('/__e2e/write').set(v), 403, 'PLATFORM.FORBIDDEN');
    expect(w.detail).toMatch(/Viewer keys may only read/);
    await http.post('/__e2e/write').set(e).expect(201);
    expectProblem(await http.get('/api/platform/api-keys').set(e), 403, 'PLATFORM.FORBIDDEN');
    expectProblem(
      await http.post('/api/platform/api-keys').set(v).send({ name: 'x', role: 'admin' }),
      403,
      'PLATFORM.FORBIDDEN',
    );
  });

  it('404 problem+json for an unknown route', async () => {
    const body = expectProblem(await http.get('/api/nothing/here').set(admin), 404, 'PLATFORM.NOT_FOUND');
    expect(body.instance).toBe('/api/nothing/here');
  });

  it('400 problem+json for validation errors: unknown fields and bad values are refused', async () => {
    const body = expectProblem(
      await http.post('/api/platform/api-keys').set(admin).send({ name: '', role: 'root', extra: 1 }),
      400,
      'PLATFORM.VALIDATION_FAILED',
    );
    expect(body.errors).toEqual(
      expect.arrayContaining([
        'property extra should not exist',
        'role must be one of the following values: viewer, editor, admin',
      ]),
    );
    expect(body.errors.some((m: string) => /name must be longer than or equal to 1/.test(m))).toBe(true);
  });

  it('400 problem+json for a malformed JSON body, with its request id like every other error', async () => {
    const res = await http
      .post('/api/platform/api-keys')
      .set(admin)
      .set('Content-Type', 'application/json')
      .set('X-Request-Id', 'malformed-1')
      .send('{"name": ');
    const body = expectProblem(res, 400, 'PLATFORM.MALFORMED_BODY');
    expect([res.headers['x-request-id'], body.requestId]).toEqual(['malformed-1', 'malformed-1']);
    const generated = await http
      .post('/api/platform/api-keys')
      .set(admin)
      .set('Content-Type', 'application/json')
      .send('{"name": ');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(generated.text).requestId).toBe(generated.headers['x-request-id']);
  });

  it('415 problem+json for a JSON text sent without a JSON Content-Type (curl -d), naming the type the route takes', async () => {
    const form = await http
      .post('/api/platform/api-keys')
      .set(admin)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('{"name":"x","role":"viewer"}');
    const body = expectProblem(form, 415, 'PLATFORM.UNSUPPORTED_MEDIA_TYPE');
    expect(body.detail).toBe(
      'This route takes application/json, not "application/x-www-form-urlencoded"; send the header Content-Type: application/json',
    );
    expect(body.requestId).toBe(form.headers['x-request-id']);
    expectProblem(
      await http.post('/api/platform/api-keys').set(admin).set('Content-Type', 'text/plain').send('{"name":"x"}'),
      415,
      'PLATFORM.UNSUPPORTED_MEDIA_TYPE',
    );
    // nothing was created; a body-less POST and a JSON one still reach the route
    expect(
      (await http.get('/api/platform/api-keys').set(admin)).body.items.filter((k: { name: string }) => k.name === 'x'),
    ).toEqual([]);
    await http.post('/__e2e/write').set(admin).expect(201);
    await http.post('/api/platform/api-keys').set(admin).send({ name: 'json-ok', role: 'viewer' }).expect(201);
  });

  it('413 problem+json for an oversized body', async () => {
    expectProblem(
      await http
        .post('/api/platform/api-keys')
        .set(admin)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ name: 'x'.repeat(1_100_000), role: 'viewer' })),
      413,
      'PLATFORM.PAYLOAD_TOO_LARGE',
    );
  });

  it('500 hides the cause behind an error id', async () => {
    const body = expectProblem(await http.get('/__e2e/boom').set(admin), 500, 'PLATFORM.INTERNAL');
    expect(body.errorId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(body)).not.toMatch(/secret_table|\.ts:|at /);
  });

  it('serves OpenAPI at /docs-json listing every route, and Swagger UI at /docs, both public', async () => {
    const doc = (await http.get('/docs-json').expect(200)).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/health', '/metrics', '/api/platform/api-keys', '/api/platform/api-keys/{id}']),
    );
    expect(Object.keys(doc.paths['/api/platform/api-keys'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(doc.components.schemas).toHaveProperty('CreateApiKeyRequestDto');
    expect(doc.components.schemas).toHaveProperty('ProblemResponseDto');
    expect(doc.components.securitySchemes).toHaveProperty('bearer');
    const ui = await http.get('/docs/').expect(200);
    expect(ui.text).toContain('swagger-ui');
  });

  it('/metrics has default metrics and the request duration histogram by route and status', async () => {
    await http.get('/health').expect(200);
    await http.get('/api/platform/api-keys').expect(401);
    const text = (await http.get('/metrics').set(admin).expect(200)).text;
    expect(text).toContain('weir_process_cpu_user_seconds_total');
    expect(text).toMatch(
      /weir_http_request_duration_seconds_count\{method="GET",route="\/health",status_code="200"\} \d+/,
    );
    expect(text).toMatch(
      /weir_http_request_duration_seconds_count\{method="GET",route="\/api\/platform\/api-keys",status_code="401"\} \d+/,
    );
  });
});

describe('graceful shutdown', () => {
  it('finishes in-flight requests, then refuses new connections and closes pools', async () => {
    const db = await createTestDatabase();
    try {
      const config = loadConfig({ DATABASE_URL: db.url, WEIR_ADMIN_API_KEY: ADMIN, WEIR_LOG_LEVEL: 'silent' });
      const app = await createApp({ config, databaseUrl: db.url, warehouseUrl: db.url }, [E2eModule]);
      await app.listen(0, '127.0.0.1');
      const url = await app.getUrl();
      const inFlight = fetch(`${url.replace('[::1]', '127.0.0.1')}/__e2e/slow`, {
        headers: { Authorization: `Bearer ${ADMIN}` },
      });
      await new Promise((r) => setTimeout(r, 150));
      const closed = app.close();
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ done: true });
      await closed;
      await expect(fetch(`${url}/health`)).rejects.toThrow();
    } finally {
      await db.drop();
    }
  });
});
