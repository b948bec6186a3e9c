import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { BuildView, ModelingService } from '@weir/modeling';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, tempDataDir } from './support/files';

/**
 * dbt projects as dbt-postgres runs them, over REST: a project with macros, a local package and
 * dbt's cross-database macros registers (the first compiler cannot render it; the dbt runtime
 * parses it), a build with `command` runs dbt's command over dbt's selection, each node (tests
 * included) a step with its dbt result, its artifacts served, cancel and failures as dbt reports them.
 */
describe('modeling e2e: dbt builds (command, selection, artifacts)', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let close: () => Promise<void>;
  const write = (f: string, s: string) => {
    const p = path.join(files.dir, 'projects', f);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, s);
  };
  const dbtBuild = async (body: Record<string, unknown>): Promise<BuildView> => {
    const b = await t.http
      .post('/api/modeling/builds')
      .set(admin)
      .send({ project: 'shop', ...body })
      .expect(202);
    expect(b.body.command).toBe(body['command']);
    return t.app.get(ModelingService).waitForBuild(b.body.id, 120_000);
  };

  beforeAll(async () => {
    ({ t, files, pg, close } = await startIngestionApp());
    write('utils_pkg/dbt_project.yml', 'name: utils_pkg\n');
    write(
      'utils_pkg/macros/cents.sql',
      "{% macro to_dollars(col) %}{{ return(adapter.dispatch('to_dollars', 'utils_pkg')(col)) }}{% endmacro %}\n" +
        '{% macro default__to_dollars(col) %}({{ col }} / 100.0){% endmacro %}\n',
    );
    write(
      'shop/dbt_project.yml',
      'name: shop\nvars:\n  min_amount: 0\nmodels:\n  shop:\n    marts:\n      +materialized: table\n',
    );
    write('shop/packages.yml', 'packages:\n  - local: ../utils_pkg\n');
    write(
      'shop/seeds/raw_orders.csv',
      'id,customer,amount_cents,status\n1,a,1000,placed\n2,b,250,shipped\n3,a,99,placed\n',
    );
    write(
      'shop/macros/status_list.sql',
      "{% macro status_list() %}{% set l = ['placed', 'shipped',] %}{{ return(l) }}{% endmacro %}\n" +
        '{% test is_positive(model, column_name) %}select * from {{ model }} where {{ column_name }} <= 0{% endtest %}\n',
    );
    write(
      'shop/models/staging/stg_orders.sql',
      "select id, customer, {{ utils_pkg.to_dollars('amount_cents') }} as amount, status,\n" +
        "  {{ dbt.concat(['customer', \"'-'\", 'status']) }} as label\nfrom {{ ref('raw_orders') }}\nwhere amount_cents >= {{ var('min_amount') }}\n",
    );
    write(
      'shop/models/marts/customers.sql',
      "{% set statuses = status_list() %}\nselect customer, count(*) as orders, sum(amount) as amount\nfrom {{ ref('stg_orders') }}\nwhere status in ({% for s in statuses %}'{{ s }}'{% if not loop.last %}, {% endif %}{% endfor %})\ngroup by customer\n",
    );
    write(
      'shop/models/schema.yml',
      'version: 2\nmodels:\n  - name: customers\n    columns:\n      - name: customer\n        data_tests: [unique, not_null]\n      - name: orders\n        data_tests:\n          - is_positive\n',
    );
    await t.http.post('/api/modeling/projects').set(admin).send({ path: 'shop' }).expect(201);
  });
  afterAll(() => close?.());

  it('registers a project with macros and a local package, and lists its nodes', async () => {
    const p = await t.http.get('/api/modeling/projects/shop').set(admin).expect(200);
    expect(p.body.nodes.map((n: { id: string }) => n.id).sort()).toEqual(
      ['model.customers', 'model.stg_orders', 'seed.raw_orders'].sort(),
    );
  });

  it('runs dbt build: seeds, models and tests in DAG order, each a step with its dbt result, artifacts served', async () => {
    const b = await dbtBuild({ command: 'build' });
    expect(b.status).toBe('succeeded');
    expect(b.steps.map((s) => s.node)).toEqual([
      'seed.shop.raw_orders',
      'model.shop.stg_orders',
      'model.shop.customers',
      expect.stringMatching(/^test\.shop\.is_positive_customers_orders\./),
      expect.stringMatching(/^test\.shop\.not_null_customers_customer\./),
      expect.stringMatching(/^test\.shop\.unique_customers_customer\./),
    ]);
    expect(b.steps.every((s) => s.status === 'succeeded')).toBe(true);
    expect((b.steps[0].refs as { dbt: { status: string } }).dbt.status).toBe('success');
    const rows = (await pg.query(`select customer, orders::int, amount::float from analytics.customers order by 1`))
      .rows;
    expect(rows).toEqual([
      { customer: 'a', orders: 2, amount: 10.99 },
      { customer: 'b', orders: 1, amount: 2.5 },
    ]);
    const label = (await pg.query(`select label from analytics.stg_orders where id = 1`)).rows[0].label;
    expect(label).toBe('a-placed');
    const rr = await t.http.get(`/api/modeling/builds/${b.id}/artifacts/run_results.json`).set(admin).expect(200);
    expect(rr.body.metadata.dbt_schema_version).toBe('https://schemas.getdbt.com/dbt/run-results/v6.json');
    expect(rr.body.results).toHaveLength(6);
    const mf = await t.http.get(`/api/modeling/builds/${b.id}/artifacts/manifest.json`).set(admin).expect(200);
    expect(mf.body.metadata.dbt_schema_version).toBe('https://schemas.getdbt.com/dbt/manifest/v12.json');
    expect(mf.body.parent_map['model.shop.customers']).toEqual(['model.shop.stg_orders']);
    const missing = await t.http.get(`/api/modeling/builds/${b.id}/artifacts/catalog.json`).set(admin).expect(404);
    expect(missing.body.code).toBe('MODELING.ARTIFACT_NOT_FOUND');
  });

  it("selects as dbt does (graph operators, exclude, vars) and reports a failing test as dbt's fail", async () => {
    const b = await dbtBuild({
      command: 'run',
      select: '+customers',
      exclude: 'stg_orders',
      vars: { min_amount: 200 },
    });
    expect(b.steps.map((s) => s.node)).toEqual(['model.shop.customers']);
    expect(b.status).toBe('succeeded');
    const t2 = await dbtBuild({ command: 'run', select: 'stg_orders', vars: { min_amount: 200 } });
    expect(t2.status).toBe('succeeded');
    expect((await pg.query(`select count(*)::int as n from analytics.stg_orders`)).rows[0].n).toBe(2);
    // a row the custom test refuses
    await pg.query(`insert into analytics.customers values ('z', 0, 0)`);
    const test = await dbtBuild({ command: 'test', select: 'customers' });
    expect(test.status).toBe('failed');
    const failed = test.steps.find((s) => s.node.includes('is_positive'))!;
    expect(failed.status).toBe('failed');
    expect(failed.errorCode).toBe('MODELING.TEST_FAILED');
    expect((failed.refs as { dbt: { status: string; failures: number } }).dbt).toMatchObject({
      status: 'fail',
      failures: 1,
    });
  });

  it("Weir's own build audits a model with its custom generic tests too (custom_sql), refusing the swap when one fails", async () => {
    const ok = await t.http.post('/api/modeling/builds').set(admin).send({ project: 'shop' }).expect(202);
    const b = await t.app.get(ModelingService).waitForBuild(ok.body.id, 120_000);
    expect(b.steps.filter((s) => s.status !== 'succeeded')).toEqual([]);
    const suites = await t.http.get('/api/quality/suites').set(admin).expect(200);
    const suite = (suites.body.items ?? suites.body).find((x: { name: string }) => x.name === 'dbt:shop:customers');
    expect(suite).toBeDefined();
    const full = await t.http.get(`/api/quality/suites/${suite.id}`).set(admin).expect(200);
    const types = full.body.expectations.map((e: { type: string }) => e.type).sort();
    expect(types).toEqual(
      ['custom_sql', 'expect_column_values_to_be_unique', 'expect_column_values_to_not_be_null'].sort(),
    );
    // a customer with no positive orders fails is_positive: the new customers is not swapped in
    write(
      'shop/models/marts/customers.sql',
      "select customer, 0 as orders, 0 as amount from {{ ref('stg_orders') }} group by customer\n",
    );
    const bad = await t.http
      .post('/api/modeling/builds')
      .set(admin)
      .send({ project: 'shop', select: 'customers' })
      .expect(202);
    const failed = await t.app.get(ModelingService).waitForBuild(bad.body.id, 120_000);
    expect(failed.status).toBe('failed');
    expect((await pg.query(`select min(orders)::int as m from analytics.customers`)).rows[0].m).toBeGreaterThan(0);
  });

  it('lists builds newest first with their step counts, by project and status, page by page', async () => {
    const all = await t.http.get('/api/modeling/builds?project=shop&limit=2').set(admin).expect(200);
    expect(all.body.items).toHaveLength(2);
    expect(all.body.items[0].startedAt >= all.body.items[1].startedAt).toBe(true);
    expect(all.body.items[0].steps.total).toBeGreaterThan(0);
    const next = await t.http
      .get(`/api/modeling/builds?project=shop&limit=2&before=${encodeURIComponent(all.body.next)}`)
      .set(admin)
      .expect(200);
    expect(next.body.items.every((b: { startedAt: string }) => b.startedAt < all.body.items[1].startedAt)).toBe(true);
    const failed = await t.http.get('/api/modeling/builds?status=failed').set(admin).expect(200);
    expect(failed.body.items.length).toBeGreaterThan(0);
    expect(failed.body.items.every((b: { status: string }) => b.status === 'failed')).toBe(true);
    const bad = await t.http.get('/api/modeling/builds?status=nope').set(admin).expect(400);
    expect(bad.headers['content-type']).toMatch(/problem\+json/);
  });

  it('refuses a bad selector and a bad command with problem+json', async () => {
    const bad = await t.http
      .post('/api/modeling/builds')
      .set(admin)
      .send({ project: 'shop', command: 'run', select: 'nosuchmethod:x' })
      .expect(400);
    expect(bad.body.code).toBe('MODELING.BAD_SELECTOR');
    const cmd = await t.http
      .post('/api/modeling/builds')
      .set(admin)
      .send({ project: 'shop', command: 'drop' })
      .expect(400);
    expect(cmd.headers['content-type']).toMatch(/problem\+json/);
  });
});
