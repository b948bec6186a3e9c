/**
 * Snapshots (hard_deletes new_record / invalidate, check_cols all, dbt_valid_to_current, a
 * snapshot defined in YAML, a model ref'ing a snapshot) and incremental models (merge with
 * merge_update_columns and incremental_predicates, full_refresh: false, on_schema_change: fail).
 */
import { byName, dbtFixture, projectYml, statuses, type DbtFixture } from './dbt-project-fixture';

jest.setTimeout(60_000);

let fx: DbtFixture;
beforeAll(async () => {
  fx = await dbtFixture('weir_dbtrt_snap');
});
afterAll(async () => {
  await fx?.close();
});

const snap = (name: string, config: string) =>
  `{% snapshot ${name} %}\n{{ config(${config}) }}\nselect * from {{ source('src', 'people') }}\n{% endsnapshot %}\n`;

describe('snapshots', () => {
  it('hard deletes, check_cols all, dbt_valid_to_current, YAML snapshots, ref to a snapshot', async () => {
    const p = fx.project({
      'dbt_project.yml': projectYml('snp'),
      'models/sources.yml': `version: 2\nsources:\n  - name: src\n    schema: "{{ target.schema }}_src"\n    tables:\n      - name: people\n`,
      'models/people_model.sql': `select id, name from {{ source('src', 'people') }}`,
      'models/current_people.sql': `select id, name, dbt_is_deleted from {{ ref('snap_ts') }} where dbt_valid_to is null`,
      'snapshots/snaps.sql': [
        snap('snap_ts', `unique_key='id', strategy='timestamp', updated_at='updated_at', hard_deletes='new_record'`),
        snap('snap_check', `unique_key='id', strategy='check', check_cols='all', hard_deletes='invalidate'`),
        snap(
          'snap_cur',
          `unique_key='id', strategy='timestamp', updated_at='updated_at', dbt_valid_to_current="'9999-12-31'::timestamp"`,
        ),
      ].join('\n'),
      'snapshots/snaps.yml': `version: 2\nsnapshots:\n  - name: yml_snap\n    relation: ref('people_model')\n    config:\n      unique_key: id\n      strategy: check\n      check_cols: [name]\n`,
    });
    const src = `${p.schema}_src.people`;
    await fx.client.query(`create schema ${p.schema}_src;
      create table ${src} (id int, name text, updated_at timestamp);
      insert into ${src} values (1, 'a', '2024-01-01'), (2, 'b', '2024-01-01'), (3, 'c', '2024-01-01')`);
    let r = await p.dbt(['build']);
    expect(r.error).toBeUndefined();
    expect(statuses(r)).toEqual({
      people_model: 'success',
      current_people: 'success',
      snap_ts: 'success',
      snap_check: 'success',
      snap_cur: 'success',
      yml_snap: 'success',
    });
    // the model that refs the snapshot runs after it
    const order = r.results.map((x) => x.name);
    expect(order.indexOf('current_people')).toBeGreaterThan(order.indexOf('snap_ts'));
    expect(order.indexOf('yml_snap')).toBeGreaterThan(order.indexOf('people_model'));

    await fx.client.query(`update ${src} set name = 'a2', updated_at = '2024-01-02' where id = 1;
      delete from ${src} where id = 2`);
    r = await p.dbt(['snapshot']);
    expect(r.error).toBeUndefined();
    expect(Object.values(statuses(r))).toEqual(['success', 'success', 'success', 'success']);

    // new_record: the deleted key gets a current row with dbt_is_deleted = 'True'
    expect(
      await p.rows(
        `select id, name, dbt_is_deleted, dbt_valid_to is null as current from ${p.schema}.snap_ts order by id, dbt_valid_from`,
      ),
    ).toEqual([
      { id: 1, name: 'a', dbt_is_deleted: 'False', current: false },
      { id: 1, name: 'a2', dbt_is_deleted: 'False', current: true },
      { id: 2, name: 'b', dbt_is_deleted: 'False', current: false },
      { id: 2, name: 'b', dbt_is_deleted: 'True', current: true },
      { id: 3, name: 'c', dbt_is_deleted: 'False', current: true },
    ]);
    // invalidate: the deleted key's row is closed; check_cols all sees the name change
    expect(
      await p.rows(
        `select id, name, dbt_valid_to is null as current from ${p.schema}.snap_check order by id, dbt_valid_from`,
      ),
    ).toEqual([
      { id: 1, name: 'a', current: false },
      { id: 1, name: 'a2', current: true },
      { id: 2, name: 'b', current: false },
      { id: 3, name: 'c', current: true },
    ]);
    // dbt_valid_to_current: current rows carry the configured date instead of null
    expect(
      await p.rows(
        `select id, name, dbt_valid_to::text as valid_to from ${p.schema}.snap_cur order by id, dbt_valid_from`,
      ),
    ).toEqual([
      { id: 1, name: 'a', valid_to: '2024-01-02 00:00:00' },
      { id: 1, name: 'a2', valid_to: '9999-12-31 00:00:00' },
      { id: 2, name: 'b', valid_to: '9999-12-31 00:00:00' },
      { id: 3, name: 'c', valid_to: '9999-12-31 00:00:00' },
    ]);
    // the YAML snapshot (people_model is a view: it follows the source)
    expect(
      await p.rows(
        `select id, name, dbt_valid_to is null as current from ${p.schema}.yml_snap order by id, dbt_valid_from`,
      ),
    ).toEqual([
      { id: 1, name: 'a', current: false },
      { id: 1, name: 'a2', current: true },
      { id: 2, name: 'b', current: true },
      { id: 3, name: 'c', current: true },
    ]);
    // a second snapshot with the key still gone adds nothing; when it comes back, its deletion
    // record is closed and a new current row opens
    r = await p.dbt(['snapshot', '-s', 'snap_ts']);
    expect(await p.col(`select count(*)::int from ${p.schema}.snap_ts`)).toEqual([5]);
    await fx.client.query(`insert into ${src} values (2, 'b2', '2024-01-03')`);
    r = await p.dbt(['snapshot', '-s', 'snap_ts']);
    expect(statuses(r)).toEqual({ snap_ts: 'success' });
    expect(
      await p.rows(
        `select name, dbt_is_deleted, dbt_valid_to is null as current from ${p.schema}.snap_ts where id = 2 order by name, dbt_is_deleted`,
      ),
    ).toEqual([
      { name: 'b', dbt_is_deleted: 'False', current: false },
      { name: 'b', dbt_is_deleted: 'True', current: false },
      { name: 'b2', dbt_is_deleted: 'False', current: true },
    ]);
    // a snapshot's fqn carries its file's name
    const ls = await p.dbt(['ls', '-s', 'path:snapshots/snaps.sql']);
    expect(ls.output).toEqual(['snp.snaps.snap_check', 'snp.snaps.snap_cur', 'snp.snaps.snap_ts']);
    r = await p.dbt(['run', '-s', 'current_people']);
    expect(r.success).toBe(true);
    expect(await p.rows(`select * from ${p.schema}.current_people order by id`)).toEqual([
      { id: 1, name: 'a2', dbt_is_deleted: 'False' },
      { id: 2, name: 'b2', dbt_is_deleted: 'False' },
      { id: 3, name: 'c', dbt_is_deleted: 'False' },
    ]);
  });
});

