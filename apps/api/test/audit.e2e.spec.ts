import { Body, Controller, Module, Param, Post } from '@nestjs/common';
import { Client } from 'pg';
import { AuditLog, PROBLEM_CONTENT_TYPE, Retention } from '@weir/platform';
import { admin, startTestApp, TestApp } from './support/test-app';

/** A test-only route taking any body, to show what the audit log keeps of fields a real DTO would refuse. */
@Controller('__audit')
class AuditProbeController {
  @Post('things/:id')
  thing(@Param('id') id: string, @Body() _body: Record<string, unknown>): { id: string } {
    return { id };
  }
}
@Module({ controllers: [AuditProbeController] })
class AuditProbeModule {}

const contract = { columns: [{ name: 'id', type: 'bigint', nullable: false, primaryKey: true }] };

interface Row {
  id: string;
  actor: string;
  actor_name: string | null;
  method: string;
  route: string | null;
  path: string;
  resource_id: string | null;
  diff: any;
  status: number | null;
  outcome: string;
  error_code: string | null;
  duration_ms: number;
  request_id: string | null;
}

describe('audit log e2e: every mutating request recorded, read back by admins only, kept for a while', () => {
  let t: TestApp;
  let pg: Client;
  let editor: { Authorization: string };
  let viewer: { Authorization: string };
  let editorId: string;
  let viewerId: string;

  /** The audit rows of `path` once written (the insert happens after the response, in the background). */
  async function rowsOf(path: string, n = 1): Promise<Row[]> {
    for (let i = 0; i < 100; i++) {
      await t.app.get(AuditLog).flush();
      const { rows } = await pg.query<Row>(`SELECT * FROM platform.audit_log WHERE path = $1 ORDER BY id`, [path]);
      if (rows.length >= n) return rows;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no audit row for ${path}`);
  }

  beforeAll(async () => {
    t = await startTestApp({}, [AuditProbeModule]);
    pg = new Client({ connectionString: t.db.url });
    await pg.connect();
    const key = async (role: string) => {
      const body = (
        await t.http
          .post('/api/platform/api-keys')
          .set(admin)
          .send({ name: `${role}-key`, role })
          .expect(201)
      ).body;
      return { header: { Authorization: `Bearer ${body.key}` }, id: body.id as string };
    };
    ({ header: editor, id: editorId } = await key('editor'));
    ({ header: viewer, id: viewerId } = await key('viewer'));
  });
  afterAll(async () => {
    await pg?.end();
    await t?.close();
  });

  it("records an editor's change: key id, route template, resource id, the body with secrets masked", async () => {
    await t.http.post('/api/catalog/datasets').set(editor).send({ name: 'audited', contract }).expect(201);
    const [created] = await rowsOf('/api/catalog/datasets');
    expect(created).toMatchObject({
      actor: editorId,
      actor_name: 'editor-key',
      method: 'POST',
      route: '/api/catalog/datasets',
      resource_id: null,
      status: 201,
      outcome: 'ok',
      error_code: null,
      diff: { name: 'audited', contract },
    });
    expect(created.request_id).toBeTruthy();
    expect(created.duration_ms).toBeGreaterThanOrEqual(0);

    await t.http
      .patch('/api/catalog/datasets/audited')
      .set(editor)
      .send({ description: 'orders, audited' })
      .expect(200);
    const [patched] = await rowsOf('/api/catalog/datasets/audited');
    expect(patched).toMatchObject({
      actor: editorId,
      method: 'PATCH',
      route: '/api/catalog/datasets/:name',
      resource_id: 'audited',
      outcome: 'ok',
      diff: { description: 'orders, audited' },
    });

    const secretBody = {
      name: 'probe',
      apiToken: 'tok-live-0000-SECRET',
      nested: { password: 'hunter2-SECRET', user: 'loader', connection: { password: { env: 'PG_PASSWORD' } } },
      clientSecret: { env: 'CLIENT_SECRET' },
      connectionString: 'host=db password=pw-SECRET',
      target: 'postgres://loader:pw2-SECRET@db.internal:5432/wh',
      endpoint: 'https://api.example.com/v1?access_token=tok2-SECRET&page=1',
      leaked: 'weir_' + 'A'.repeat(43),
      key: ['id'],
    };
    await t.http.post('/__audit/things/t-42').set(editor).send(secretBody).expect(201);
    const [probe] = await rowsOf('/__audit/things/t-42');
    expect(probe).toMatchObject({ route: '/__audit/things/:id', resource_id: 't-42', outcome: 'ok' });
    expect(probe.diff).toEqual({
      name: 'probe',
      apiToken: '***',
      nested: { password: '***', user: 'loader', connection: { password: { env: 'PG_PASSWORD' } } },
      clientSecret: { env: 'CLIENT_SECRET' },
      connectionString: '***',
      target: 'postgres://***@db.internal:5432/wh',
      endpoint: 'https://api.example.com/v1?access_token=***&page=1',
      leaked: '***',
      key: ['id'],
    });
    expect(JSON.stringify(probe)).not.toMatch(/-SECRET|weir_AAAA/);

    // a huge body is capped
    const huge = { rows: Array.from({ length: 40 }, (_, i) => ({ i, text: 'x'.repeat(2000) })) };
    await t.http.post('/__audit/things/huge').set(editor).send(huge).expect(201);
    const [big] = await rowsOf('/__audit/things/huge');
    expect(JSON.stringify(big.diff).length).toBeLessThanOrEqual(16_384);
  });

  it('records refusals (outcome refused, the problem code) and who was refused; reads are not recorded', async () => {
    const bad = await t.http
      .post('/api/ingestion/sources')
      .set(editor)
      .send({
        name: 'clear_src',
        dataset: 'audited',
        connector: {
          kind: 'postgres_query',
          connection: { host: '127.0.0.1', user: 'postgres', password: 'hunter3-SECRET' },
          table: 'items',
        },
        strategy: { mode: 'append' },
      });
    expect(bad.status).toBe(400);
    const [refused] = await rowsOf('/api/ingestion/sources');
    expect(refused).toMatchObject({
      actor: editorId,
      route: '/api/ingestion/sources',
      status: 400,
      outcome: 'refused',
      error_code: bad.body.code,
    });
    expect(refused.error_code).toMatch(/^[A-Z]+\.[A-Z_]+$/);
    expect(refused.diff.connector.connection.password).toBe('***');
    expect(JSON.stringify(refused)).not.toContain('hunter3');

    await t.http.delete('/api/catalog/datasets/audited/versions/1').set(viewer).expect(403);
    const [forbidden] = await rowsOf('/api/catalog/datasets/audited/versions/1');
    expect(forbidden).toMatchObject({
      actor: viewerId,
      method: 'DELETE',
      route: '/api/catalog/datasets/:name/versions/:version',
      resource_id: 'audited',
      status: 403,
      outcome: 'refused',
      error_code: 'PLATFORM.FORBIDDEN',
    });

    await t.http.post('/api/platform/api-keys').set(editor).send({ name: 'x', role: 'admin' }).expect(403);
    await t.http.post('/api/platform/api-keys').send({ name: 'y', role: 'admin' }).expect(401);
    const keyRows = await rowsOf('/api/platform/api-keys', 4);
    expect(keyRows.map((r) => [r.actor, r.status, r.error_code])).toEqual([
      ['env:WEIR_ADMIN_API_KEY', 201, null],
      ['env:WEIR_ADMIN_API_KEY', 201, null],
      [editorId, 403, 'PLATFORM.FORBIDDEN'],
      ['anonymous', 401, 'PLATFORM.UNAUTHENTICATED'],
    ]);

    // a body refused before the router: recorded too, without a route
    await t.http
      .post('/api/catalog/datasets/x')
      .set(editor)
      .set('Content-Type', 'application/json')
      .send('{"a":')
      .expect(400);
    const [malformed] = await rowsOf('/api/catalog/datasets/x');
    expect(malformed).toMatchObject({ outcome: 'refused', error_code: 'PLATFORM.MALFORMED_BODY' });

    await t.http.get('/api/catalog/datasets/audited').set(editor).expect(200);
    await t.app.get(AuditLog).flush();
    const { rows } = await pg.query(`SELECT count(*)::int AS n FROM platform.audit_log WHERE method = 'GET'`);
    expect(rows[0].n).toBe(0);
  });

  it('GET /api/platform/audit is for admins only, and filters and pages newest first', async () => {
    for (const k of [viewer, editor]) {
      const r = await t.http.get('/api/platform/audit').set(k).expect(403);
      expect(r.headers['content-type']).toMatch(PROBLEM_CONTENT_TYPE);
      expect(r.body.code).toBe('PLATFORM.FORBIDDEN');
    }
    await t.http.get('/api/platform/audit').expect(401);

    const all = (await t.http.get('/api/platform/audit?limit=500').set(admin).expect(200)).body;
    expect(all.items.length).toBeGreaterThan(8);
    const times = all.items.map((r: { at: string }) => Date.parse(r.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(all.nextCursor).toBeNull();
    expect(all.items[0]).toEqual(
      expect.objectContaining({ id: expect.any(String), actor: expect.any(String), outcome: expect.any(String) }),
    );

    const q = async (query: string) =>
      (await t.http.get(`/api/platform/audit?${query}`).set(admin).expect(200)).body.items as Record<string, any>[];
    const byViewer = await q(`actor=${viewerId}`);
    expect(byViewer.length).toBe(1);
    expect(byViewer[0]).toMatchObject({ method: 'DELETE', outcome: 'refused', errorCode: 'PLATFORM.FORBIDDEN' });
    expect((await q('route=/api/catalog')).every((r) => (r.route ?? r.path).startsWith('/api/catalog'))).toBe(true);
    expect((await q('route=/api/catalog')).length).toBe(4);
    expect((await q('method=patch')).map((r) => r.resourceId)).toEqual(['audited']);
    expect((await q('outcome=refused')).every((r) => r.status >= 400 && r.status < 500)).toBe(true);
    expect((await q('outcome=refused')).length).toBe(5);
    expect((await q('resource=t-42')).length).toBe(1);
    expect((await q(`actor=${editorId}&outcome=ok&method=POST`)).length).toBe(3);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect(await q(`from=${future}`)).toEqual([]);
    expect((await q(`to=${future}`)).length).toBe(all.items.length);
    const mid = all.items[3].at as string;
    expect((await q(`from=${mid}`)).every((r) => r.at >= mid)).toBe(true);
    expect((await q(`to=${mid}`)).every((r) => r.at < mid)).toBe(true);

    // pages of 3, newest first, the same rows as one page
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { id: string }[]; nextCursor: string | null } = (
        await t.http
          .get('/api/platform/audit')
          .query({ limit: 3, ...(cursor ? { cursor } : {}) })
          .set(admin)
          .expect(200)
      ).body;
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.items.map((r: { id: string }) => r.id));

    for (const bad of ['limit=0', 'limit=501', 'outcome=maybe', 'from=yesterday', 'method=GET', 'colour=red']) {
      const r = await t.http.get(`/api/platform/audit?${bad}`).set(admin).expect(400);
      expect(r.body.code).toBe('PLATFORM.VALIDATION_FAILED');
    }
    const r = await t.http.get('/api/platform/audit?cursor=bm90LWEtY3Vyc29y').set(admin).expect(400);
    expect(r.body.code).toBe('PLATFORM.INVALID_AUDIT_QUERY');
  });

  it('records a refused body PostgreSQL cannot store as is (NUL, a lone surrogate half, in a value and a key)', async () => {
    const nul = await t.http
      .post('/api/catalog/datasets/nul%00name')
      .set(editor)
      .set('Content-Type', 'application/json')
      .send('{"name":"a\\u0000b","n\\u0000k":"\\ud800x"}');
    expect(nul.status).toBeGreaterThanOrEqual(400);
    expect(nul.status).toBeLessThan(500);
    const [unstorable] = await rowsOf('/api/catalog/datasets/nul%00name');
    expect(unstorable).toMatchObject({ outcome: 'refused', status: nul.status, error_code: nul.body.code });
    expect(unstorable.diff).toEqual({ name: 'a\u2400b', 'n\u2400k': '\ufffdx' });
  });

  it('the OpenAPI document describes the route', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    const op = doc.paths['/api/platform/audit'].get;
    expect(op.summary).toMatch(/audit/i);
    expect(op.parameters.map((p: { name: string }) => p.name).sort()).toEqual(
      ['actor', 'cursor', 'from', 'limit', 'method', 'outcome', 'resource', 'route', 'to'].sort(),
    );
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403']));
  });

  it('retention deletes rows older than WEIR_AUDIT_RETENTION_DAYS (default 365), and only those', async () => {
    const policies = t.app.get(Retention).list();
    expect(policies).toContainEqual({ name: 'platform.audit_log', describe: 'audit log rows older than 365 days' });
    await pg.query(
      `INSERT INTO platform.audit_log (at, actor, method, path, outcome, duration_ms)
       VALUES (now() - interval '400 days', 'old', 'POST', '/old', 'ok', 1),
              (now() - interval '300 days', 'kept', 'POST', '/kept', 'ok', 1)`,
    );
    const before = (await pg.query(`SELECT count(*)::int AS n FROM platform.audit_log`)).rows[0].n;
    const deleted = await t.app.get(Retention).sweep();
    expect(deleted['platform.audit_log']).toBe(1);
    const { rows } = await pg.query(`SELECT actor FROM platform.audit_log WHERE actor IN ('old', 'kept')`);
    expect(rows).toEqual([{ actor: 'kept' }]);
    expect((await pg.query(`SELECT count(*)::int AS n FROM platform.audit_log`)).rows[0].n).toBe(before - 1);
  });

  it('a failing audit insert never fails the request', async () => {
    await pg.query(`ALTER TABLE platform.audit_log RENAME TO audit_log_away`);
    try {
      await t.http.post('/api/catalog/datasets').set(editor).send({ name: 'unaudited', contract }).expect(201);
      await t.app.get(AuditLog).flush();
      await t.http.get('/api/catalog/datasets/unaudited').set(editor).expect(200);
    } finally {
      await pg.query(`ALTER TABLE platform.audit_log_away RENAME TO audit_log`);
    }
    const { rows } = await pg.query(`SELECT count(*)::int AS n FROM platform.audit_log WHERE path LIKE '%unaudited%'`);
    expect(rows[0].n).toBe(0);
    await t.http.patch('/api/catalog/datasets/unaudited').set(editor).send({ owner: 'me' }).expect(200);
    expect(await rowsOf('/api/catalog/datasets/unaudited')).toHaveLength(1);
  });
});
