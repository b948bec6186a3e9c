/**
 * The dbt runtime on small projects against real PostgreSQL: packages and dispatch, the Jinja
 * context dbt gives models, hooks, and dbt's error messages.
 */
import { byName, dbtFixture, projectYml, statuses, type DbtFixture } from './dbt-project-fixture';

jest.setTimeout(60_000);

let fx: DbtFixture;
beforeAll(async () => {
  fx = await dbtFixture('weir_dbtrt');
});
afterAll(async () => {
  await fx?.close();
});

describe('packages and dispatch', () => {
  it('calls a local package’s macros by namespace, dispatches to the root override, refs a package model', async () => {
    const p = fx.project(
      {
        'dbt_project.yml': projectYml(
          'root_proj',
          `dispatch:\n  - macro_namespace: my_pkg\n    search_order: ['root_proj', 'my_pkg']\nmodels:\n  my_pkg:\n    +materialized: table\nvars:\n  my_pkg:\n    pkg_var: from_root\n`,
        ),
        'packages.yml': `packages:\n  - local: ../my_pkg\n`,
        'macros/overrides.sql': `{% macro default__greet() %}'root'{% endmacro %}`,
        'models/uses_pkg.sql': `select {{ my_pkg.add_one(1) }} as v, {{ my_pkg.greet() }} as g, {{ my_pkg.plain_greet() }} as pg, id from {{ ref('pkg_model') }}`,
        '../my_pkg/dbt_project.yml': projectYml(
          'my_pkg',
          `models:\n  my_pkg:\n    +materialized: view\n    +tags: [from_pkg]\nvars:\n  pkg_var: pkg_default\n  other_var: pkg_other\n`,
        ),
        '../my_pkg/macros/m.sql': [
          `{% macro add_one(x) %}({{ x }} + 1){% endmacro %}`,
          `{% macro greet() %}{{ return(adapter.dispatch('greet', 'my_pkg')()) }}{% endmacro %}`,
          `{% macro default__greet() %}'pkg'{% endmacro %}`,
          `{% macro plain_greet() %}{{ return(adapter.dispatch('plain', 'my_pkg')()) }}{% endmacro %}`,
          `{% macro default__plain() %}'pkg_plain'{% endmacro %}`,
        ].join('\n'),
        '../my_pkg/models/pkg_model.sql': `select 7 as id, '{{ var("pkg_var") }}' as pv, '{{ var("other_var") }}' as ov`,
      },
      { name: 'root_proj' },
    );
    const r = await p.dbt(['run']);
    expect(r.error).toBeUndefined();
    expect(statuses(r)).toEqual({ pkg_model: 'success', uses_pkg: 'success' });
    expect(byName(r, 'pkg_model').unique_id).toBe('model.my_pkg.pkg_model');
    expect(await p.rows(`select * from ${p.schema}.uses_pkg`)).toEqual([{ v: 2, g: 'root', pg: 'pkg_plain', id: 7 }]);
    // the root project's configs and vars win over the package's own
    expect(await p.rows(`select * from ${p.schema}.pkg_model`)).toEqual([{ id: 7, pv: 'from_root', ov: 'pkg_other' }]);
    expect(await p.col(`select table_type from information_schema.tables where table_name = 'pkg_model'`)).toEqual([
      'BASE TABLE',
    ]);
    expect((await p.dbt(['ls', '-s', 'tag:from_pkg'])).output).toEqual(['my_pkg.pkg_model']);
    const manifest = p.artifact('manifest.json') as {
      macros: Record<string, unknown>;
      parent_map: Record<string, string[]>;
    };
    expect(Object.keys(manifest.macros)).toEqual(
      expect.arrayContaining(['macro.my_pkg.add_one', 'macro.root_proj.default__greet']),
    );
    expect(manifest.parent_map['model.root_proj.uses_pkg']).toEqual(['model.my_pkg.pkg_model']);
  });
});

