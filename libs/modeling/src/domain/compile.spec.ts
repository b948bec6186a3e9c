import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { auditParents, compileProject, CompileError, DagCycleError, select } from './compile';
import { folderConfig, loadProject, ProjectError } from './project';

function project(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-dbt-'));
  for (const [f, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), content);
  }
  return dir;
}

const BASE = {
  'dbt_project.yml':
    'name: shop\nmodels:\n  shop:\n    materialized: table\n    staging:\n      +materialized: view\n      +tags: [staging]\n',
  'seeds/raw_orders.csv': 'id,amount\n1,100\n',
  'models/staging/stg_orders.sql': "select id as order_id, amount / 100.0 as amount from {{ ref('raw_orders') }}",
  'models/orders.sql':
    "{{ config(tags=['finance']) }}\n{% set methods = ['a', 'b'] %}\nselect order_id,\n{% for m in methods -%}\n  0 as {{ m }}_amount,\n{% endfor -%}\n  amount\nfrom {{ ref('stg_orders') }}",
  'models/eph.sql': "{{ config(materialized='ephemeral') }}\nselect order_id from {{ ref('stg_orders') }}",
  'models/uses_eph.sql': "select count(*) from {{ ref('eph') }}",
  'models/schema.yml': 'version: 2\nmodels:\n  - name: orders\n    config:\n      schema: finance\n',
};

describe('dbt project compiler', () => {
  it('resolves configs by folder, YAML and config(), renders Jinja and orders the DAG', () => {
    const p = compileProject(loadProject(project(BASE)));
    const orders = p.nodes.get('model.orders')!;
    expect(orders).toMatchObject({
      materialized: 'table',
      schema: 'finance',
      table: 'orders',
      relation: '"finance"."orders"',
      tags: ['finance'],
      dependsOn: ['model.stg_orders'],
    });
    expect(
      compileProject(
        loadProject(project({ ...BASE, 'models/aliased.sql': "{{ config(alias='Orders 2024') }}\nselect 1 as x" })),
      ).nodes.get('model.aliased'),
    ).toMatchObject({
      table: 'Orders 2024',
      relation: '"marts"."Orders 2024"',
    });
    expect(orders.compiledSql).toBe(
      'select order_id,\n0 as a_amount,\n0 as b_amount,\namount\nfrom "marts"."stg_orders"',
    );
    expect(p.nodes.get('model.stg_orders')).toMatchObject({
      materialized: 'view',
      tags: ['staging'],
      compiledSql: 'select id as order_id, amount / 100.0 as amount from "raw"."raw_orders"',
    });
    expect(p.order.indexOf('seed.raw_orders')).toBeLessThan(p.order.indexOf('model.stg_orders'));
    expect(p.order.indexOf('model.stg_orders')).toBeLessThan(p.order.indexOf('model.orders'));
    expect(p.nodes.get('model.uses_eph')!.compiledSql).toBe(
      'with __dbt__cte__eph as (\nselect order_id from "marts"."stg_orders"\n)\nselect count(*) from __dbt__cte__eph',
    );
  });

  it('selects like dbt: name, +name, name+, tag:', () => {
    const p = compileProject(loadProject(project(BASE)));
    expect(select(p, 'orders')).toEqual(['model.orders']);
    expect(select(p, '+orders')).toEqual(['seed.raw_orders', 'model.stg_orders', 'model.orders']);
    expect(select(p, 'stg_orders+')).toEqual(
      expect.arrayContaining(['model.stg_orders', 'model.orders', 'model.eph', 'model.uses_eph']),
    );
    expect(select(p, 'tag:staging')).toEqual(['model.stg_orders']);
    expect(() => select(p, 'nope')).toThrow(/matches no node/);
  });

  it('refuses template escapes to JavaScript and project paths outside the project', () => {
    for (const sql of [
      `select '{{ range.constructor("return process.pid")() }}' as x`,
      `{% set f = range %}select '{{ f["constructor"]("return 1")() }}'`,
      `select '{{ "".__proto__ }}'`,
    ]) {
      const dir = project({ 'dbt_project.yml': 'name: evil\n', 'models/m.sql': sql });
      expect(() => compileProject(loadProject(dir))).toThrow(/Templates may not access/);
    }
    const outside = project({
      'dbt_project.yml': "name: evil\nmodel-paths: ['models', '../..']\n",
      'models/m.sql': 'select 1',
    });
    expect(() => loadProject(outside)).toThrow(ProjectError);
    expect(() => loadProject(outside)).toThrow(/model-paths "\.\.\/\.\." is outside the project/);
    const abs = project({ 'dbt_project.yml': "name: evil\nseed-paths: ['/etc']\n", 'models/m.sql': 'select 1' });
    expect(() => loadProject(abs)).toThrow(/seed-paths "\/etc" is outside the project/);
    const link = project({ 'dbt_project.yml': "name: evil\nsnapshot-paths: ['snaps']\n", 'models/m.sql': 'select 1' });
    fs.symlinkSync(os.tmpdir(), path.join(link, 'snaps'));
    expect(() => loadProject(link)).toThrow(/snapshot-paths "snaps" leads outside the project/);
  });

  it('+name also selects the models its relationships tests read (its audit needs them built)', () => {
    const dir = project({
      'dbt_project.yml': 'name: rel\n',
      'models/dim.sql': 'select 1 as id',
      'models/src.sql': 'select 1 as id',
      'models/fct.sql': "select id as dim_id from {{ ref('src') }}",
      'models/schema.yml':
        "version: 2\nmodels:\n  - name: fct\n    columns:\n      - name: dim_id\n        tests:\n          - relationships:\n              to: ref('dim')\n              field: id\n",
    });
    const p = loadProject(dir);
    const c = compileProject(p);
    expect(select(c, '+fct', auditParents(p, c)).sort()).toEqual(['model.dim', 'model.fct', 'model.src']);
    expect(select(c, '+fct').sort()).toEqual(['model.fct', 'model.src']);
    expect(select(c, 'fct', auditParents(p, c))).toEqual(['model.fct']);
  });

  it('names a cycle', () => {
    const dir = project({
      'dbt_project.yml': 'name: c\n',
      'models/a.sql': "select * from {{ ref('b') }}",
      'models/b.sql': "select * from {{ ref('c') }}",
      'models/c.sql': "select * from {{ ref('a') }}",
    });
    expect(() => compileProject(loadProject(dir))).toThrow(DagCycleError);
    expect(() => compileProject(loadProject(dir))).toThrow(
      /cycle: model\.(a|b|c) -> model\.(a|b|c) -> model\.(a|b|c) -> model\.(a|b|c)/,
    );
  });

  it('fails with the file and line on unsupported Jinja or an unknown ref', () => {
    const unsupported = project({
      'dbt_project.yml': 'name: u\n',
      'models/m.sql': 'select 1\n{{ adapter.get_columns_in_relation(this) }}',
    });
    expect(() => compileProject(loadProject(unsupported))).toThrow(CompileError);
    expect(() => compileProject(loadProject(unsupported))).toThrow(/^models\/m\.sql:2: /);
    const unknownRef = project({ 'dbt_project.yml': 'name: u\n', 'models/m.sql': "select 1\nfrom {{ ref('ghost') }}" });
    expect(() => compileProject(loadProject(unknownRef))).toThrow(
      /models\/m\.sql:2: .*ref\('ghost'\) names no model or seed/,
    );
    const badSyntax = project({ 'dbt_project.yml': 'name: u\n', 'models/m.sql': 'select 1\n{% if %}' });
    expect(() => compileProject(loadProject(badSyntax))).toThrow(/^models\/m\.sql:2: /);
  });

  it('refuses a project without dbt_project.yml or with two nodes of one name', () => {
    expect(() => loadProject(project({ 'models/a.sql': 'select 1' }))).toThrow(ProjectError);
    expect(() =>
      loadProject(
        project({ 'dbt_project.yml': 'name: d\n', 'models/a.sql': 'select 1', 'models/x/a.sql': 'select 2' }),
      ),
    ).toThrow(/two nodes are named "a"/);
  });

  it('reads hierarchical configs with and without the + prefix', () => {
    const tree = {
      p: {
        materialized: 'table',
        meta: { owner: 'x' },
        staging: { '+materialized': 'view', deep: { tags: ['d'] } },
        marts: { materialized: 'incremental' },
      },
    };
    expect(folderConfig(tree, 'p', [])).toEqual({ materialized: 'table', meta: { owner: 'x' } });
    expect(folderConfig(tree, 'p', ['staging', 'deep'])).toEqual({
      materialized: 'view',
      meta: { owner: 'x' },
      tags: ['d'],
    });
  });
});