describe('incremental models', () => {
  it('merge with merge_update_columns and incremental_predicates, full_refresh: false, on_schema_change: fail', async () => {
    const p = fx.project({
      'dbt_project.yml': projectYml('inc'),
      'models/sources.yml': `version: 2\nsources:\n  - name: src\n    schema: "{{ target.schema }}_src"\n    tables:\n      - name: items\n`,
      'models/merged.sql': `{{ config(materialized='incremental', incremental_strategy='merge', unique_key='id', merge_update_columns=['name']) }}\nselect * from {{ source('src', 'items') }}`,
      'models/predicated.sql': `{{ config(materialized='incremental', incremental_strategy='merge', unique_key='id', incremental_predicates=['DBT_INTERNAL_DEST.id > 1']) }}\nselect * from {{ source('src', 'items') }}`,
      'models/kept.sql': `{{ config(materialized='incremental', full_refresh=false) }}\nselect * from {{ source('src', 'items') }}\n{% if is_incremental() %}where id > (select max(id) from {{ this }}){% endif %}`,
      'models/strict.sql': `{{ config(materialized='incremental', on_schema_change='fail') }}\nselect id, name from {{ source('src', 'items') }}`,
    });
    const src = `${p.schema}_src.items`;
    await fx.client.query(`create schema ${p.schema}_src;
      create table ${src} (id int, name text, other text);
      insert into ${src} values (1, 'a', 'x'), (2, 'b', 'y')`);
    let r = await p.dbt(['run']);
    expect(r.error).toBeUndefined();
    expect(Object.values(statuses(r))).toEqual(['success', 'success', 'success', 'success']);

    await fx.client.query(`update ${src} set name = name || '2', other = other || '2';
      insert into ${src} values (3, 'c', 'z')`);
    await fx.client.query(`insert into ${p.schema}.kept values (100, 'manual', 'row')`);
    p.write({
      'models/strict.sql': `{{ config(materialized='incremental', on_schema_change='fail') }}\nselect id, name, other from {{ source('src', 'items') }}`,
    });
    r = await p.dbt(['run', '-s', 'merged', 'predicated', 'strict']);
    expect(statuses(r)).toEqual({ merged: 'success', predicated: 'success', strict: 'error' });
    // merge_update_columns: only name is updated on a match
    expect(await p.rows(`select * from ${p.schema}.merged order by id`)).toEqual([
      { id: 1, name: 'a2', other: 'x' },
      { id: 2, name: 'b2', other: 'y' },
      { id: 3, name: 'c', other: 'z' },
    ]);
    // incremental_predicates join the merge's ON: id 1 is outside them, so it is inserted again
    expect(await p.rows(`select * from ${p.schema}.predicated order by id, name`)).toEqual([
      { id: 1, name: 'a', other: 'x' },
      { id: 1, name: 'a2', other: 'x2' },
      { id: 2, name: 'b2', other: 'y2' },
      { id: 3, name: 'c', other: 'z' },
    ]);
    expect(byName(r, 'strict').message).toMatch(
      /^Compilation Error in model strict \(models\/strict\.sql\)\n\s+The source and target schemas on this incremental model are out of sync!/,
    );
    expect(byName(r, 'strict').message).toMatch(/Source columns not in target: other/);
    // full_refresh: false wins over --full-refresh: the table is kept and built incrementally
    r = await p.dbt(['run', '-s', 'kept', '--full-refresh']);
    expect(statuses(r)).toEqual({ kept: 'success' });
    expect(await p.col(`select id from ${p.schema}.kept order by id`)).toEqual([1, 2, 100]);
  });
});
