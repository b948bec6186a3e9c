import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { ModelingService } from '@weir/modeling';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, tempDataDir } from './support/files';

describe('modeling e2e: SCD2 snapshots', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let close: () => Promise<void>;
  const write = (f: string, s: string) => {
    const p = path.join(files.dir, 'projects', 'snap', f);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, s);
  };
  const start = async (select?: string) =>
    (await t.http.post('/api/modeling/builds').set(admin).send({ project: 'snap', select }).expect(202)).body.id;
  const build = async (select?: string) => t.app.get(ModelingService).waitForBuild(await start(select), 60_000);
  const current = async (rel: string) =>
    (await pg.query(`SELECT id, name FROM ${rel} WHERE dbt_is_current ORDER BY id`)).rows;
  const all = async (rel: string) =>
    (
      await pg.query(
        `SELECT id, name, dbt_valid_to IS NULL AS cur, dbt_is_deleted AS del FROM ${rel} ORDER BY id, dbt_valid_from`,
      )
    ).rows;

  beforeAll(async () => {
    ({ t, files, pg, close } = await startIngestionApp());
    await pg.query(
      `CREATE SCHEMA IF NOT EXISTS raw; CREATE TABLE raw.people (id int, name text, updated_at timestamptz)`,
    );
    await pg.query(`INSERT INTO raw.people VALUES (1, 'Ann', '2026-01-01'), (2, 'Bob', '2026-01-01')`);
    write('dbt_project.yml', 'name: snap\n');
    write('models/placeholder.sql', 'select 1 as x');
    write(
      'snapshots/people.sql',
      "{% snapshot people_ts %}\n{{ config(target_schema='snapshots', unique_key='id', strategy='timestamp', updated_at='updated_at', hard_deletes='invalidate') }}\nselect * from raw.people\n{% endsnapshot %}\n" +
        "{% snapshot people_check %}\n{{ config(target_schema='snapshots', unique_key='id', strategy='check', check_cols=['name'], hard_deletes='new_record') }}\nselect id, name from raw.people\n{% endsnapshot %}\n",
    );
    await t.http.post('/api/modeling/projects').set(admin).send({ path: 'snap' }).expect(201);
  });
  afterAll(() => close?.());

  it('first run: one current version per key', async () => {
    const b = await build('people_ts people_check');
    expect(b.status).toBe('succeeded');
    expect(await current('snapshots.people_ts')).toEqual([
      { id: 1, name: 'Ann' },
      { id: 2, name: 'Bob' },
    ]);
    const ds = (await t.http.get('/api/catalog/datasets/people_ts').set(admin).expect(200)).body;
    expect(ds).toMatchObject({ schema: 'snapshots', tags: ['snapshot', 'project:snap'] });
    expect(ds.contract.columns.map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining(['dbt_valid_from', 'dbt_valid_to', 'dbt_is_current']),
    );
  });

  it('a change closes the old version and opens a new one; a re-run on unchanged data changes nothing', async () => {
    await pg.query(`UPDATE raw.people SET name = 'Bobby', updated_at = '2026-02-01' WHERE id = 2`);
    await build('people_ts people_check');
    for (const rel of ['snapshots.people_ts', 'snapshots.people_check']) {
      expect(await all(rel)).toEqual([
        { id: 1, name: 'Ann', cur: true, del: false },
        { id: 2, name: 'Bob', cur: false, del: false },
        { id: 2, name: 'Bobby', cur: true, del: false },
      ]);
    }
    const before = await pg.query(`SELECT count(*)::int AS n, max(dbt_updated_at) AS m FROM snapshots.people_check`);
    const again = await build('people_ts people_check');
    expect(again.steps.map((s) => s.refs)).toEqual([
      expect.objectContaining({ inserted: 0, invalidated: 0 }),
      expect.objectContaining({ inserted: 0, invalidated: 0 }),
    ]);
    expect(
      (await pg.query(`SELECT count(*)::int AS n, max(dbt_updated_at) AS m FROM snapshots.people_check`)).rows,
    ).toEqual(before.rows);
  });

  it('duplicate keys in one batch keep the latest row; never two current rows', async () => {
    await pg.query(`INSERT INTO raw.people VALUES (1, 'Annie', '2026-03-01'), (1, 'Anna', '2026-03-02')`);
    await build('people_ts');
    expect(await current('snapshots.people_ts')).toEqual([
      { id: 1, name: 'Anna' },
      { id: 2, name: 'Bobby' },
    ]);
    await expect(
      pg.query(`INSERT INTO snapshots.people_ts (id, name, dbt_valid_to) VALUES (1, 'x', NULL)`),
    ).rejects.toThrow(/people_ts_one_current/);
  });

  it('two racing runs leave one current row per key', async () => {
    await pg.query(`UPDATE raw.people SET name = 'Bob II', updated_at = '2026-04-01' WHERE id = 2`);
    const [a, b] = await Promise.all([start('people_ts'), start('people_ts')]);
    await t.app.get(ModelingService).waitForBuild(a, 60_000);
    await t.app.get(ModelingService).waitForBuild(b, 60_000);
    const dupes = await pg.query(
      `SELECT id, count(*) FROM snapshots.people_ts WHERE dbt_is_current GROUP BY id HAVING count(*) > 1`,
    );
    expect(dupes.rowCount).toBe(0);
    expect(await current('snapshots.people_ts')).toEqual([
      { id: 1, name: 'Anna' },
      { id: 2, name: 'Bob II' },
    ]);
  });

  it('hard deletes: invalidate closes the row; new_record adds a deleted marker', async () => {
    await pg.query(`DELETE FROM raw.people WHERE id = 2`);
    await build('people_ts people_check');
    expect(await current('snapshots.people_ts')).toEqual([{ id: 1, name: 'Anna' }]);
    const marker = (
      await pg.query(`SELECT id, name, dbt_is_deleted FROM snapshots.people_check WHERE dbt_is_current AND id = 2`)
    ).rows;
    expect(marker).toEqual([{ id: 2, name: 'Bobby', dbt_is_deleted: true }]); // people_check last saw Bobby (the race test built people_ts only)
    const again = await build('people_check');
    expect(again.steps[0].refs).toMatchObject({ inserted: 0, invalidated: 0 });
  });
});
