/* eslint-disable no-console -- a command-line report */
/**
 * `npm run bench:dbt-compile -- --models 1000 [--repeat 3] [--project-dir dir]`: `dbt compile` of a generated dbt
 * project on Weir's dbt runtime (parse, render every model and test with execute on, the DAG),
 * against a database. The project: 50 sources (YAML), staging views selecting from them with
 * `{{ source() }}`, intermediate and mart models with several `{{ ref() }}` each (a deep DAG),
 * incremental models with `{% if is_incremental() %}`, project macros (arguments,
 * `adapter.dispatch` with default__/postgres__ variants, `{% for %}`/`{% set %}`/`namespace`),
 * dbt's cross-database macros, `config()` blocks, dbt_project.yml folder configs with `+` keys and
 * `vars`, and YAML `data_tests:` (not_null, unique, accepted_values, relationships) on many columns.
 * `parse_s` times `dbt parse` alone; `compile_s` the whole `dbt compile` command; each the median of
 * `repeat` rounds of a parse then a compile in this process (like a long-running worker: the runtime
 * shares compiled templates and parsed YAML between invocations). Target: compile < 5 s.
 * Last line: {"bench":"dbt-compile","models":…,"tests":…,"compile_s":…,"parse_s":…}.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invokeDbt, type DbtTarget } from '@weir/modeling';
import { arg, benchDatabase, median } from './support';

const MODELS = Number(arg('models', '1000'));
const REPEAT = Number(arg('repeat', '3'));
const SOURCES = 50;
/** Where to generate the project (kept); a temporary folder by default. */
const PROJECT_DIR = arg('project-dir', '');

const write = (root: string, rel: string, text: string) => {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
};

/** The project's layers: staging (views over sources), intermediate and marts (refs, deep DAG). */
function layout(models: number): { staging: number; intermediate: number; marts: number } {
  const staging = Math.max(1, Math.min(SOURCES * 2, Math.round(models * 0.2)));
  const intermediate = Math.max(1, Math.round((models - staging) * 0.6));
  return { staging, intermediate, marts: Math.max(0, models - staging - intermediate) };
}

const STATUSES = ['new', 'paid', 'shipped', 'returned'];