describe('template rendering is bounded (an uploaded project cannot hold the process)', () => {
  const compile = (sql: string) => () =>
    compileProject(loadProject(project({ 'dbt_project.yml': 'name: t\n', 'models/hostile.sql': sql })));
  it.each([
    [
      'a range of 100 million',
      '{% for i in range(0, 100000000) %}{% endfor %}select 1',
      /hostile\.sql.*range\(\) of 100000000 items/s,
    ],
    [
      'nested loops of 10^10 iterations',
      '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}select 1',
      /hostile\.sql.*more than 1000000 loop iterations/s,
    ],
    ['endless macro recursion', '{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}', /hostile\.sql/],
    [
      'output of over 20 MB',
      '{% set s = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" %}{% for i in range(100000) %}{% for j in range(3) %}{{ s }}{{ s }}{{ s }}{% endfor %}{% endfor %}',
      /hostile\.sql.*more than 20971520 characters/s,
    ],
  ])('%s fails fast with an error naming the model', (_what, sql, message) => {
    const t0 = Date.now();
    expect(compile(sql)).toThrow(message);
    expect(Date.now() - t0).toBeLessThan(8000);
  });
  it('an ordinary loop renders as before', () => {
    const p = compileProject(
      loadProject(
        project({
          'dbt_project.yml': 'name: t\n',
          'models/m.sql': "select {% for i in range(3) %}{{ i }} as c{{ i }}{{ ',' if not loop.last }}{% endfor %}",
        }),
      ),
    );
    expect(p.nodes.get('model.m')!.compiledSql).toBe('select 0 as c0,1 as c1,2 as c2');
  });
});
