import { randomUUID } from 'node:crypto';
import { admin, startTestApp, TestApp } from './support/test-app';
import { until } from './support/files';

/** An OpenLineage COMPLETE event of `job` writing `outputs` (dataset names in namespace pg://dwh). */
const complete = (job: string, outputs: string[]) => ({
  eventType: 'COMPLETE',
  eventTime: new Date().toISOString(),
  producer: 'https://example.com/producer',
  schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
  run: { runId: randomUUID() },
  job: { namespace: 'search', name: job },
  inputs: [],
  outputs: outputs.map((name) => ({ namespace: 'pg://dwh', name })),
});

describe('GET /api/v1/search ranks exact, then prefix matches first', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    // names chosen so that plain name order would put the exact and prefix matches last
    await t.http
      .post('/api/v1/lineage')
      .set(admin)
      .send(complete('a_load_orders', ['archive.all_orders', 'mart.orders_daily', 'zz.orders', 'orders_zz']))
      .expect(201);
    await t.http
      .post('/api/v1/lineage')
      .set(admin)
      .send(complete('zorders', ['b.customer_orders']))
      .expect(201);
    await until('the events stored', async () => {
      const r = await t.http.get('/api/v1/search').query({ q: 'orders' }).set(admin).expect(200);
      return r.body.totalCount === 7;
    });
  });
  afterAll(() => t.close());

  const names = async (query: Record<string, string>) =>
    (await t.http.get('/api/v1/search').query(query).set(admin).expect(200)).body.results.map(
      (r: { type: string; name: string }) => `${r.type} ${r.name}`,
    );

  it('by name: exact (whole name or last dotted part), then prefix, then the rest', async () => {
    expect(await names({ q: 'ORDERS' })).toEqual([
      'DATASET zz.orders',
      'DATASET mart.orders_daily',
      'DATASET orders_zz',
      'JOB a_load_orders',
      'DATASET archive.all_orders',
      'DATASET b.customer_orders',
      'JOB zorders',
    ]);
    expect(await names({ q: 'orders_zz' })).toEqual(['DATASET orders_zz']);
    expect(await names({ q: 'mart.orders_daily' })).toEqual(['DATASET mart.orders_daily']);
    expect(await names({ q: 'orders', filter: 'JOB' })).toEqual(['JOB a_load_orders', 'JOB zorders']);
    expect(await names({ q: 'zorders' })).toEqual(['JOB zorders']);
    expect(await names({ q: 'zz' })).toEqual(['DATASET zz.orders', 'DATASET orders_zz']);
  });

  it('by update: the exact and prefix groups still come first', async () => {
    const byUpdate = await names({ q: 'orders', sort: 'UPDATE_AT' });
    expect(byUpdate[0]).toBe('DATASET zz.orders');
    expect(byUpdate.slice(1, 3).sort()).toEqual(['DATASET mart.orders_daily', 'DATASET orders_zz']);
    expect(byUpdate.slice(3).sort()).toEqual([
      'DATASET archive.all_orders',
      'DATASET b.customer_orders',
      'JOB a_load_orders',
      'JOB zorders',
    ]);
  });
});