/** Generates the project in `dir`; the number of test nodes dbt will parse. */
function generateProject(dir: string, models: number): number {
  const { staging, intermediate, marts } = layout(models);
  let tests = 0;
  write(
    dir,
    'dbt_project.yml',
    `name: bench
version: '1.0.0'
config-version: 2
profile: bench
model-paths: ["models"]
macro-paths: ["macros"]
vars:
  start_date: '2024-01-01'
  lookback_days: 3
  bench:
    amount_floor: 0
models:
  bench:
    +materialized: view
    staging:
      +materialized: view
      +tags: ['staging']
    intermediate:
      +materialized: table
      +tags: ['intermediate']
      +schema: int
    marts:
      +materialized: table
      +tags: ['marts']
      +meta:
        owner: analytics
      finance:
        +schema: finance
data_tests:
  bench:
    +severity: error
`,
  );

  // ---- macros: arguments, adapter.dispatch, for/set/namespace, cross-database macros
  write(
    dir,
    'macros/cents.sql',
    `{% macro cents_to_dollars(column_name, scale=2) -%}
  round(({{ column_name }} / 100.0)::numeric, {{ scale }})
{%- endmacro %}

{% macro safe_divide(numerator, denominator) -%}
  ({{ numerator }}) / nullif({{ denominator }}, 0)
{%- endmacro %}
`,
  );
  write(
    dir,
    'macros/dispatch.sql',
    `{% macro normalise_status(column_name) -%}
  {{ return(adapter.dispatch('normalise_status', 'bench')(column_name)) }}
{%- endmacro %}

{% macro default__normalise_status(column_name) -%}
  upper({{ column_name }})
{%- endmacro %}

{% macro postgres__normalise_status(column_name) -%}
  lower(trim({{ column_name }}::{{ dbt.type_string() }}))
{%- endmacro %}
`,
  );
  write(
    dir,
    'macros/pivot.sql',
    `{% macro status_pivot(column_name, values, prefix='n_') -%}
  {%- set ns = namespace(parts=[], total=0) -%}
  {%- for v in values -%}
    {%- set ns.total = ns.total + 1 -%}
    {%- set ns.parts = ns.parts + ["sum(case when " ~ column_name ~ " = '" ~ v ~ "' then 1 else 0 end) as " ~ prefix ~ v] -%}
  {%- endfor -%}
  {{ ns.parts | join(',\\n  ') }},
  {{ ns.total }} as n_statuses
{%- endmacro %}

{% macro recent_filter(column_name) -%}
  {{ column_name }} >= {{ dbt.dateadd('day', -1 * var('lookback_days'), "'" ~ var('start_date') ~ "'::date") }}
{%- endmacro %}
`,
  );

  // ---- sources
  const srcYaml = [
    'version: 2',
    'sources:',
    '  - name: raw',
    '    schema: raw',
    '    tables:',
    ...Array.from({ length: SOURCES }, (_, i) => [
      `      - name: src_${i}`,
      '        columns:',
      '          - name: id',
      '            data_tests: [not_null, unique]',
    ]).flat(),
  ];
  tests += SOURCES * 2;
  write(dir, 'models/staging/_sources.yml', srcYaml.join('\n') + '\n');

  // ---- staging views
  const stgYaml = ['version: 2', 'models:'];
  for (let i = 0; i < staging; i++) {
    const incremental = i % 10 === 9;
    write(
      dir,
      `models/staging/stg_${i}.sql`,
      `${incremental ? "{{ config(materialized='incremental', unique_key='id', on_schema_change='append_new_columns') }}\n" : ''}with source as (
  select * from {{ source('raw', 'src_${i % SOURCES}') }}
), renamed as (
  select
    id,
    customer_id,
    {{ normalise_status('status') }} as status,
    {{ cents_to_dollars('amount_cents') }} as amount,
    created_at,
    {{ dbt.concat(["'stg_${i}'", "'-'", 'id::text']) }} as label
  from source
  where {{ recent_filter('created_at') }}
)
select * from renamed
${incremental ? '{% if is_incremental() %}\nwhere created_at > (select max(created_at) from {{ this }})\n{% endif %}\n' : ''}`,
    );
    stgYaml.push(
      `  - name: stg_${i}`,
      `    description: Staging of raw.src_${i % SOURCES}`,
      '    columns:',
      '      - name: id',
      '        data_tests: [not_null, unique]',
      '      - name: customer_id',
      '        data_tests: [not_null]',
      '      - name: status',
      '        data_tests:',
      '          - accepted_values:',
      `              values: [${STATUSES.map((s) => `'${s}'`).join(', ')}]`,
      '      - name: created_at',
      '        data_tests: [not_null]',
    );
    tests += 5;
  }
  write(dir, 'models/staging/_staging.yml', stgYaml.join('\n') + '\n');

  // ---- intermediate: refs to staging and earlier intermediates (a deep DAG)
  const name = (layer: 'stg' | 'int' | 'fct', i: number) => `${layer}_${i}`;
  const intYaml = ['version: 2', 'models:'];
  for (let i = 0; i < intermediate; i++) {
    const ups = [name('stg', i % staging), name('stg', (i * 7 + 3) % staging)];
    if (i >= 5) ups.push(name('int', i - 1 - (i % 5)), name('int', Math.floor(i / 2)));
    const unique = [...new Set(ups)].filter((u) => u !== name('int', i));
    const incremental = i % 8 === 7;
    const cfg = incremental
      ? "{{ config(materialized='incremental', unique_key='id', incremental_strategy='delete+insert', tags=['inc']) }}"
      : `{{ config(materialized='${i % 3 === 0 ? 'view' : 'table'}', tags=['int_${i % 4}']) }}`;
    const ctes = unique.map((u, k) => `u${k} as (\n  select * from {{ ref('${u}') }}\n)`).join(',\n');
    const joins = unique
      .slice(1)
      .map((_, k) => `  left join u${k + 1} on u${k + 1}.id = u0.id`)
      .join('\n');
    write(
      dir,
      `models/intermediate/int_${i}.sql`,
      `${cfg}
with ${ctes}
select
  u0.id,
  u0.customer_id,
  u0.status,
  coalesce(u0.amount, 0) + ${unique.map((_, k) => `coalesce(u${k}.amount, 0)`).join(' + ')} as amount,
  u0.created_at,
  {{ dbt.concat(['u0.label', "'/int_${i}'"]) }}::{{ dbt.type_string() }} as label,
  {{ dbt.dateadd('day', 7, 'u0.created_at') }} as due_at
from u0
${joins}
where u0.amount >= {{ var('amount_floor') }}
${incremental ? '{% if is_incremental() %}\n  and u0.created_at > (select max(created_at) from {{ this }})\n{% endif %}\n' : ''}`,
    );
    intYaml.push(
      `  - name: int_${i}`,
      '    columns:',
      '      - name: id',
      '        data_tests:',
      '          - not_null',
      '          - unique',
      '          - relationships:',
      `              to: ref('${unique[0]}')`,
      '              field: id',
      '      - name: status',
      '        data_tests:',
      '          - not_null',
      '          - accepted_values:',
      `              values: [${STATUSES.map((s) => `'${s}'`).join(', ')}]`,
    );
    tests += 5;
  }
  write(dir, 'models/intermediate/_intermediate.yml', intYaml.join('\n') + '\n');

  // ---- marts: aggregates over intermediates (and earlier marts)
  const martYaml = ['version: 2', 'models:'];
  for (let i = 0; i < marts; i++) {
    const ups = [name('int', intermediate - 1 - (i % intermediate)), name('int', (i * 13) % intermediate)];
    if (i >= 3) ups.push(name('fct', i - 3));
    const unique = [...new Set(ups)];
    const folder = i % 4 === 0 ? 'marts/finance' : 'marts/core';
    const incremental = i % 6 === 5;
    const cfg = incremental
      ? "{{ config(materialized='incremental', unique_key='customer_id') }}"
      : "{{ config(materialized='table', post_hook=[]) }}";
    write(
      dir,
      `models/${folder}/fct_${i}.sql`,
      `${cfg}
{% set statuses = ${JSON.stringify(STATUSES).replace(/"/g, "'")} %}
with unioned as (
${unique.map((u) => `  select id, customer_id, status, amount, created_at from {{ ref('${u}') }}`).join('\n  union all\n')}
)
select
  customer_id,
  count(*) as orders,
  sum(amount) as revenue,
  {{ safe_divide('sum(amount)', 'count(*)') }} as avg_order,
  {{ status_pivot('status', statuses) }},
  max(created_at) as last_order_at,
  {{ dbt.dateadd('month', 1, 'max(created_at)') }} as next_review_at
from unioned
{% if is_incremental() %}
where created_at > (select max(last_order_at) from {{ this }})
{% endif %}
group by customer_id
`,
    );
    martYaml.push(
      `  - name: fct_${i}`,
      '    columns:',
      '      - name: customer_id',
      '        data_tests: [not_null, unique]',
      '      - name: orders',
      '        data_tests: [not_null]',
      '      - name: revenue',
      '        data_tests: [not_null]',
    );
    tests += 4;
  }
  write(dir, 'models/marts/_marts.yml', martYaml.join('\n') + '\n');
  return tests;
}