describe('the Jinja context', () => {
  it('target, this, var precedence, env_var, invocation_id, run_started_at, modules', async () => {
    const p = fx.project({
      'dbt_project.yml': projectYml('ctx', `vars:\n  a: project_a\n  b: project_b\n`),
      'models/ctx.sql': [
        `{{ config(materialized='table') }}`,
        `select '{{ target.name }}' as t_name, '{{ target.schema }}' as t_schema, '{{ target.database }}' as t_db,`,
        ` '{{ target.type }}' as t_type, {{ target.threads }} as t_threads,`,
        ` '{{ this.identifier }}' as this_id, '{{ this.schema }}' as this_schema, '{{ this }}' as this_full,`,
        ` '{{ var("a") }}' as va, '{{ var("b") }}' as vb, '{{ var("c", "default_c") }}' as vc,`,
        ` '{{ env_var("WEIR_X") }}' as ex, '{{ env_var("WEIR_MISSING", "fallback") }}' as ey,`,
        ` '{{ invocation_id }}' as inv, '{{ run_started_at.strftime("%Y") }}' as yr,`,
        ` '{{ modules.datetime.date(2024, 2, 3).isoformat() }}' as d,`,
        ` '{{ modules.re.sub("[0-9]+", "N", "a12b3") }}' as re_sub`,
      ].join('\n'),
    });
    const r = await p.dbt(['run', '--vars', '{a: cli_a}'], { WEIR_X: 'from_env' });
    expect(r.error).toBeUndefined();
    expect(statuses(r)).toEqual({ ctx: 'success' });
    const [row] = await p.rows(`select * from ${p.schema}.ctx`);
    expect(row).toMatchObject({
      t_name: 'dev',
      t_schema: p.schema,
      t_db: fx.db.name,
      t_type: 'postgres',
      t_threads: 4,
      this_id: 'ctx',
      this_schema: p.schema,
      this_full: `"${fx.db.name}"."${p.schema}"."ctx"`,
      va: 'cli_a',
      vb: 'project_b',
      vc: 'default_c',
      ex: 'from_env',
      ey: 'fallback',
      yr: String(new Date().getUTCFullYear()),
      d: '2024-02-03',
      re_sub: 'aNbN',
    });
    expect(row['inv']).toMatch(/^[0-9a-f-]{36}$/);
    expect((p.artifact('run_results.json') as { metadata: { invocation_id: string } }).metadata.invocation_id).toBe(
      row['inv'],
    );
  });

  it('Jinja in YAML and dbt_project.yml, generate_schema_name overridden in the project', async () => {
    const p = fx.project({
      'dbt_project.yml': projectYml(
        'yamljinja',
        `models:\n  yamljinja:\n    custom:\n      +schema: "{{ 'custom' }}"\n    off:\n      +enabled: "{{ target.name == 'prod' }}"\n`,
      ),
      'models/custom/in_custom.sql': `select 1 as x`,
      'models/sources.yml': `version: 2\nsources:\n  - name: raw\n    schema: "{{ target.schema }}_raw"\n    tables:\n      - name: events\n`,
      'models/from_source.sql': `select * from {{ source('raw', 'events') }}`,
      'models/off/off_by_folder.sql': `select 1 as x`,
      'models/off_by_yaml.sql': `select 1 as x`,
      'models/props.yml': `version: 2\nmodels:\n  - name: off_by_yaml\n    config:\n      enabled: "{{ target.name != 'dev' }}"\n`,
    });
    await fx.client.query(`create schema ${p.schema}_raw; create table ${p.schema}_raw.events as select 1 as e`);
    let r = await p.dbt(['run']);
    expect(r.error).toBeUndefined();
    expect(statuses(r)).toEqual({ in_custom: 'success', from_source: 'success' });
    expect(await p.col(`select x from ${p.schema}_custom.in_custom`)).toEqual([1]);
    expect(await p.col(`select e from ${p.schema}.from_source`)).toEqual([1]);
    // a rendered False is false (dbt renders YAML natively): both models are disabled
    const manifest = p.artifact('manifest.json') as { disabled: Record<string, unknown> };
    expect(Object.keys(manifest.disabled).sort()).toEqual([
      'model.yamljinja.off_by_folder',
      'model.yamljinja.off_by_yaml',
    ]);
    // the project's own generate_schema_name: the custom schema verbatim
    p.write({
      'macros/gsn.sql': `{% macro generate_schema_name(custom_schema_name, node) -%}{{ custom_schema_name ~ '_' ~ target.schema if custom_schema_name else target.schema }}{%- endmacro %}`,
    });
    r = await p.dbt(['run', '-s', 'in_custom']);
    expect(statuses(r)).toEqual({ in_custom: 'success' });
    expect(await p.col(`select x from custom_${p.schema}.in_custom`)).toEqual([1]);
  });

  it('run_query, statement/load_result, call statement, get_columns_in_relation, graph, return of a list', async () => {
    const p = fx.project({
      'dbt_project.yml': projectYml('ctx2'),
      'seeds/colors.csv': 'id,color\n1,red\n2,blue\n',
      'macros/helpers.sql': [
        `{% macro color_list() %}{{ return(['red', 'blue', 'green']) }}{% endmacro %}`,
        `{% macro model_count() %}{% set n = [] %}{% for id, node in graph.nodes.items() %}{% if node.resource_type == 'model' %}{% do n.append(id) %}{% endif %}{% endfor %}{{ return(n | length) }}{% endmacro %}`,
      ].join('\n'),
      'models/uses_ctx.sql': [
        `-- depends_on: {{ ref('colors') }}`,
        `{% if execute %}`,
        `{% set rows = run_query("select color from " ~ ref('colors') ~ " order by id") %}`,
        `{% set first = rows.columns[0].values()[0] %}`,
        `{% call statement('cnt', fetch_result=True) %}select count(*) as n from {{ ref('colors') }}{% endcall %}`,
        `{% set cnt = load_result('cnt')['data'][0][0] %}`,
        `{% set cols = adapter.get_columns_in_relation(ref('colors')) %}`,
        `{% else %}{% set first = '' %}{% set cnt = 0 %}{% set cols = [] %}{% endif %}`,
        `select '{{ first }}' as first_color, {{ cnt }} as n,`,
        ` '{{ cols | map(attribute="name") | join(",") }}' as col_names,`,
        ` '{{ color_list() | join("|") }}' as listed, {{ model_count() }} as models`,
      ].join('\n'),
      'models/other.sql': `select 1 as one`,
    });
    const r = await p.dbt(['build']);
    expect(r.error).toBeUndefined();
    expect(statuses(r)).toEqual({ colors: 'success', uses_ctx: 'success', other: 'success' });
    expect(await p.rows(`select * from ${p.schema}.uses_ctx`)).toEqual([
      { first_color: 'red', n: 2, col_names: 'id,color', listed: 'red|blue|green', models: 2 },
    ]);
  });
});

