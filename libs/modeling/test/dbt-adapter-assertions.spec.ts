import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '@weir/platform/testing';
import type { DbtNodeResult } from '../src/dbt/invocation';
import {
  assertionLabel,
  checkAssertion,
  checkOutcome,
  comparedColumns,
  compareQueryValue,
  countArtifactEntries,
  splitStatements,
  substitutePlaceholders,
  timestampTextEquals,
  unexpectedSnapshotPairs,
  type Assertion,
  type AssertionContext,
  type StepOutcome,
} from '../conformance/dbt-adapter.assertions';

/** The dbt-adapter conformance suite's assertion kinds, without the dbt engine. */
const node = (name: string, status: DbtNodeResult['status'], message: string | null = null): DbtNodeResult => ({
  unique_id: `model.test.${name}`,
  name,
  resource_type: 'model',
  status,
  message,
  execution_time: 0.1,
  failures: null,
  adapter_response: {},
});

const ran = (results: DbtNodeResult[], success = true): StepOutcome => ({ run: 'dbt', success, results });

describe('dbt-adapter assertions over a step outcome', () => {
  const results = [
    node('model_a', 'success', 'SELECT 1'),
    node('incremental_fail', 'error', 'Compilation Error in model incremental_fail (models/incremental_fail.sql)'),
    node('skipped_one', 'skipped'),
  ];

  it('step_succeeds and step_fails read the exit state, and say why a step failed', () => {
    expect(checkOutcome({ kind: 'step_succeeds' }, ran(results))).toBeNull();
    expect(checkOutcome({ kind: 'step_fails' }, ran(results, false))).toBeNull();
    expect(checkOutcome({ kind: 'step_fails' }, ran(results))).toBe('expected failure, got success');
    expect(checkOutcome({ kind: 'step_succeeds' }, ran(results, false))).toMatch(
      /^expected success, got failure: incremental_fail error: Compilation Error/,
    );
    expect(checkOutcome({ kind: 'step_succeeds' }, { run: 'dbt', success: false, results: [], error: 'boom' })).toBe(
      'expected success, got failure: boom',
    );
  });

  it('results_count and result_names (a set: order and duplicates ignored)', () => {
    expect(checkOutcome({ kind: 'results_count', equals: 3 }, ran(results))).toBeNull();
    expect(checkOutcome({ kind: 'results_count', equals: 2 }, ran(results))).toMatch(/expected 2 results, got 3/);
    expect(
      checkOutcome(
        { kind: 'result_names', equals: ['skipped_one', 'model_a', 'incremental_fail', 'model_a'] },
        ran(results),
      ),
    ).toBeNull();
    expect(checkOutcome({ kind: 'result_names', equals: ['model_a'] }, ran(results))).toBe(
      'expected {model_a}, got {incremental_fail, model_a, skipped_one}',
    );
  });

  it('result_status, results_all_status and result_message_contains find the node by name', () => {
    expect(checkOutcome({ kind: 'result_status', node: 'model_a', equals: 'success' }, ran(results))).toBeNull();
    expect(checkOutcome({ kind: 'result_status', node: 'incremental_fail', equals: 'success' }, ran(results))).toMatch(
      /^expected success, got error: Compilation Error/,
    );
    expect(checkOutcome({ kind: 'result_status', node: 'nope', equals: 'success' }, ran(results))).toMatch(
      /^no result for node nope/,
    );
    expect(checkOutcome({ kind: 'results_all_status', equals: 'success' }, ran(results))).toMatch(
      /got error for incremental_fail/,
    );
    expect(checkOutcome({ kind: 'results_all_status', equals: 'success' }, ran([results[0]!]))).toBeNull();
    const contains = (text: string, ci?: boolean): Assertion => ({
      kind: 'result_message_contains',
      node: 'incremental_fail',
      text,
      ...(ci === undefined ? {} : { case_insensitive: ci }),
    });
    expect(checkOutcome(contains('Compilation Error'), ran(results))).toBeNull();
    expect(checkOutcome(contains('compilation error'), ran(results))).toMatch(/expected the message to contain/);
    expect(checkOutcome(contains('compilation error', true), ran(results))).toBeNull();
    expect(checkOutcome({ kind: 'result_message_contains', node: 'skipped_one', text: 'x' }, ran(results))).toMatch(
      /got none/,
    );
  });

  it('labels name the kind and what it is about', () => {
    expect(assertionLabel({ kind: 'result_status', node: 'model_a', equals: 'success' })).toBe('result_status model_a');
    expect(assertionLabel({ kind: 'relations_equal', relations: ['a', 'b'] })).toBe('relations_equal a,b');
    expect(assertionLabel({ kind: 'step_succeeds' })).toBe('step_succeeds');
  });
});

