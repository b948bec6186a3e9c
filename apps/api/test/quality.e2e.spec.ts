import { Client } from 'pg';
import { RunsService } from '@weir/ingestion';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, tempDataDir } from './support/files';

const contract = {
  columns: [
    { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
    { name: 'status', type: 'text', nullable: true },
    { name: 'amount', type: 'numeric(12,2)', nullable: true },
    { name: 'email', type: 'text', nullable: true, pii: true },
  ],
};

describe('quality e2e: suites, runs with evidence, metrics, GX import/export, the gate', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let close: () => Promise<void>;
  const load = async (source: string, file: string) => {
    const q = await t.http.post(`/api/ingestion/sources/${source}/runs`).set(admin).send({ path: file }).expect(202);
    return t.app.get(RunsService).waitFor(q.body.id, 30_000);
  };
  beforeAll(async () => {
    ({ t, files, pg, close } = await startIngestionApp());
    await t.http.post('/api/catalog/datasets').set(admin).send({ name: 'orders', contract }).expect(201);
    await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({ name: 'orders_src', dataset: 'orders', format: 'csv', strategy: { kind: 'merge' } })
      .expect(201);
    files.write('o1.csv', 'id,status,amount,email\n1,new,10,a@x.io\n2,paid,20,b@x.io\n3,bogus,30,c@x.io\n4,,40,\n');
    expect((await load('orders_src', 'o1.csv')).status).toBe('succeeded');
  });
  afterAll(() => close?.());

  let suiteId: string;
  it('creates a suite (validated against the contract) and runs it in one scan with evidence', async () => {
    const bad = await t.http
      .post('/api/quality/suites')
      .set(admin)
      .send({
        name: 'x',
        dataset: 'orders',
        expectations: [
          { type: 'expect_column_values_to_not_be_null', kwargs: { column: 'nope' } },
          { type: 'expect_column_values_to_be_in_set', kwargs: { column: 'status' } },
        ],
      })
      .expect(400);
    expect(bad.body).toMatchObject({ code: 'QUALITY.INVALID_SUITE' });
    expect(bad.body.errors).toHaveLength(2);
    // an unknown type is refused with the supported ones
    const unknown = await t.http
      .post('/api/quality/suites')
      .set(admin)
      .send({ name: 'x', dataset: 'orders', expectations: [{ type: 'expect_magic', kwargs: {} }] })
      .expect(400);
    expect(unknown.body).toMatchObject({
      code: 'QUALITY.UNKNOWN_EXPECTATION_TYPE',
      unknown: ['expect_magic'],
      supported: expect.arrayContaining(['expect_column_values_to_be_unique', 'freshness']),
    });
    expect(unknown.body.detail).toContain('supported: expect_column_values_to_not_be_null');

    const suite = await t.http
      .post('/api/quality/suites')
      .set(admin)
      .send({
        name: 'orders_checks',
        dataset: 'orders',
        expectations: [
          { type: 'expect_column_values_to_be_in_set', kwargs: { column: 'status', value_set: ['new', 'paid'] } },
          { type: 'expect_column_values_to_not_be_null', kwargs: { column: 'email' }, severity: 'warn' },
          { type: 'expect_column_mean_to_be_between', kwargs: { column: 'amount', min_value: 0, max_value: 100 } },
          { type: 'expect_column_values_to_be_unique', kwargs: { column: 'id' } },
          {
            type: 'expect_column_values_to_match_regex',
            kwargs: { column: 'email', regex: '@x\\.io$', row_condition: 'id > 1' },
          },
        ],
      })
      .expect(201);
    suiteId = suite.body.id;
    const sql = (await t.http.get(`/api/quality/suites/${suiteId}/sql`).set(admin).expect(200)).body;
    expect(sql.scan.match(/FROM "raw"."orders"/g)).toHaveLength(1);
    expect(sql.scan).toContain('count(*) FILTER (WHERE');
    expect(sql.queries).toHaveLength(1); // the uniqueness check's grouped query

    const run = (await t.http.post(`/api/quality/suites/${suiteId}/runs`).set(admin).send({}).expect(201)).body;
    expect(run).toMatchObject({ status: 'failed', rowCount: 4, target: 'raw.orders' });
    // the runs list: newest first, the suite's, by status
    const listed = (await t.http.get(`/api/quality/runs?suite=${suiteId}&status=failed`).set(admin).expect(200)).body;
    expect(listed.items[0]).toMatchObject({ id: run.id, status: 'failed', dataset: 'orders', rowCount: 4 });
    expect(listed.items[0].failed).toBeGreaterThan(0);
    const none = (await t.http.get(`/api/quality/runs?suite=${suiteId}&status=passed`).set(admin).expect(200)).body;
    expect(none.items).toEqual([]);
    const [inSet, notNull, mean, unique, regex] = run.results;
    expect(inSet).toMatchObject({
      success: false,
      severity: 'error',
      elementCount: 4,
      unexpectedCount: 1,
      sampleUnexpected: ['bogus'],
    });
    expect(notNull).toMatchObject({ success: false, severity: 'warn', unexpectedCount: 1 });
    expect(mean).toMatchObject({ success: true, observedValue: 25 });
    expect(unique).toMatchObject({ success: true, unexpectedCount: 0 });
    expect(regex).toMatchObject({ success: true, elementCount: 3 });
    expect((await t.http.get(`/api/quality/runs/${run.id}`).set(admin).expect(200)).body.results).toHaveLength(5);
    const metrics = (await t.http.get('/api/quality/datasets/orders/metrics?metric=row_count').set(admin).expect(200))
      .body.items;
    expect(metrics[0]).toMatchObject({ metric: 'row_count', value: 4, runId: run.id });
  });

  it('masks PII in unexpected samples', async () => {
    const s = await t.http
      .post('/api/quality/suites')
      .set(admin)
      .send({
        name: 'pii_checks',
        dataset: 'orders',
        expectations: [{ type: 'expect_column_values_to_match_regex', kwargs: { column: 'email', regex: '^z' } }],
      })
      .expect(201);
    const run = (await t.http.post(`/api/quality/suites/${s.body.id}/runs`).set(admin).send({}).expect(201)).body;
    expect(run.results[0].sampleUnexpected).toEqual(['***', '***', '***']);
    await t.http.delete(`/api/quality/suites/${s.body.id}`).set(admin).expect(204);
  });

  it('imports and exports GX suite JSON', async () => {
    const gx = {
      name: 'gx_suite',
      expectations: [
        { expectation_type: 'expect_table_row_count_to_be_between', kwargs: { min_value: 1, max_value: 10 } },
      ],
    };
    const imported = (await t.http.post('/api/quality/suites/import?dataset=orders').set(admin).send(gx).expect(201))
      .body;
    expect(imported.expectations[0]).toMatchObject({ type: 'expect_table_row_count_to_be_between', severity: 'error' });
    const out = (await t.http.get(`/api/quality/suites/${imported.id}/gx`).set(admin).expect(200)).body;
    expect(out).toMatchObject({
      name: 'gx_suite',
      expectations: [{ type: 'expect_table_row_count_to_be_between', kwargs: { min_value: 1, max_value: 10 } }],
    });
    await t.http.delete(`/api/quality/suites/${imported.id}`).set(admin).expect(204);
  });

  it("exports only GX's own types as expectations, Weir's under meta.weir.expectations; the export imports back unchanged", async () => {
    const expectations = [
      { type: 'expect_column_values_to_not_be_null', kwargs: { column: 'id' } },
      { type: 'freshness', kwargs: { error_after: '1 day' } },
      { type: 'expect_column_values_to_be_unique', kwargs: { column: 'id' }, severity: 'warn' },
      { type: 'row_count_change_within', kwargs: { max_change_percent: 50 } },
    ];
    const created = (
      await t.http
        .post('/api/quality/suites')
        .set(admin)
        .send({ name: 'mixed', dataset: 'orders', expectations })
        .expect(201)
    ).body;
    const out = (await t.http.get(`/api/quality/suites/${created.id}/gx`).set(admin).expect(200)).body;
    expect(out.expectations.map((e: { type: string }) => e.type)).toEqual([
      'expect_column_values_to_not_be_null',
      'expect_column_values_to_be_unique',
    ]);
    expect(out.meta.weir.expectations).toEqual([
      { index: 1, type: 'freshness', kwargs: { error_after: '1 day' }, meta: { severity: 'error' } },
      { index: 3, type: 'row_count_change_within', kwargs: { max_change_percent: 50 }, meta: { severity: 'error' } },
    ]);
    const back = (
      await t.http.post('/api/quality/suites/import?dataset=orders&name=mixed_again').set(admin).send(out).expect(201)
    ).body;
    expect(
      back.expectations.map((e: { type: string; kwargs: unknown; severity: string; meta?: unknown }) => [
        e.type,
        e.kwargs,
        e.severity,
        e.meta,
      ]),
    ).toEqual(expectations.map((e) => [e.type, e.kwargs, e.severity ?? 'error', undefined]));
    expect(back.meta?.weir).toBeUndefined();
    for (const id of [created.id, back.id]) await t.http.delete(`/api/quality/suites/${id}`).set(admin).expect(204);

    const types = (await t.http.get('/api/quality/expectation-types').set(admin).expect(200)).body.items;
    expect(types.find((x: { type: string }) => x.type === 'freshness')).toMatchObject({
      gx: false,
      kwargs: expect.arrayContaining([expect.objectContaining({ name: 'error_after' })]),
    });
    expect(types.find((x: { type: string }) => x.type === 'expect_column_values_to_be_in_set')).toMatchObject({
      gx: true,
      kwargs: expect.arrayContaining([{ name: 'value_set', required: true, description: expect.any(String) }]),
    });
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    expect(doc.components.schemas.ExpectationDto.properties.type.enum).toEqual(
      expect.arrayContaining(['expect_column_values_to_be_unique', 'custom_sql']),
    );
  });

  it('gate: an error-severity failure on staged rows fails the load with QUALITY.GATE_FAILED and leaves the target untouched', async () => {
    const before = (await pg.query('SELECT id::int, status FROM raw.orders ORDER BY id')).rows;
    files.write('o2.csv', 'id,status,amount,email\n1,weird,10,a@x.io\n5,new,50,e@x.io\n');
    const run = await load('orders_src', 'o2.csv');
    expect(run).toMatchObject({ status: 'failed', error: { code: 'QUALITY.GATE_FAILED' } });
    expect(run.error!.message).toMatch(/expect_column_values_to_be_in_set.*\/api\/quality\/runs\/[0-9a-f-]{36}/);
    expect((await pg.query('SELECT id::int, status FROM raw.orders ORDER BY id')).rows).toEqual(before);
    const qid = /\/api\/quality\/runs\/([0-9a-f-]{36})/.exec(run.error!.message)![1];
    const q = (await t.http.get(`/api/quality/runs/${qid}`).set(admin).expect(200)).body;
    expect(q).toMatchObject({ trigger: 'gate', triggerRef: run.id, status: 'failed' });
  });

  it('gate: a merge whose input repeats a key is checked on the rows it would publish (duplicates settled first)', async () => {
    await t.http.post('/api/catalog/datasets').set(admin).send({ name: 'dup_orders', contract }).expect(201);
    await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({ name: 'dup_src', dataset: 'dup_orders', format: 'csv', strategy: { kind: 'merge', orderBy: 'amount' } })
      .expect(201);
    await t.http
      .post('/api/quality/suites')
      .set(admin)
      .send({
        name: 'dup_unique',
        dataset: 'dup_orders',
        expectations: [{ type: 'expect_column_values_to_be_unique', kwargs: { column: 'id' } }],
      })
      .expect(201);
    files.write('dup.csv', 'id,status,amount,email\n1,new,10,\n1,paid,20,\n2,new,5,\n');
    const run = await load('dup_src', 'dup.csv');
    expect(run).toMatchObject({
      status: 'succeeded',
      rowsRead: 3,
      rowsLoaded: 2,
      rowsDeduplicated: 1,
      rowsRejected: 0,
    });
    expect((await pg.query(`SELECT id::int, status FROM raw.dup_orders ORDER BY id`)).rows).toEqual([
      { id: 1, status: 'paid' },
      { id: 2, status: 'new' },
    ]);
  });

  it('gate: warn-severity failures publish and are reported', async () => {
    await t.http
      .put(`/api/quality/suites/${suiteId}`)
      .set(admin)
      .send({
        name: 'orders_checks',
        dataset: 'orders',
        expectations: [
          {
            type: 'expect_column_values_to_be_in_set',
            kwargs: { column: 'status', value_set: ['new', 'paid'] },
            severity: 'warn',
          },
        ],
      })
      .expect(200);
    files.write('o3.csv', 'id,status,amount,email\n6,odd,60,f@x.io\n');
    const run = await load('orders_src', 'o3.csv');
    expect(run.status).toBe('succeeded');
    expect(run.quality).toMatchObject({ passed: true, failures: [expect.objectContaining({ severity: 'warning' })] });
    expect((await pg.query('SELECT status FROM raw.orders WHERE id = 6')).rows).toEqual([{ status: 'odd' }]);
  });
});