describe('hooks', () => {
  it('pre_hook/post_hook from config() and dbt_project.yml, on-run-start and on-run-end', async () => {
    const p = fx.project({
      'dbt_project.yml': projectYml(
        'hooks',
        [
          `on-run-start:`,
          `  - "create table if not exists {{ target.schema }}.audit (what text, at serial)"`,
          `on-run-end:`,
          `  - "insert into {{ target.schema }}.audit (what) values ('end')"`,
          `  - "{% for r in results %}insert into {{ target.schema }}.audit (what) values ('{{ r.node.name }} {{ r.status }} {{ schemas | join(\\",\\") }}');{% endfor %}"`,
          `models:`,
          `  hooks:`,
          `    +post-hook: "insert into {{ target.schema }}.audit (what) values ('project post {{ this.name }}')"`,
        ].join('\n') + '\n',
      ),
      'packages.yml': `packages:\n  - local: ../hook_pkg\n`,
      '../hook_pkg/dbt_project.yml': projectYml(
        'hook_pkg',
        `on-run-start:\n  - "create table if not exists {{ target.schema }}.audit (what text, at serial); insert into {{ target.schema }}.audit (what) values ('pkg start')"\n`,
      ),
      'models/hooked.sql': [
        `{{ config(materialized='table',`,
        `   pre_hook="insert into {{ target.schema }}.audit (what) values ('pre')",`,
        `   post_hook=["insert into {{ target.schema }}.audit (what) select 'post ' || count(*) from {{ this }}"]) }}`,
        `select 1 as a union all select 2`,
      ].join('\n'),
    });
    const r = await p.dbt(['run']);
    expect(r.error).toBeUndefined();
    expect(byName(r, 'hooked').status).toBe('success');
    expect(await p.col(`select what from ${p.schema}.audit order by at`)).toEqual([
      'pkg start',
      'pre',
      'project post hooked',
      'post 2',
      'end',
      `hooked success ${p.schema}`,
    ]);
    // the hooks' results, named as dbt names them
    expect(r.results.filter((x) => x.resource_type === 'operation').map((x) => [x.status, x.message])).toEqual([
      ['success', 'hook_pkg.on-run-start.0 passed'],
      ['success', 'hooks.on-run-start.1 passed'],
      ['success', 'hooks.on-run-end.0 passed'],
      ['success', 'hooks.on-run-end.1 passed'],
    ]);
  });

  it('a failing on-run-start hook skips the hooks after it and fails the command; models still run', async () => {
    const p = fx.project({
      'dbt_project.yml': projectYml(
        'hookfail',
        `on-run-start:\n  - "select * from no_such_table"\n  - "create table {{ target.schema }}.never (x int)"\n`,
      ),
      'models/m.sql': `select 1 as x`,
    });
    const r = await p.dbt(['run']);
    expect(r.success).toBe(false);
    expect(r.results.map((x) => [x.name, x.status])).toEqual([
      ['hookfail-on-run-start-0', 'error'],
      ['hookfail-on-run-start-1', 'skipped'],
      ['m', 'success'],
    ]);
    expect(r.results[0].message).toMatch(/^hookfail\.on-run-start\.0 failed, error:\n .*no_such_table/);
    expect(await p.col(`select count(*)::int from pg_tables where tablename = 'never'`)).toEqual([0]);
  });
});

