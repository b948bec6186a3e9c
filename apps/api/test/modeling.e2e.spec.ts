import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { ModelingService } from '@weir/modeling';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, tempDataDir } from './support/files';

const JAFFLE = path.resolve(__dirname, '../../../../shared/corpora/jaffle_shop');
const haveJaffle = fs.existsSync(path.join(JAFFLE, 'dbt_project.yml'));
if (!haveJaffle) process.stderr.write(`modeling e2e: ${JAFFLE} not found, the jaffle_shop tests are skipped\n`);

(haveJaffle ? describe : describe.skip)(
  'modeling e2e: jaffle_shop imported unchanged, built, audited by its schema.yml tests',
  () => {
    let t: TestApp;
    let files: ReturnType<typeof tempDataDir>;
    let pg: Client;
    let close: () => Promise<void>;
    const build = async (body: Record<string, unknown>) => {
      const started = await t.http.post('/api/modeling/builds').set(admin).send(body).expect(202);
      return t.app.get(ModelingService).waitForBuild(started.body.id, 120_000);
    };
    beforeAll(async () => {
      ({ t, files, pg, close } = await startIngestionApp());
      // the corpus is copied into this test's own projects root (never into the repository)
      fs.cpSync(JAFFLE, path.join(files.dir, 'projects', 'jaffle_shop'), { recursive: true });
    });
    afterAll(() => close?.());

    it('registers the project: 3 seeds, 5 models, the DAG in build order; compiled SQL is visible', async () => {
      const p = (await t.http.post('/api/modeling/projects').set(admin).send({ path: 'jaffle_shop' }).expect(201)).body;
      expect(p.name).toBe('jaffle_shop');
      expect(p.nodes.filter((n: { kind: string }) => n.kind === 'seed')).toHaveLength(3);
      expect(p.nodes.filter((n: { kind: string }) => n.kind === 'model')).toHaveLength(5);
      expect(p.order.indexOf('model.stg_orders')).toBeLessThan(p.order.indexOf('model.orders'));
      const c = (await t.http.get('/api/modeling/models/orders/compiled').set(admin).expect(200)).body;
      expect(c).toMatchObject({ project: 'jaffle_shop', relation: '"analytics"."orders"', materialized: 'table' });
      expect(c.sql).toContain(
        "sum(case when payment_method = 'credit_card' then amount else 0 end) as credit_card_amount",
      );
      expect(c.sql).toContain('from "analytics"."stg_orders"');
    });

    it('builds everything: seeds through ingestion, views and tables audited and swapped', async () => {
      const b = await build({ project: 'jaffle_shop' });
      expect(b.status).toBe('succeeded');
      expect(b.steps.map((s) => s.status)).toEqual(Array(8).fill('succeeded'));
      expect(b.steps.find((s) => s.node === 'seed.raw_customers')).toMatchObject({
        rowsAffected: 100,
        refs: { ingestionRun: expect.any(String) },
      });
      expect(b.steps.find((s) => s.node === 'model.customers')).toMatchObject({
        rowsAffected: 100,
        refs: { qualityRuns: [expect.any(String)] },
      });
      const counts = (
        await pg.query(
          `SELECT (SELECT count(*) FROM analytics.customers)::int AS c, (SELECT count(*) FROM analytics.orders)::int AS o, (SELECT sum(amount) FROM analytics.orders)::text AS total`,
        )
      ).rows[0];
      expect(counts).toEqual({ c: 100, o: 99, total: '1672' });
      const orders = (await t.http.get('/api/catalog/datasets/orders').set(admin).expect(200)).body;
      // {{ doc("orders_status") }} in schema.yml, rendered from models/docs.md
      expect(orders.contract.columns.find((c: { name: string }) => c.name === 'status').description).toMatch(
        /^Orders can be one of the following statuses/,
      );
      const ds = (await t.http.get('/api/catalog/datasets/customers').set(admin).expect(200)).body;
      expect(ds).toMatchObject({ schema: 'analytics', table: 'customers', rowCount: 100 });
      expect(ds.contract.columns.map((c: { name: string }) => c.name)).toEqual([
        'customer_id',
        'first_name',
        'last_name',
        'first_order',
        'most_recent_order',
        'number_of_orders',
        'customer_lifetime_value',
      ]);
      const qr = (
        await t.http
          .get(`/api/quality/runs/${b.steps.find((s) => s.node === 'model.orders')!.refs!['qualityRuns']![0 as never]}`)
          .set(admin)
          .expect(200)
      ).body;
      expect(qr).toMatchObject({ status: 'passed', trigger: 'gate' });
      expect(qr.results.map((r: { type: string }) => r.type)).toEqual(
        expect.arrayContaining([
          'expect_column_values_to_be_unique',
          'relationships',
          'expect_column_values_to_be_in_set',
        ]),
      );
    });

    it('rebuilds idempotently (seeds replace rows under their dependent views)', async () => {
      const b = await build({ project: 'jaffle_shop' });
      expect(b.status).toBe('succeeded');
      expect((await pg.query(`SELECT count(*)::int AS n FROM analytics.stg_orders`)).rows[0].n).toBe(99);
    });

    it('a failed audit keeps the old version live and skips descendants; selection picks parents', async () => {
      await t.http
        .post('/api/quality/suites')
        .set(admin)
        .send({
          name: 'impossible',
          dataset: 'stg_customers',
          expectations: [{ type: 'expect_table_row_count_to_equal', kwargs: { value: 5 } }],
        })
        .expect(201);
      const b = await build({ project: 'jaffle_shop', select: 'stg_customers+' });
      expect(b.status).toBe('failed');
      expect(b.steps.find((s) => s.node === 'model.stg_customers')).toMatchObject({
        status: 'failed',
        error: expect.stringMatching(/audit failed, the old version stays live/),
      });
      expect(b.steps.find((s) => s.node === 'model.customers')).toMatchObject({ status: 'skipped' });
      expect((await pg.query(`SELECT count(*)::int AS n FROM analytics.stg_customers`)).rows[0].n).toBe(100);
      const plus = await build({ project: 'jaffle_shop', select: '+stg_payments' });
      expect(plus.steps.map((s) => s.node)).toEqual(['seed.raw_payments', 'model.stg_payments']);
    });

    it('refuses a project that does not compile, naming the file and line', async () => {
      const dir = path.join(files.dir, 'projects', 'broken');
      fs.mkdirSync(path.join(dir, 'models'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'dbt_project.yml'), 'name: broken\n');
      fs.writeFileSync(path.join(dir, 'models', 'm.sql'), "select 1\nfrom {{ ref('nowhere') }}");
      const r = await t.http.post('/api/modeling/projects').set(admin).send({ path: 'broken' }).expect(400);
      expect(r.body).toMatchObject({ code: 'MODELING.COMPILE_FAILED' });
      expect(r.body.detail).toMatch(/^models\/m\.sql:2: /);
      expect(
        (await t.http.post('/api/modeling/projects').set(admin).send({ path: '../../etc' }).expect(400)).body.code,
      ).toBe('MODELING.PATH_OUTSIDE_ROOT');
    });
  },
);
