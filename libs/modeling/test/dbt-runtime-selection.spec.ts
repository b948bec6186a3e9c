/**
 * dbt's node selection through `dbt ls` (graph operators, methods, intersections, --exclude,
 * state:modified against a saved manifest) and the commands: compile, run-operation,
 * --fail-fast, seeds (column_types, quote_columns, delimiter, --full-refresh) and the artifacts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { byName, dbtFixture, projectYml, statuses, type DbtFixture, type DbtProject } from './dbt-project-fixture';

jest.setTimeout(60_000);

let fx: DbtFixture;
beforeAll(async () => {
  fx = await dbtFixture('weir_dbtrt_sel');
});
afterAll(async () => {
  await fx?.close();
});

describe('selection', () => {
  let p: DbtProject;
  beforeAll(() => {
    p = fx.project(
      {
        'dbt_project.yml': projectYml('sel', `models:\n  sel:\n    marts:\n      +materialized: table\n`),
        'seeds/raw_s.csv': 'id\n1\n',
        'models/staging/stg_a.sql': `{{ config(tags=['nightly']) }}\nselect * from {{ ref('raw_s') }}`,
        'models/staging/stg_b.sql': `select * from {{ source('raw', 't1') }}`,
        'models/staging/sources.yml': `version: 2\nsources:\n  - name: raw\n    tables:\n      - name: t1\n`,
        'models/marts/m1.sql': `select a.id from {{ ref('stg_a') }} a join {{ ref('stg_b') }} b on a.id = b.id`,
        'models/marts/m2.sql': `{{ config(materialized='view', tags=['nightly']) }}\nselect * from {{ ref('m1') }}`,
        'models/other.sql': `select 1 as id`,
      },
      { name: 'sel' },
    );
  });
  const ls = async (...args: string[]) => {
    const r = await p.dbt(['ls', '--resource-type', 'model', ...args]);
    expect(r.error).toBeUndefined();
    return (r.output ?? []).map((l) => l.replace(/^sel\./, ''));
  };

  it('graph operators', async () => {
    expect(await ls('-s', '+m1')).toEqual(['marts.m1', 'staging.stg_a', 'staging.stg_b']);
    expect(await ls('-s', 'stg_a+')).toEqual(['marts.m1', 'marts.m2', 'staging.stg_a']);
    expect(await ls('-s', '1+m2')).toEqual(['marts.m1', 'marts.m2']);
    expect(await ls('-s', 'stg_a+1')).toEqual(['marts.m1', 'staging.stg_a']);
    expect(await ls('-s', '@stg_a')).toEqual(['marts.m1', 'marts.m2', 'staging.stg_a', 'staging.stg_b']);
  });

  it('methods, intersections and exclusion', async () => {
    expect(await ls('-s', 'tag:nightly')).toEqual(['marts.m2', 'staging.stg_a']);
    expect(await ls('-s', 'path:models/staging')).toEqual(['staging.stg_a', 'staging.stg_b']);
    expect(await ls('-s', 'config.materialized:table')).toEqual(['marts.m1']);
    expect(await ls('-s', 'source:raw+')).toEqual(['marts.m1', 'marts.m2', 'staging.stg_b']);
    expect(await ls('-s', 'tag:nightly,path:models/marts')).toEqual(['marts.m2']);
    expect(await ls('-s', 'stg_a+', '--exclude', 'm2')).toEqual(['marts.m1', 'staging.stg_a']);
    expect(await ls('-s', 'stg_a', 'other')).toEqual(['other', 'staging.stg_a']);
    expect(await ls('-s', 'stg_*', '--exclude', 'tag:nightly')).toEqual(['staging.stg_b']);
    expect(await ls('-s', 'models/staging/stg_a.sql')).toEqual(['staging.stg_a']);
    expect(await ls('-s', 'marts')).toEqual(['marts.m1', 'marts.m2']);
    const seeds = await p.dbt(['ls', '-s', 'resource_type:seed']);
    expect(seeds.output).toEqual(['sel.raw_s']);
    const all = await p.dbt(['ls', '-s', 'source:raw+']);
    expect(all.output).toEqual(['sel.marts.m1', 'sel.marts.m2', 'sel.staging.stg_b', 'source:sel.staging.raw.t1']);
  });

  it('state:modified against a saved manifest', async () => {
    expect((await p.dbt(['parse'])).success).toBe(true);
    const state = path.join(p.dir, '..', 'state');
    fs.mkdirSync(state, { recursive: true });
    fs.copyFileSync(path.join(p.dir, 'target', 'manifest.json'), path.join(state, 'manifest.json'));
    expect(await ls('-s', 'state:modified', '--state', state)).toEqual([]);
    p.write({
      'models/marts/m1.sql': `select a.id + 0 as id from {{ ref('stg_a') }} a join {{ ref('stg_b') }} b using (id)`,
    });
    expect(await ls('-s', 'state:modified', '--state', state)).toEqual(['marts.m1']);
    expect(await ls('-s', 'state:modified+', '--state', state)).toEqual(['marts.m1', 'marts.m2']);
    // a seed's contents, a config in dbt_project.yml
    p.write({ 'seeds/raw_s.csv': 'id\n1\n2\n' });
    expect((await p.dbt(['ls', '-s', 'state:modified', '--state', state])).output).toEqual([
      'sel.marts.m1',
      'sel.raw_s',
    ]);
    p.write({
      'dbt_project.yml': projectYml(
        'sel',
        `models:\n  sel:\n    marts:\n      +materialized: table\n    other:\n      +materialized: table\n`,
      ),
    });
    expect((await p.dbt(['ls', '-s', 'state:modified', '--state', state])).output).toEqual([
      'sel.marts.m1',
      'sel.other',
      'sel.raw_s',
    ]);
  });
});

describe('commands', () => {
  it('compile writes nothing to the warehouse and reports compiled code', async () => {
    const p = fx.project({
      'dbt_project.yml': projectYml('cmp'),
      'models/a.sql': `select {{ 1 + 1 }} as two`,
      'models/b.sql': `select * from {{ ref('a') }}`,
    });
    const r = await p.dbt(['compile']);
    expect(r.success).toBe(true);
    expect(byName(r, 'a').compiled_code).toBe('select 2 as two');
    expect(byName(r, 'b').compiled_code).toBe(`select * from "${fx.db.name}"."${p.schema}"."a"`);
    expect(await p.col(`select count(*)::int from pg_namespace where nspname = '${p.schema}'`)).toEqual([0]);
    const rr = p.artifact('run_results.json') as { results: { unique_id: string; compiled_code: string }[] };
    expect(rr.results.find((x) => x.unique_id === 'model.cmp.a')?.compiled_code).toBe('select 2 as two');
  });

  it('run-operation with --args', async () => {
    const p = fx.project({
      'dbt_project.yml': projectYml('ops'),
      'macros/ops.sql': [
        `{% macro make_table(x, name='t') %}`,
        `{% do run_query('create schema if not exists ' ~ target.schema) %}`,
        `{% do run_query('create table ' ~ target.schema ~ '.' ~ name ~ ' as select ' ~ x ~ ' as x') %}`,
        `{{ log('made ' ~ name, info=True) }}`,
        `{% endmacro %}`,
        `{% macro fails() %}{{ exceptions.raise_compiler_error('op failed') }}{% endmacro %}`,
      ].join('\n'),
    });
    const r = await p.dbt(['run-operation', 'make_table', '--args', '{x: 41, name: answer}']);
    expect(r.success).toBe(true);
    expect(r.lines).toContain('made answer');
    expect(await p.col(`select x from ${p.schema}.answer`)).toEqual([41]);
    const f = await p.dbt(['run-operation', 'fails']);
    expect(f.success).toBe(false);
    expect(f.error).toMatch(/op failed/);
    const m = await p.dbt(['run-operation', 'nope']);
    expect(m.error).toMatch(/could not find a macro with the name 'nope'/);
  });

  it('--fail-fast stops after the first failure', async () => {
    const p = fx.project({
      'dbt_project.yml': projectYml('ff'),
      'models/a_bad.sql': `select * from nowhere`,
      'models/b_fine.sql': `select 1 as x`,
      'models/c_fine.sql': `select 1 as x`,
    });
    const r = await p.dbt(['run', '--fail-fast', '--threads', '1']);
    expect(r.success).toBe(false);
    expect(statuses(r)).toEqual({ a_bad: 'error', b_fine: 'skipped', c_fine: 'skipped' });
  });

  it('seeds: column_types, quote_columns, delimiter, --full-refresh after a column change', async () => {
    const p = fx.project({
      'dbt_project.yml': projectYml(
        'sds',
        `seeds:\n  sds:\n    semi:\n      +delimiter: ";"\n    +quote_columns: false\n`,
      ),
      'seeds/typed.csv': 'id,Amount,label\n1,1.50,a\n2,2.25,b\n',
      'seeds/semi.csv': 'id;name\n1;x;\n',
      'seeds/props.yml': `version: 2\nseeds:\n  - name: typed\n    config:\n      column_types:\n        id: bigint\n        label: varchar(10)\n`,
    });
    p.write({ 'seeds/semi.csv': 'id;name\n1;x\n2;y\n' });
    let r = await p.dbt(['seed']);
    expect(r.error).toBeUndefined();
    expect(statuses(r)).toEqual({ typed: 'success', semi: 'success' });
    const types = await p.rows(
      `select table_name, column_name, data_type, character_maximum_length from information_schema.columns where table_schema = '${p.schema}' order by table_name, ordinal_position`,
    );
    expect(types).toEqual([
      { table_name: 'semi', column_name: 'id', data_type: 'integer', character_maximum_length: null },
      { table_name: 'semi', column_name: 'name', data_type: 'text', character_maximum_length: null },
      { table_name: 'typed', column_name: 'id', data_type: 'bigint', character_maximum_length: null },
      // quote_columns false: the name folds to lower case
      { table_name: 'typed', column_name: 'amount', data_type: 'numeric', character_maximum_length: null },
      { table_name: 'typed', column_name: 'label', data_type: 'character varying', character_maximum_length: 10 },
    ]);
    // a column added: a plain re-seed fails (the table keeps its columns), --full-refresh rebuilds it
    p.write({ 'seeds/semi.csv': 'id;name;extra\n1;x;e\n' });
    r = await p.dbt(['seed', '-s', 'semi']);
    expect(statuses(r)).toEqual({ semi: 'error' });
    r = await p.dbt(['seed', '-s', 'semi', '--full-refresh']);
    expect(statuses(r)).toEqual({ semi: 'success' });
    expect(await p.rows(`select * from ${p.schema}.semi`)).toEqual([{ id: 1, name: 'x', extra: 'e' }]);
  });

  it('artifacts: manifest v12, run_results v6, catalog v1', async () => {
    const p = fx.project({
      'dbt_project.yml': projectYml('art'),
      'seeds/s.csv': 'id\n1\n',
      'models/a.sql': `select * from {{ ref('s') }}`,
      'models/b.sql': `{{ config(materialized='table') }}\nselect * from {{ ref('a') }}`,
      'models/sources.yml': `version: 2\nsources:\n  - name: src\n    schema: information_schema\n    tables:\n      - name: tables\n`,
    });
    const r = await p.dbt(['build']);
    expect(r.success).toBe(true);
    const m = p.artifact('manifest.json') as {
      metadata: { dbt_schema_version: string; project_name: string };
      nodes: Record<string, unknown>;
      sources: Record<string, unknown>;
      macros: Record<string, unknown>;
      parent_map: Record<string, string[]>;
      child_map: Record<string, string[]>;
    };
    expect(m.metadata.dbt_schema_version).toMatch(/manifest\/v12\.json$/);
    expect(Object.keys(m.nodes).sort()).toEqual(['model.art.a', 'model.art.b', 'seed.art.s']);
    expect(Object.keys(m.sources)).toEqual(['source.art.src.tables']);
    expect(m.macros['macro.dbt.generate_schema_name']).toBeDefined();
    expect(m.parent_map['model.art.b']).toEqual(['model.art.a']);
    expect(m.child_map['seed.art.s']).toEqual(['model.art.a']);
    const rr = p.artifact('run_results.json') as {
      metadata: { dbt_schema_version: string };
      results: { unique_id: string; status: string; timing: { name: string }[] }[];
    };
    expect(rr.metadata.dbt_schema_version).toMatch(/run-results\/v6\.json$/);
    expect(rr.results.map((x) => x.unique_id).sort()).toEqual(['model.art.a', 'model.art.b', 'seed.art.s']);
    for (const x of rr.results) expect(x.timing.map((t) => t.name)).toEqual(['compile', 'execute']);
    const d = await p.dbt(['docs', 'generate']);
    expect(d.success).toBe(true);
    const c = p.artifact('catalog.json') as {
      metadata: { dbt_schema_version: string };
      nodes: Record<string, { metadata: { type: string }; columns: Record<string, { type: string }> }>;
    };
    expect(c.metadata.dbt_schema_version).toMatch(/catalog\/v1\.json$/);
    expect(c.nodes['model.art.b'].metadata.type).toBe('BASE TABLE');
    expect(c.nodes['model.art.a'].metadata.type).toBe('VIEW');
    expect(c.nodes['seed.art.s'].columns['id'].type).toBe('integer');
  });
});