describe('error messages', () => {
  it('a template error fails the parse with its file and line; so do undefined macros and compiler errors', async () => {
    const p = fx.project({
      'dbt_project.yml': projectYml('errs'),
      'macros/boom.sql': `{% macro boom() %}{{ exceptions.raise_compiler_error("custom boom") }}{% endmacro %}`,
      'models/fine.sql': `select 1 as ok`,
    });
    const expectParseError = async (file: string, text: string, re: RegExp) => {
      p.write({ [file]: text });
      const r = await p.dbt(['run']);
      p.remove(file);
      expect(r.success).toBe(false);
      expect(r.results).toEqual([]);
      expect(r.error).toMatch(re);
    };
    await expectParseError(
      'models/bad_syntax.sql',
      `select 1 as a,\n2 as b,\n{{ 1 + }}\n`,
      /^Compilation Error in model bad_syntax \(models\/bad_syntax\.sql\), line 3: /,
    );
    await expectParseError(
      'models/bad_macro.sql',
      `select\n{{ no_such_macro() }} as x`,
      /^Compilation Error in model bad_macro \(models\/bad_macro\.sql\), line 2: 'no_such_macro' is undefined/,
    );
    await expectParseError(
      'models/raises.sql',
      `select\n\n{{ boom() }}`,
      /^Compilation Error in model raises \(models\/raises\.sql\), line 3: custom boom/,
    );
    await expectParseError(
      'models/missing_var.sql',
      `select '{{ var("nope") }}' as v`,
      /^Compilation Error in model missing_var \(models\/missing_var\.sql\): Required var 'nope' not found/,
    );
    await expectParseError(
      'models/bad_ref.sql',
      `select * from {{ ref('ghost') }}`,
      /model 'model\.errs\.bad_ref' \(models\/bad_ref\.sql\) depends on a node named 'ghost' which was not found/i,
    );
    await expectParseError(
      'models/needs_env.sql',
      `select '{{ env_var("WEIR_NOT_SET") }}' as v`,
      /Env var required but not provided: 'WEIR_NOT_SET'/,
    );
  });

  it('errors while executing fail only their node, with dbt’s wording and line', async () => {
    const p = fx.project({
      'dbt_project.yml': projectYml('errs2'),
      'macros/boom.sql': `{% macro boom() %}{% if execute %}{{ exceptions.raise_compiler_error("late boom") }}{% endif %}{% endmacro %}`,
      'models/fine.sql': `select 1 as ok`,
      'models/late.sql': `select 1 as a,\n\n{{ boom() }} 2 as b`,
      'models/db_error.sql': `select * from no_such_table`,
      'models/query_error.sql': `{% if execute %}\n{% set r = run_query('select * from nowhere') %}\n{% endif %}\nselect 1 as a`,
      'models/child.sql': `select * from {{ ref('db_error') }}`,
    });
    const r = await p.dbt(['run']);
    expect(r.success).toBe(false);
    expect(statuses(r)).toEqual({
      fine: 'success',
      late: 'error',
      db_error: 'error',
      query_error: 'error',
      child: 'skipped',
    });
    expect(byName(r, 'late').message).toMatch(
      /^Compilation Error in model late \(models\/late\.sql\), line 3: late boom/,
    );
    expect(byName(r, 'db_error').message).toMatch(
      /^Database Error in model db_error \(models\/db_error\.sql\)\n\s+relation "no_such_table" does not exist/,
    );
    expect(byName(r, 'query_error').message).toMatch(
      /^Database Error in model query_error \(models\/query_error\.sql\).*relation "nowhere" does not exist/s,
    );
  });
});