describe('dbt-adapter assertion helpers', () => {
  it('snapshot_records_within: every record expected; a missing expected pair or an empty relation passes', () => {
    const rows = [
      { id: 1, is_current: true },
      { id: 2, is_current: false },
      { id: 2, is_current: true },
    ];
    expect(unexpectedSnapshotPairs(rows, [1, 2, 3], [2])).toEqual([]);
    expect(unexpectedSnapshotPairs([], [1], [])).toEqual([]);
    expect(unexpectedSnapshotPairs(rows, [1, 2], [])).toEqual(['(2, false)']);
    expect(unexpectedSnapshotPairs([{ id: '7', is_current: true }], [7], [])).toEqual([]);
  });

  it('query_value compares timestamps without time zone and plain values', () => {
    expect(timestampTextEquals('2099-12-31 00:00:00', '2099-12-31 00:00:00')).toBe(true);
    expect(timestampTextEquals('2016-08-20 16:44:49.000', '2016-08-20 16:44:49')).toBe(true);
    expect(timestampTextEquals('2016-08-20 16:44:49.5', '2016-08-20 16:44:49')).toBe(false);
    expect(compareQueryValue('2099-12-31 00:00:00', 1114, '2099-12-31 00:00:00', 'timestamp')).toBeNull();
    expect(compareQueryValue('2099-12-31 00:00:00+00', 1184, '2099-12-31 00:00:00', 'timestamp')).toMatch(
      /timestamp with time zone/,
    );
    expect(compareQueryValue(null, 1114, '2099-12-31 00:00:00', 'timestamp')).toMatch(/got null/);
    expect(compareQueryValue('42', 20, 42, undefined)).toBeNull();
    expect(compareQueryValue('t', 16, true, undefined)).toBeNull();
    expect(compareQueryValue('abc', 25, 'abd', undefined)).toMatch(/expected "abd"/);
  });

  it('artifact_count counts the keys of an object or the items of a list', () => {
    expect(countArtifactEntries({ nodes: { a: 1, b: 2 }, sources: {} }, 'nodes')).toBe(2);
    expect(countArtifactEntries({ nodes: { a: 1 }, sources: {} }, 'sources')).toBe(0);
    expect(countArtifactEntries({ results: [1, 2, 3] }, 'results')).toBe(3);
    expect(countArtifactEntries({}, 'nodes')).toMatch(/no top-level key/);
  });

  it('scripts: placeholders and run_sql_file splitting', () => {
    expect(substitutePlaceholders('insert into {schema}.seed select 1 from {database}.x', 's1', 'db')).toBe(
      'insert into s1.seed select 1 from "db".x',
    );
    expect(splitStatements('-- c\ndrop table x;\ncreate table x (a int);\n\n')).toEqual([
      '-- c\ndrop table x',
      '\ncreate table x (a int)',
    ]);
    // the corpus's rendered scripts: a ';' and an apostrophe in the leading comment
    expect(
      splitStatements(
        "-- upstream's clone_table(); as schema.name\ndrop table if exists s.fact;\ncreate table s.fact as select 1;\n",
      ),
    ).toEqual([
      "-- upstream's clone_table(); as schema.name\ndrop table if exists s.fact",
      '\ncreate table s.fact as select 1',
    ]);
    expect(splitStatements('insert into t values (\'a;b\', "c;d");/* x; */ select $$;$$, $q$;$q$;')).toEqual([
      'insert into t values (\'a;b\', "c;d")',
      '/* x; */ select $$;$$, $q$;$q$',
    ]);
    expect(splitStatements('update t set a = 1 where id < 11')).toEqual(['update t set a = 1 where id < 11']);
    expect(splitStatements('-- only a comment;\n  ;  ')).toEqual([]);
  });

  it('relations_equal columns: dbt_ columns left out (any case), double-quoted, sorted', () => {
    expect(comparedColumns(['name', 'DBT_SCD_ID', 'id', 'dbt_valid_to', 'Zeta'])).toBe('"Zeta", "id", "name"');
  });
});