describe("quality e2e: Weir's own checks, anomalies and alerts", () => {
  let t: TestApp;
  let pg: Client;
  let close: () => Promise<void>;
  const received: any[] = [];
  let server: import('node:http').Server;
  let hits = 0;
  beforeAll(async () => {
    const http = await import('node:http');
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        hits++;
        // the first delivery fails: the notifier must retry
        if (hits === 1) {
          res.statusCode = 503;
          res.end();
          return;
        }
        received.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    ({ t, pg, close } = await startIngestionApp({
      WEIR_ALERT_WEBHOOK_URL: `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/hook`,
    }));
    await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({
        name: 'customers',
        contract: { columns: [{ name: 'id', type: 'bigint', nullable: false, primaryKey: true }] },
      })
      .expect(201);
    await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({
        name: 'events',
        contract: {
          columns: [
            { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
            { name: 'customer_id', type: 'bigint', nullable: true },
            { name: 'at', type: 'timestamptz', nullable: false },
          ],
        },
      })
      .expect(201);
    await pg.query(
      `CREATE SCHEMA IF NOT EXISTS raw; CREATE TABLE raw.customers (id bigint PRIMARY KEY); INSERT INTO raw.customers VALUES (1), (2)`,
    );
    await pg.query(`CREATE TABLE raw.events (id bigint PRIMARY KEY, customer_id bigint, at timestamptz NOT NULL)`);
    await pg.query(
      `INSERT INTO raw.events SELECT g, CASE WHEN g % 10 = 0 THEN 99 ELSE 1 END, now() - interval '3 hours' FROM generate_series(1, 100) g`,
    );
  });
  afterAll(async () => {
    await close?.();
    server?.closeAllConnections();
    server?.close();
  });

  it('relationships, freshness, row_count_change_within and custom_sql', async () => {
    const suite = (
      await t.http
        .post('/api/quality/suites')
        .set(admin)
        .send({
          name: 'events_checks',
          dataset: 'events',
          meta: { anomalies: { enabled: false } },
          expectations: [
            { type: 'relationships', kwargs: { column: 'customer_id', to: 'customers', field: 'id' } },
            {
              type: 'freshness',
              kwargs: { column: 'at', warn_after: '1 hour', error_after: { count: 1, period: 'day' } },
            },
            { type: 'row_count_change_within', kwargs: { max_change_percent: 20 } },
            { type: 'custom_sql', kwargs: { sql: 'SELECT id FROM {table} WHERE customer_id > 50' }, severity: 'warn' },
          ],
        })
        .expect(201)
    ).body;
    const r1 = (await t.http.post(`/api/quality/suites/${suite.id}/runs`).set(admin).send({}).expect(201)).body;
    const [rel, fresh, change, custom] = r1.results;
    expect(rel).toMatchObject({
      success: false,
      unexpectedCount: 10,
      sampleUnexpected: [99, 99, 99, 99, 99, 99, 99, 99, 99, 99],
    });
    expect(fresh).toMatchObject({ success: false, severity: 'warn' });
    expect(fresh.observedValue.age_seconds).toBeGreaterThan(3 * 3600 - 60);
    expect(change).toMatchObject({ success: true, observedValue: null });
    expect(custom).toMatchObject({ success: false, severity: 'warn', unexpectedCount: 10 });
    await pg.query(`DELETE FROM raw.events WHERE id > 50`);
    const r2 = (await t.http.post(`/api/quality/suites/${suite.id}/runs`).set(admin).send({}).expect(201)).body;
    expect(r2.results[2]).toMatchObject({ success: false, observedValue: 50 });
    const writes = await t.http
      .post('/api/quality/suites')
      .set(admin)
      .send({
        name: 'evil',
        dataset: 'events',
        expectations: [{ type: 'custom_sql', kwargs: { sql: 'SELECT 1; DROP TABLE raw.events' } }],
      })
      .expect(400);
    expect(writes.body.errors[0]).toMatch(/one statement/);
  });

  it('flags an anomaly with its expected band once there is history, and alerts through the webhook (retried)', async () => {
    const suite = (
      await t.http
        .post('/api/quality/suites')
        .set(admin)
        .send({ name: 'cust_volume', dataset: 'customers', expectations: [] })
        .expect(201)
    ).body;
    for (let i = 0; i < 5; i++) {
      await pg.query(`INSERT INTO raw.customers VALUES (${100 + i})`);
      const r = (await t.http.post(`/api/quality/suites/${suite.id}/runs`).set(admin).send({}).expect(201)).body;
      expect(r.status).toBe('passed');
    }
    await pg.query(`INSERT INTO raw.customers SELECT g FROM generate_series(1000, 1500) g`);
    const spike = (await t.http.post(`/api/quality/suites/${suite.id}/runs`).set(admin).send({}).expect(201)).body;
    expect(spike.status).toBe('warned');
    const anomaly = spike.results.find((r: { type: string }) => r.type === 'anomaly');
    expect(anomaly).toMatchObject({
      success: false,
      severity: 'warn',
      kwargs: { metric: 'row_count' },
      observedValue: 508,
    });
    const stored = await pg.query(
      `SELECT evidence FROM quality.results WHERE run_id = $1 AND expectation_type = 'anomaly'`,
      [spike.id],
    );
    expect(stored.rows[0].evidence.details.expected_band[1]).toBeLessThan(508);
    for (let i = 0; i < 50 && !received.some((a) => a.runId === spike.id); i++)
      await new Promise((r) => setTimeout(r, 100));
    const alert = received.find((a) => a.runId === spike.id);
    expect(alert).toMatchObject({
      type: 'quality.run.warned',
      dataset: 'customers',
      anomalies: expect.arrayContaining([expect.objectContaining({ metric: 'row_count', value: 508 })]),
    });
    // profile metrics ride along: the mean and max of id jumped too
    expect(alert.anomalies.map((a: { metric: string }) => a.metric)).toEqual(expect.arrayContaining(['max(id)']));
    expect(hits).toBeGreaterThanOrEqual(2);
  });
});