async function main(): Promise<void> {
  const db = await benchDatabase('weir_dbtcbench');
  try {
    const projectDir = PROJECT_DIR ? path.resolve(PROJECT_DIR) : path.join(db.work, 'bench');
    const expectedTests = generateProject(projectDir, MODELS);
    const { staging, intermediate, marts } = layout(MODELS);
    console.log(
      `bench dbt-compile: ${MODELS} models (${staging} staging, ${intermediate} intermediate, ${marts} marts), ${SOURCES} sources, ${expectedTests} tests in ${projectDir}`,
    );
    await db.client.query('CREATE SCHEMA IF NOT EXISTS analytics');
    const target: DbtTarget = { name: 'dev', schema: 'analytics', database: db.name, threads: 1, type: 'postgres' };
    const run = async (args: string[]) => {
      const lines: string[] = [];
      const t0 = process.hrtime.bigint();
      const r = await invokeDbt({
        projectDir,
        args,
        connectionString: db.url,
        target,
        env: {},
        log: (l) => lines.push(l),
      });
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      if (!r.success)
        throw new Error(
          `dbt ${args.join(' ')} failed: ${r.error ?? ''}\n${lines
            .filter((l) => /error/i.test(l))
            .slice(0, 10)
            .join('\n')}`,
        );
      return { secs, results: r.results };
    };
    const parses: number[] = [];
    const compiles: number[] = [];
    let modelsCompiled = 0;
    let testsCompiled = 0;
    for (let r = 0; r < REPEAT; r++) {
      const p = await run(['parse']);
      parses.push(p.secs);
      const c = await run(['compile']);
      compiles.push(c.secs);
      modelsCompiled = c.results.filter((x) => x.resource_type === 'model').length;
      testsCompiled = c.results.filter((x) => x.resource_type === 'test').length;
      console.log(
        `  round ${r + 1}: parse ${p.secs.toFixed(3)} s, compile ${c.secs.toFixed(3)} s (${modelsCompiled} models, ${testsCompiled} tests)`,
      );
    }
    if (modelsCompiled !== MODELS) throw new Error(`compiled ${modelsCompiled} models, expected ${MODELS}`);
    const p = median(parses);
    const c = median(compiles);
    console.log(
      `${MODELS} models, ${testsCompiled} tests: compile ${c.toFixed(3)} s (target < 5 s), parse ${p.toFixed(3)} s`,
    );
    console.log(
      JSON.stringify({
        bench: 'dbt-compile',
        models: MODELS,
        tests: testsCompiled,
        repeat: REPEAT,
        compile_s: +c.toFixed(3),
        parse_s: +p.toFixed(3),
        target_met: c < 5,
      }),
    );
  } finally {
    await db.close();
  }
}

main().catch((e) => {
  console.error(`bench dbt-compile failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
