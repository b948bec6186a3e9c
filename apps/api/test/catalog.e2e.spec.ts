import { Client } from 'pg';
import { admin, startTestApp, TestApp } from './support/test-app';

const orders = {
  name: 'orders',
  owner: 'data-eng',
  tags: ['sales'],
  contract: {
    columns: [
      { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
      { name: 'status', type: 'text', nullable: false, allowed: ['new', 'paid'] },
      { name: 'amount', type: 'numeric(12,2)', nullable: true },
    ],
  },
};

describe('catalog API e2e', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startTestApp()));
  afterAll(() => t?.close());

  it('creates, lists, reads and versions a dataset', async () => {
    const created = await t.http.post('/api/catalog/datasets').set(admin).send(orders).expect(201);
    expect(created.body).toMatchObject({
      name: 'orders',
      schema: 'raw',
      table: 'orders',
      version: 1,
      tags: ['sales'],
      lastLoad: null,
    });
    await t.http.post('/api/catalog/datasets').set(admin).send(orders).expect(409);
    expect(
      (await t.http.get('/api/catalog/datasets?tag=sales').set(admin).expect(200)).body.items.map(
        (d: { name: string }) => d.name,
      ),
    ).toEqual(['orders']);
    expect((await t.http.get('/api/catalog/datasets?tag=nope').set(admin).expect(200)).body.items).toEqual([]);

    const detail = await t.http.get('/api/catalog/datasets/orders').set(admin).expect(200);
    expect(detail.body).toMatchObject({
      rowCount: null,
      tableExists: false,
      versions: [{ version: 1, kind: 'initial', changedBy: 'api:WEIR_ADMIN_API_KEY' }],
    });
  });

  it('classifies and records contract changes; refuses breaking ones unless allowed', async () => {
    const additive = { columns: [...orders.contract.columns, { name: 'note', type: 'text', nullable: true }] };
    const r = await t.http.patch('/api/catalog/datasets/orders').set(admin).send({ contract: additive }).expect(200);
    expect(r.body).toMatchObject({
      version: 2,
      change: { kind: 'additive', details: ['added column note (text, nullable)'] },
    });

    const breaking = { columns: orders.contract.columns.slice(0, 2) };
    const refused = await t.http
      .patch('/api/catalog/datasets/orders')
      .set(admin)
      .send({ contract: breaking })
      .expect(409);
    expect(refused.body).toMatchObject({ code: 'CATALOG.BREAKING_CHANGE' });
    await t.http
      .patch('/api/catalog/datasets/orders')
      .set(admin)
      .send({ contract: breaking, allowBreaking: true })
      .expect(200);
    const detail = await t.http.get('/api/catalog/datasets/orders').set(admin).expect(200);
    expect(detail.body.versions.map((v: { version: number; kind: string }) => [v.version, v.kind])).toEqual([
      [3, 'breaking'],
      [2, 'additive'],
      [1, 'initial'],
    ]);
    const c = new Client({ connectionString: t.db.url });
    await c.connect();
    expect((await c.query('SELECT count(*)::int AS n FROM catalog.schema_changes')).rows[0].n).toBe(3);
    await c.end();
  });

  it('applies an additive change to an existing warehouse table', async () => {
    const c = new Client({ connectionString: t.db.url });
    await c.connect();
    await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({
        ...orders,
        name: 'events',
        contract: { columns: [{ name: 'id', type: 'integer', nullable: false, primaryKey: true }] },
      })
      .expect(201);
    await c.query(
      'CREATE SCHEMA IF NOT EXISTS raw; CREATE TABLE raw.events (id integer PRIMARY KEY); INSERT INTO raw.events VALUES (1), (2)',
    );
    await t.http
      .patch('/api/catalog/datasets/events')
      .set(admin)
      .send({
        contract: {
          columns: [
            { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
            { name: 'kind', type: 'text', nullable: true },
          ],
        },
      })
      .expect(200);
    const cols = await c.query(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema='raw' AND table_name='events' ORDER BY ordinal_position`,
    );
    expect(cols.rows).toEqual([
      { column_name: 'id', data_type: 'bigint' },
      { column_name: 'kind', data_type: 'text' },
    ]);
    expect((await t.http.get('/api/catalog/datasets/events').set(admin).expect(200)).body).toMatchObject({
      rowCount: 2,
      rowCountExact: true,
      tableExists: true,
    });
    await c.end();
  });

  it('previews rows, masking PII for viewers', async () => {
    const c = new Client({ connectionString: t.db.url });
    await c.connect();
    await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({
        name: 'people',
        contract: {
          columns: [
            { name: 'id', type: 'integer', nullable: false },
            { name: 'email', type: 'text', nullable: true, pii: true },
          ],
        },
      })
      .expect(201);
    await c.query(
      `CREATE TABLE raw.people (id integer, email text); INSERT INTO raw.people VALUES (1, 'a@x.io'), (2, NULL)`,
    );
    await c.end();
    const viewer = (
      await t.http.post('/api/platform/api-keys').set(admin).send({ name: 'v', role: 'viewer' }).expect(201)
    ).body.key;
    const asViewer = (
      await t.http
        .get('/api/catalog/datasets/people/preview?limit=5')
        .set('Authorization', `Bearer ${viewer}`)
        .expect(200)
    ).body;
    expect(asViewer).toEqual({
      columns: ['id', 'email'],
      masked: ['email'],
      rows: [
        { id: 1, email: '***' },
        { id: 2, email: null },
      ],
    });
    const asAdmin = (await t.http.get('/api/catalog/datasets/people/preview').set(admin).expect(200)).body;
    expect(asAdmin.rows[0]).toEqual({ id: 1, email: 'a@x.io' });
    expect((await t.http.get('/api/catalog/datasets/orders/preview').set(admin).expect(404)).body.code).toBe(
      'CATALOG.TABLE_NOT_FOUND',
    );
  });

  it('rejects invalid contracts with every problem listed', async () => {
    const r = await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({
        name: 'bad',
        contract: {
          columns: [
            { name: 'x', type: 'varchar2', nullable: true },
            { name: 'x', type: 'numeric(2,5)', nullable: true, primaryKey: true },
          ],
        },
      })
      .expect(400);
    expect(r.body.code).toBe('CATALOG.INVALID_CONTRACT');
    expect(r.body.errors).toHaveLength(4);
    expect(
      (
        await t.http
          .post('/api/catalog/datasets')
          .set(admin)
          .send({ name: 'Bad Name', contract: orders.contract })
          .expect(400)
      ).body.code,
    ).toBe('PLATFORM.VALIDATION_FAILED');
    expect((await t.http.get('/api/catalog/datasets/nope').set(admin).expect(404)).body.code).toBe(
      'CATALOG.DATASET_NOT_FOUND',
    );
  });
});