describe('dbt-adapter assertions on PostgreSQL', () => {
  let db: TestDatabase;
  let client: Client;
  let ctx: AssertionContext;
  const schema = 'test_assertions';
  const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-dbtad-spec-'));
  const ok = ran([]);
  const check = (a: Assertion) => checkAssertion(a, ok, ctx);

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false, prefix: 'weir_dbtad_spec' });
    client = new Client({ connectionString: db.url });
    await client.connect();
    ctx = { db: client, schema, database: db.name, projectDir };
    await client.query(`
      create schema ${schema};
      create table ${schema}.a (id int, name varchar(10), dbt_updated_at timestamp);
      insert into ${schema}.a values (1, 'x', now()), (2, 'y', now());
      create table ${schema}.same (name varchar(10), id int);
      insert into ${schema}.same values ('y', 2), ('x', 1);
      create view ${schema}.a_view as select id, name from ${schema}.a;
      create table ${schema}.other (id int, name varchar(20));
      insert into ${schema}.other values (1, 'x'), (2, 'z');
      create table ${schema}.dup (id int, name text);
      insert into ${schema}.dup values (1, 'x'), (2, 'y'), (2, 'y');
      create table ${schema}.snap (id int, dbt_valid_to timestamp);
      insert into ${schema}.snap values (1, null), (2, '2020-01-01'), (2, null);
      create table ${schema}.ts (id int, t timestamp, tz timestamptz);
      insert into ${schema}.ts values (1, '2099-12-31 00:00:00', '2099-12-31 00:00:00+00'), (2, '2016-08-20 16:44:49', null);
    `);
    fs.mkdirSync(path.join(projectDir, 'target'));
    fs.writeFileSync(
      path.join(projectDir, 'target', 'catalog.json'),
      JSON.stringify({ nodes: { 'model.test.a': {}, 'seed.test.b': {} }, sources: {} }),
    );
  });

  afterAll(async () => {
    await client?.end();
    await db?.drop();
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it('relations_equal: same rows over the first relation non-dbt_ columns, and same row counts', async () => {
    expect(await check({ kind: 'relations_equal', relations: ['a', 'same', 'a_view'] })).toBeNull();
    expect(await check({ kind: 'relations_equal', relations: ['a', 'other'] })).toMatch(
      /^a vs other: row count difference 0, 2 mismatched rows/,
    );
    // EXCEPT collapses the duplicate; the row counts still differ
    expect(await check({ kind: 'relations_equal', relations: ['dup', 'same'] })).toMatch(
      /row count difference 1, 0 mismatched rows/,
    );
    expect(await check({ kind: 'relations_equal', relations: ['missing', 'a'] })).toMatch(/not found/);
    expect(await check({ kind: 'relations_equal', relations: ['a', 'missing'] })).toMatch(/does not exist/);
  });

  it('relation_rows and relation_type', async () => {
    expect(await check({ kind: 'relation_rows', relation: 'dup', equals: 3 })).toBeNull();
    expect(await check({ kind: 'relation_rows', relation: 'dup', equals: 2 })).toBe('expected 2 rows, got 3');
    expect(await check({ kind: 'relation_type', relation: 'a', equals: 'table' })).toBeNull();
    expect(await check({ kind: 'relation_type', relation: 'a_view', equals: 'view' })).toBeNull();
    expect(await check({ kind: 'relation_type', relation: 'a_view', equals: 'table' })).toBe(
      'expected table, got view',
    );
    expect(await check({ kind: 'relation_type', relation: 'missing', equals: 'table' })).toMatch(/does not exist/);
  });

  it('column_types_equal compares (name, type, length) sorted by name', async () => {
    expect(await check({ kind: 'column_types_equal', relations: ['same', 'a_view'] })).toBeNull();
    expect(await check({ kind: 'column_types_equal', relations: ['same', 'other'] })).toMatch(
      /first at name character varying\(10\) vs name character varying\(20\)/,
    );
  });

  it('snapshot_records_within', async () => {
    const snap = (current: number[], closed: number[]): Assertion => ({
      kind: 'snapshot_records_within',
      relation: 'snap',
      current_ids: current,
      closed_ids: closed,
    });
    expect(await check(snap([1, 2, 3], [2, 5]))).toBeNull();
    expect(await check(snap([1, 2], []))).toMatch(/unexpected \(id, is_current\) records: \(2, false\)/);
  });

  it('query_value: row and column by position, placeholders substituted, timestamps without time zone', async () => {
    const q = (row: number, column: number, equals: unknown, type?: string): Assertion => ({
      kind: 'query_value',
      sql: 'select id, t, tz from {schema}.ts order by id',
      row,
      column,
      equals,
      ...(type ? { type } : {}),
    });
    expect(await check(q(0, 1, '2099-12-31 00:00:00', 'timestamp'))).toBeNull();
    expect(await check(q(1, 1, '2016-08-20 16:44:49', 'timestamp'))).toBeNull();
    expect(await check(q(1, 1, '2099-12-31 00:00:00', 'timestamp'))).toMatch(
      /^row 1 column 1: expected 2099-12-31 00:00:00, got 2016-08-20 16:44:49/,
    );
    expect(await check(q(0, 2, '2099-12-31 00:00:00', 'timestamp'))).toMatch(/timestamp with time zone/);
    expect(await check(q(1, 0, 2))).toBeNull();
    expect(await check(q(5, 0, 2))).toMatch(/returned 2 rows/);
  });

  it('artifact_count, file_exists and file_absent are relative to the project folder', async () => {
    expect(await check({ kind: 'artifact_count', path: 'target/catalog.json', key: 'nodes', equals: 2 })).toBeNull();
    expect(await check({ kind: 'artifact_count', path: 'target/catalog.json', key: 'sources', equals: 1 })).toBe(
      'expected 1 entries under "sources", got 0',
    );
    expect(await check({ kind: 'artifact_count', path: 'target/manifest.json', key: 'nodes', equals: 1 })).toMatch(
      /cannot read/,
    );
    expect(await check({ kind: 'file_exists', path: 'target/catalog.json' })).toBeNull();
    expect(await check({ kind: 'file_absent', path: 'target/catalog.json' })).toBe('target/catalog.json exists');
    expect(await check({ kind: 'file_absent', path: 'target/run_results.json' })).toBeNull();
  });

  it('a results check after an invocation that threw says what it threw', async () => {
    const threw: StepOutcome = { run: 'dbt', success: false, results: [], error: 'dbt engine not built yet' };
    expect(await checkAssertion({ kind: 'step_fails' }, threw, ctx)).toBeNull();
    expect(await checkAssertion({ kind: 'results_count', equals: 2 }, threw, ctx)).toBe(
      'expected 2 results, got 0 (the invocation threw: dbt engine not built yet)',
    );
  });
});
