import { admin, startTestApp, TestApp } from './support/test-app';

describe('lineage API e2e: POST /api/lineage/parse', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startTestApp()));
  afterAll(() => t?.close());

  it('returns tables read and written and column lineage for a statement', async () => {
    const r = await t.http
      .post('/api/lineage/parse')
      .set(admin)
      .send({
        sql: 'INSERT INTO mart.orders SELECT o.id, sum(p.amount) AS paid FROM orders o JOIN payments p ON p.order_id = o.id GROUP BY o.id',
        defaultSchema: 'raw',
        schemas: { 'mart.orders': ['id', 'paid'] },
      })
      .expect(200);
    expect(r.body.tablesRead).toEqual(['raw.orders', 'raw.payments']);
    expect(r.body.tablesWritten).toEqual(['mart.orders']);
    expect(r.body.columnLineage).toEqual(
      expect.arrayContaining([
        {
          source: { table: 'raw.orders', column: 'id' },
          target: { table: 'mart.orders', column: 'id' },
          type: 'DIRECT',
          subtype: 'IDENTITY',
        },
        {
          source: { table: 'raw.payments', column: 'amount' },
          target: { table: 'mart.orders', column: 'paid' },
          type: 'DIRECT',
          subtype: 'AGGREGATION',
        },
        {
          source: { table: 'raw.payments', column: 'order_id' },
          target: { table: 'mart.orders', column: 'paid' },
          type: 'INDIRECT',
          subtype: 'JOIN',
        },
      ]),
    );
  });

  it('gives a plain SELECT lineage to its output columns: table null, or the target it names', async () => {
    const sql = 'SELECT o.id, upper(o.status) AS status FROM raw.orders o WHERE o.amount > 0';
    const plain = (await t.http.post('/api/lineage/parse').set(admin).send({ sql }).expect(200)).body;
    expect(plain.tablesWritten).toEqual([]);
    expect(plain.columnLineage).toEqual(
      expect.arrayContaining([
        {
          source: { table: 'raw.orders', column: 'id' },
          target: { table: null, column: 'id' },
          type: 'DIRECT',
          subtype: 'IDENTITY',
        },
        {
          source: { table: 'raw.orders', column: 'status' },
          target: { table: null, column: 'status' },
          type: 'DIRECT',
          subtype: 'TRANSFORMATION',
        },
        {
          source: { table: 'raw.orders', column: 'amount' },
          target: { table: null, column: 'status' },
          type: 'INDIRECT',
          subtype: 'FILTER',
        },
      ]),
    );
    const named = (
      await t.http.post('/api/lineage/parse').set(admin).send({ sql, target: 'analytics.orders' }).expect(200)
    ).body;
    expect(named.tablesWritten).toEqual(['analytics.orders']);
    expect(named.columnLineage.map((e: { target: { table: string } }) => e.target.table)).toEqual(
      Array(plain.columnLineage.length).fill('analytics.orders'),
    );
    const bad = await t.http.post('/api/lineage/parse').set(admin).send({ sql, target: 'a; drop table x' }).expect(400);
    expect(bad.body).toMatchObject({ code: 'PLATFORM.VALIDATION_FAILED', detail: expect.stringContaining('target') });
  });

  it('answers problem+json for SQL that does not parse and for a bad body; needs a key', async () => {
    const bad = await t.http.post('/api/lineage/parse').set(admin).send({ sql: 'SELEC 1' }).expect(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.body).toMatchObject({
      code: 'LINEAGE.SQL_PARSE_ERROR',
      detail: expect.stringContaining('syntax error'),
    });
    expect(
      (
        await t.http
          .post('/api/lineage/parse')
          .set(admin)
          .send({ sql: 'select 1', schemas: { t: 'a' } })
          .expect(400)
      ).body.code,
    ).toBe('PLATFORM.VALIDATION_FAILED');
    expect((await t.http.post('/api/lineage/parse').set(admin).send({}).expect(400)).body.code).toBe(
      'PLATFORM.VALIDATION_FAILED',
    );
    await t.http.post('/api/lineage/parse').send({ sql: 'select 1' }).expect(401);
  });
});
