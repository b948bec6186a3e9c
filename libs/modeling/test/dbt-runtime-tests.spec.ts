/**
 * dbt's data tests as `dbt build` / `dbt test` run them: generic tests at model, column, seed
 * and source level (`data_tests:` and `tests:`), their configs (severity, error_if/warn_if,
 * where, limit, store_failures, enabled, tags), custom generic tests and singular tests.
 */
import { byName, dbtFixture, projectYml, statuses, type DbtFixture } from './dbt-project-fixture';

jest.setTimeout(60_000);

let fx: DbtFixture;
beforeAll(async () => {
  fx = await dbtFixture('weir_dbtrt_tests');
});
afterAll(async () => {
  await fx?.close();
});

const schemaYml = `version: 2
models:
  - name: nums
    data_tests:
      - is_even:
          column_name: val
          name: model_level_even
          config:
            severity: warn
    columns:
      - name: id
        data_tests: [unique, not_null]
      - name: val
        tests:
          - is_even:
              name: val_even_where
              config:
                where: "val % 2 = 0"
          - not_null:
              config:
                enabled: false
          - accepted_values:
              name: val_accepted_thresholds
              values: [2, 4]
              config:
                warn_if: ">1"
                error_if: ">10"
                tags: [thresholds]
          - accepted_values:
              name: val_accepted_error
              values: [2, 4]
              config:
                error_if: ">=2"
          - is_odd:
              config:
                store_failures: true
          - is_even:
              name: val_even_view
              config:
                store_failures_as: view
                severity: warn
                tags: [thresholds]
          - is_even:
              name: val_even_never_stored
              config:
                store_failures: false
                severity: warn
                tags: [thresholds]
          - is_even:
              name: val_even_limited
              config:
                limit: 1
seeds:
  - name: raw_nums
    columns:
      - name: id
        data_tests: [unique]
sources:
  - name: raw
    schema: "{{ target.schema }}_src"
    tables:
      - name: src_nums
        data_tests:
          - is_even:
              column_name: id
              name: source_ids_even
        columns:
          - name: val
            tests: [not_null]
`;

describe('data tests', () => {
  it('runs generic, custom and singular tests with their configs', async () => {
    const p = fx.project({
      'dbt_project.yml': projectYml('tst'),
      'seeds/raw_nums.csv': 'id,val\n1,2\n2,3\n3,4\n4,5\n',
      'models/nums.sql': `select * from {{ ref('raw_nums') }}`,
      'models/schema.yml': schemaYml,
      'macros/is_even.sql': `{% test is_even(model, column_name) %}\nselect * from {{ model }} where {{ column_name }} % 2 <> 0\n{% endtest %}`,
      'tests/generic/is_odd.sql': `{% test is_odd(model, column_name) %}\nselect * from {{ model }} where {{ column_name }} % 2 = 0\n{% endtest %}`,
      'tests/assert_small_ids.sql': `select * from {{ ref('nums') }} where id > 100`,
      'tests/assert_has_big.sql': `{{ config(severity='warn') }}\nselect * from {{ ref('nums') }} where id < 3`,
    });
    await fx.client.query(
      `create schema ${p.schema}_src; create table ${p.schema}_src.src_nums as select * from (values (1, 2), (3, null)) v(id, val)`,
    );
    const r = await p.dbt(['build']);
    expect(r.error).toBeUndefined();
    const s = statuses(r);
    expect(s).toMatchObject({
      raw_nums: 'success',
      nums: 'success',
      unique_raw_nums_id: 'pass',
      unique_nums_id: 'pass',
      not_null_nums_id: 'pass',
      model_level_even: 'warn',
      val_even_where: 'pass',
      val_accepted_thresholds: 'warn',
      val_accepted_error: 'fail',
      is_odd_nums_val: 'fail',
      val_even_limited: 'fail',
      val_even_view: 'warn',
      val_even_never_stored: 'warn',
      source_ids_even: 'fail',
      source_not_null_raw_src_nums_val: 'fail',
      assert_small_ids: 'pass',
      assert_has_big: 'warn',
    });
    // the disabled test is not run
    expect(Object.keys(s).filter((n) => n.startsWith('not_null_nums_val'))).toEqual([]);
    expect(r.success).toBe(false);
    expect(byName(r, 'val_accepted_thresholds').message).toBe('Got 2 results, configured to warn if >1');
    expect(byName(r, 'val_accepted_thresholds').failures).toBe(2);
    expect(byName(r, 'val_even_limited').failures).toBe(1);
    expect(byName(r, 'model_level_even').failures).toBe(2);
    // store_failures: the failing rows in <schema>_dbt_test__audit.<test name>
    expect(await p.col(`select val from ${p.schema}_dbt_test__audit.is_odd_nums_val order by val`)).toEqual([2, 4]);
    // a test's manifest entry
    const manifest = p.artifact('manifest.json') as {
      nodes: Record<string, { name: string; config: Record<string, unknown>; depends_on: { nodes: string[] } }>;
      disabled: Record<string, unknown>;
    };
    const thresholds = Object.values(manifest.nodes).find((n) => n.name === 'val_accepted_thresholds')!;
    expect(thresholds.config).toMatchObject({ warn_if: '>1', error_if: '>10', tags: ['thresholds'] });
    expect(thresholds.depends_on.nodes).toEqual(['model.tst.nums']);
    expect(Object.keys(manifest.disabled).some((k) => k.startsWith('test.tst.not_null_nums_val'))).toBe(true);

    // only warnings: the command succeeds
    const w = await p.dbt(['test', '--select', 'tag:thresholds', '--store-failures']);
    expect(statuses(w)).toEqual({
      val_accepted_thresholds: 'warn',
      val_even_view: 'warn',
      val_even_never_stored: 'warn',
    });
    expect(w.success).toBe(true);
    // --store-failures stores what does not say otherwise; store_failures_as: view stores a view
    expect(
      await p.rows(
        `select table_name, table_type from information_schema.tables where table_schema = '${p.schema}_dbt_test__audit' order by 1`,
      ),
    ).toEqual([
      { table_name: 'is_odd_nums_val', table_type: 'BASE TABLE' },
      { table_name: 'val_accepted_thresholds', table_type: 'BASE TABLE' },
      { table_name: 'val_even_view', table_type: 'VIEW' },
    ]);

    // the tests of one model, and of a source
    const m = await p.dbt(['test', '--select', 'source:raw']);
    expect(Object.keys(statuses(m)).sort()).toEqual(['source_ids_even', 'source_not_null_raw_src_nums_val']);
  });

  it('build skips the children of a failed test', async () => {
    const p = fx.project({
      'dbt_project.yml': projectYml('tst2'),
      'models/parent.sql': `select 1 as id union all select 1`,
      'models/child.sql': `select * from {{ ref('parent') }}`,
      'models/grandchild.sql': `select * from {{ ref('child') }}`,
      'models/other.sql': `select 2 as id`,
      'models/schema.yml': `version: 2\nmodels:\n  - name: parent\n    columns:\n      - name: id\n        data_tests: [unique]\n`,
    });
    const r = await p.dbt(['build']);
    expect(statuses(r)).toEqual({
      parent: 'success',
      unique_parent_id: 'fail',
      child: 'skipped',
      grandchild: 'skipped',
      other: 'success',
    });
    expect(r.success).toBe(false);
    expect(await p.col(`select count(*)::int from pg_views where schemaname = '${p.schema}'`)).toEqual([2]);
  });
});
