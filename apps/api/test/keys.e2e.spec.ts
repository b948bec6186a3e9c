import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { INestApplication } from '@nestjs/common';
import { PROBLEM_CONTENT_TYPE } from '@weir/platform';
import { admin, appOn, startTestApp, TestApp } from './support/test-app';

const LIST = '/api/platform/api-keys';
const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function expectProblem(res: request.Response, status: number, code: string): Record<string, unknown> {
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
  expect(res.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
  return res.body;
}

describe('API keys: expiry, last use, rotation, rate limit (real app, real PostgreSQL)', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startTestApp()), 60_000);
  afterAll(() => t?.close());

  const create = async (body: Record<string, unknown>) =>
    (await t.http.post(LIST).set(admin).send(body).expect(201)).body as Record<string, string | null>;
  const listed = async (id: string) =>
    ((await t.http.get(LIST).set(admin).expect(200)).body.items as Record<string, string | null>[]).find(
      (k) => k.id === id,
    )!;

  it('an expired key answers 401 PLATFORM.KEY_EXPIRED, apart from an unknown key', async () => {
    const k = await create({
      name: 'short-lived',
      role: 'viewer',
      expiresAt: new Date(Date.now() + 1500).toISOString(),
    });
    expect(k.expiresAt).not.toBeNull();
    expect((await t.http.get('/api/catalog/datasets').set(bearer(k.key!))).status).toBe(200);
    await sleep(1700);
    const expired = expectProblem(
      await t.http.get('/api/catalog/datasets').set(bearer(k.key!)),
      401,
      'PLATFORM.KEY_EXPIRED',
    );
    expect(expired.detail).toContain(k.id);
    expect(JSON.stringify(expired)).not.toContain(k.key!);
    expectProblem(
      await t.http.get('/api/catalog/datasets').set(bearer('weir_unknown')),
      401,
      'PLATFORM.INVALID_API_KEY',
    );
    // a key that expires in 90 days, and refused expiries
    const later = await create({ name: 'quarterly', role: 'viewer', expiresIn: '90d' });
    const days = (Date.parse(later.expiresAt!) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89.9);
    expect(days).toBeLessThanOrEqual(90);
    for (const bad of [
      { expiresAt: '2001-01-01T00:00:00Z' },
      { expiresAt: 'tomorrow' },
      { expiresIn: '90 days' },
      { expiresIn: '1d', expiresAt: '2999-01-01T00:00:00Z' },
    ])
      expectProblem(
        await t.http
          .post(LIST)
          .set(admin)
          .send({ name: 'bad', role: 'viewer', ...bad }),
        400,
        'PLATFORM.INVALID_EXPIRY',
      );
  }, 30_000);

  it('records when a key was last used (off the request path) and shows it', async () => {
    const k = await create({ name: 'dashboards', role: 'viewer' });
    expect(k.lastUsedAt).toBeNull();
    const before = Date.now();
    await t.http.get('/api/catalog/datasets').set(bearer(k.key!)).expect(200);
    let used: string | null = null;
    for (let i = 0; i < 50 && !used; i++, await sleep(100)) used = (await listed(k.id!)).lastUsedAt;
    expect(Date.parse(used!)).toBeGreaterThanOrEqual(before - 1000);
    // throttled: a second use within the minute does not write again
    await sleep(1100);
    await t.http.get('/api/catalog/datasets').set(bearer(k.key!)).expect(200);
    await sleep(300);
    expect((await listed(k.id!)).lastUsedAt).toBe(used);
  }, 30_000);

  it('rotation without grace: a new secret for the same key, the old one stops at once', async () => {
    const k = await create({ name: 'etl-nightly', role: 'editor' });
    await t.http.get('/api/catalog/datasets').set(bearer(k.key!)).expect(200);
    const r = await t.http.post(`${LIST}/${k.id}/rotate`).set(admin).send({}).expect(200);
    expect(r.body).toMatchObject({ id: k.id, name: 'etl-nightly', role: 'editor', previousValidUntil: null });
    expect(r.body.key).toMatch(/^weir_/);
    expect(r.body.key).not.toBe(k.key);
    expect(r.body.rotatedAt).not.toBeNull();
    expectProblem(await t.http.get('/api/catalog/datasets').set(bearer(k.key!)), 401, 'PLATFORM.INVALID_API_KEY');
    await t.http.get('/api/catalog/datasets').set(bearer(r.body.key)).expect(200);
    const row = await listed(k.id!);
    expect(row.keyPrefix).toBe(r.body.key.slice(0, 12));
    expect(JSON.stringify(row)).not.toMatch(/keyHash|previousKeyHash/);
  });

  it('rotation with grace: the old secret works during the grace, then answers 401; by name too', async () => {
    const k = await create({ name: 'airflow', role: 'viewer' });
    await t.http.get('/api/catalog/datasets').set(bearer(k.key!)).expect(200);
    const r = await t.http.post(`${LIST}/airflow/rotate`).set(admin).send({ grace: '2s' }).expect(200);
    expect(r.body.id).toBe(k.id);
    expect(Date.parse(r.body.previousValidUntil) - Date.now()).toBeGreaterThan(500);
    await t.http.get('/api/catalog/datasets').set(bearer(k.key!)).expect(200);
    await t.http.get('/api/catalog/datasets').set(bearer(r.body.key)).expect(200);
    await sleep(2300);
    expectProblem(await t.http.get('/api/catalog/datasets').set(bearer(k.key!)), 401, 'PLATFORM.INVALID_API_KEY');
    await t.http.get('/api/catalog/datasets').set(bearer(r.body.key)).expect(200);
    // a revoked key, an unknown one, a bad grace, a non-admin caller
    const gone = await create({ name: 'gone', role: 'viewer' });
    await t.http.delete(`${LIST}/${gone.id}`).set(admin).expect(200);
    expectProblem(await t.http.post(`${LIST}/${gone.id}/rotate`).set(admin).send({}), 409, 'PLATFORM.API_KEY_REVOKED');
    expectProblem(await t.http.post(`${LIST}/nobody/rotate`).set(admin).send({}), 404, 'PLATFORM.API_KEY_NOT_FOUND');
    // by name, a revoked key is not found: the answer says how to reach it
    expect(
      expectProblem(await t.http.post(`${LIST}/gone/rotate`).set(admin).send({}), 404, 'PLATFORM.API_KEY_NOT_FOUND')
        .detail,
    ).toBe('No API key named "gone" that is not revoked (a revoked key is found by its id only)');
    expectProblem(
      await t.http.post(`${LIST}/${k.id}/rotate`).set(admin).send({ grace: '40d' }),
      400,
      'PLATFORM.INVALID_EXPIRY',
    );
    expectProblem(
      await t.http.post(`${LIST}/${k.id}/rotate`).set(bearer(r.body.key)).send({}),
      403,
      'PLATFORM.FORBIDDEN',
    );
  }, 30_000);

  it('two active keys with one name: rotating by name is refused as ambiguous', async () => {
    await create({ name: 'twin', role: 'viewer' });
    await create({ name: 'twin', role: 'viewer' });
    expectProblem(await t.http.post(`${LIST}/twin/rotate`).set(admin).send({}), 409, 'PLATFORM.API_KEY_AMBIGUOUS');
  });

  describe('a per-key rate limit (WEIR_RATE_LIMIT_PER_MINUTE=3)', () => {
    let limited: INestApplication;
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'weir-keys-'));
      limited = await appOn(t.db, dir, 'api', { WEIR_RATE_LIMIT_PER_MINUTE: '3' });
    }, 60_000);
    afterAll(async () => {
      await limited?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('answers 429 problem+json with Retry-After past the limit; other keys and /health are unaffected', async () => {
      const http = () => request(limited.getHttpServer());
      const a = await create({ name: 'busy', role: 'viewer' });
      const b = await create({ name: 'quiet', role: 'viewer' });
      for (let i = 0; i < 3; i++) await http().get('/api/catalog/datasets').set(bearer(a.key!)).expect(200);
      const res = await http().get('/api/catalog/datasets').set(bearer(a.key!));
      const p = expectProblem(res, 429, 'PLATFORM.RATE_LIMITED');
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(20);
      expect(p.detail).toContain('busy');
      await http().get('/api/catalog/datasets').set(bearer(b.key!)).expect(200);
      for (let i = 0; i < 5; i++) expect((await http().get('/health')).status).not.toBe(429);
      // an unauthenticated request is not counted against anyone, and still answers 401
      expectProblem(await http().get('/api/catalog/datasets'), 401, 'PLATFORM.UNAUTHENTICATED');
    });
  });
});
