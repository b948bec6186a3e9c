import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { BuildView, ModelingService } from '@weir/modeling';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, tempDataDir } from './support/files';

/**
 * Data safety of builds: a materialization switch replaces the old relation and never writes
 * through it; a relation belongs to the project (or ingestion) that made it; seeds cannot collide,
 * read a BOM file, and keep their header names as dbt-postgres does.
 */
describe('modeling e2e: relation kinds, ownership and seeds', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let close: () => Promise<void>;
  const write = (project: string, f: string, s: string) => {
    const p = path.join(files.dir, 'projects', project, f);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, s);
  };
  const build = async (project: string, body: Record<string, unknown> = {}): Promise<BuildView> => {
    await t.http.post('/api/modeling/projects').set(admin).send({ path: project }).expect(201);
    const b = await t.http
      .post('/api/modeling/builds')
      .set(admin)
      .send({ project, ...body })
      .expect(202);
    return t.app.get(ModelingService).waitForBuild(b.body.id, 60_000);
  };
  const count = async (rel: string) => (await pg.query(`SELECT count(*)::int AS n FROM ${rel}`)).rows[0].n as number;
  const relkind = async (rel: string) =>
    (await pg.query(`SELECT relkind FROM pg_class WHERE oid = to_regclass($1)`, [rel])).rows[0]?.relkind as
      string | undefined;

  beforeAll(async () => {
    ({ t, files, pg, close } = await startIngestionApp());
  });
  afterAll(() => close?.());

  describe('a materialization switch replaces the old relation, never writes into it', () => {
    const KINDS = ['view', 'table', 'incremental', 'ephemeral'] as const;
    const pairs = KINDS.flatMap((a) => KINDS.filter((b) => b !== a).map((b) => [a, b] as const));
    const config = (k: string) =>
      k === 'incremental'
        ? `{{ config(materialized='incremental', unique_key='id') }}`
        : `{{ config(materialized='${k}') }}`;

    beforeAll(() => {
      write('switch', 'dbt_project.yml', 'name: switch\n');
      write(
        'switch',
        'seeds/base.csv',
        'id,v\n' + Array.from({ length: 10 }, (_, i) => `${i + 1},v${i + 1}`).join('\n') + '\n',
      );
      for (const [a, b] of pairs) {
        write('switch', `models/m_${a}_${b}.sql`, `${config(a)}\nselect * from {{ ref('base') }}`);
        write(
          'switch',
          `models/c_${a}_${b}.sql`,
          `{{ config(materialized='table') }}\nselect * from {{ ref('m_${a}_${b}') }}`,
        );
      }
    });

    it('every transition pair (view, table, incremental, ephemeral): upstream unchanged, the model rebuilt as its new kind', async () => {
      const first = await build('switch');
      expect(first.steps.filter((s) => s.status !== 'succeeded').map((s) => [s.node, s.status, s.error])).toEqual([]);
      expect(first.status).toBe('succeeded');
      for (const [a, b] of pairs)
        write('switch', `models/m_${a}_${b}.sql`, `${config(b)}\nselect * from {{ ref('base') }}`);
      const second = await build('switch');
      expect(second.steps.filter((s) => s.status !== 'succeeded')).toEqual([]);
      expect(await count('raw.base')).toBe(10);
      for (const [a, b] of pairs) {
        const rel = `analytics.m_${a}_${b}`;
        if (b === 'ephemeral') {
          // nothing is built; the old relation is left as it was (dbt does the same) and not written
          if (a !== 'ephemeral') expect(await count(rel)).toBe(10);
        } else {
          expect([a, b, await relkind(rel)]).toEqual([a, b, b === 'view' ? 'v' : 'r']);
          expect([a, b, await count(rel)]).toEqual([a, b, 10]);
        }
        expect([a, b, await count(`analytics.c_${a}_${b}`)]).toEqual([a, b, 10]);
      }
      const viewToInc = second.steps.find((s) => s.node === 'model.m_view_incremental')!;
      expect(viewToInc.refs).toMatchObject({ replaced: { was: 'view', now: 'table' } });
      // a third build of the switched incremental models merges into the table it made
      const third = await build('switch', { select: 'm_view_incremental m_table_incremental' });
      expect(third.status).toBe('succeeded');
      expect(third.steps.map((s) => s.refs?.['strategy'])).toEqual(['merge', 'merge']);
      expect(await count('raw.base')).toBe(10);
      expect(await count('analytics.m_view_incremental')).toBe(10);
    });

    it('a snapshot never writes into a relation that is not a snapshot table', async () => {
      write('snapsw', 'dbt_project.yml', 'name: snapsw\n');
      write(
        'snapsw',
        'snapshots/snap.sql',
        `{% snapshot snap_base %}{{ config(target_schema='analytics', unique_key='id', strategy='check', check_cols='all') }}select * from raw.base{% endsnapshot %}`,
      );
      await pg.query(`CREATE VIEW analytics.snap_base AS SELECT * FROM raw.base`);
      const b = await build('snapsw');
      expect(b.steps[0]).toMatchObject({ status: 'failed', errorCode: 'MODELING.NOT_A_SNAPSHOT_TABLE' });
      expect(await count('raw.base')).toBe(10);
      await pg.query(`DROP VIEW analytics.snap_base`);
    });
  });

  describe('a relation belongs to the project or ingestion that made it', () => {
    const project = (name: string, who: string) => {
      write(name, 'dbt_project.yml', `name: ${name}\n`);
      write(name, 'models/fct_orders.sql', `{{ config(materialized='table') }}\nselect 1 as id, '${who}'::text as who`);
    };

    it('another project building the same relation fails the step naming the owner; takeOver replaces it and is recorded', async () => {
      project('shop_a', 'a');
      project('shop_b', 'b');
      expect((await build('shop_a')).status).toBe('succeeded');
      const refused = await build('shop_b');
      expect(refused.status).toBe('failed');
      expect(refused.steps[0]).toMatchObject({
        status: 'failed',
        errorCode: 'MODELING.RELATION_OWNED_ELSEWHERE',
        error: expect.stringMatching(/analytics\.fct_orders belongs to project "shop_a"/),
      });
      expect((await pg.query(`SELECT who FROM analytics.fct_orders`)).rows).toEqual([{ who: 'a' }]);
      const before = (await t.http.get('/api/catalog/datasets/fct_orders').set(admin).expect(200)).body;
      expect(before).toMatchObject({ managedBy: 'modeling:shop_a', tags: expect.arrayContaining(['project:shop_a']) });

      const taken = await build('shop_b', { takeOver: true });
      expect(taken).toMatchObject({ status: 'succeeded', takeOver: true });
      expect((await pg.query(`SELECT who FROM analytics.fct_orders`)).rows).toEqual([{ who: 'b' }]);
      const after = (await t.http.get('/api/catalog/datasets/fct_orders').set(admin).expect(200)).body;
      expect(after).toMatchObject({ managedBy: 'modeling:shop_b', tags: expect.arrayContaining(['project:shop_b']) });
      expect(after.versions.find((v: { kind: string }) => v.kind === 'ownership')).toMatchObject({
        details: ['analytics.fct_orders taken over by modeling:shop_b from modeling:shop_a'],
      });
      // and now shop_a is the one refused
      expect((await build('shop_a')).steps[0]).toMatchObject({
        errorCode: 'MODELING.RELATION_OWNED_ELSEWHERE',
        error: expect.stringMatching(/project "shop_b"/),
      });
    });

    it("a model whose relation is an ingestion dataset's table is refused; an ingestion source on a model's dataset is refused", async () => {
      await t.http
        .post('/api/catalog/datasets')
        .set(admin)
        .send({
          name: 'dim_loaded',
          schema: 'analytics',
          table: 'dim_x',
          contract: { columns: [{ name: 'id', type: 'integer', nullable: false }] },
        })
        .expect(201);
      await pg.query(`CREATE TABLE analytics.dim_x (id integer NOT NULL); INSERT INTO analytics.dim_x VALUES (7)`);
      write('shop_c', 'dbt_project.yml', 'name: shop_c\n');
      write('shop_c', 'models/dim_x.sql', `{{ config(materialized='table') }}\nselect 1 as id`);
      const b = await build('shop_c');
      expect(b.steps[0]).toMatchObject({
        status: 'failed',
        errorCode: 'MODELING.RELATION_OWNED_ELSEWHERE',
        error: expect.stringMatching(/belongs to ingestion/),
      });
      expect((await pg.query(`SELECT id FROM analytics.dim_x`)).rows).toEqual([{ id: 7 }]);

      const refused = await t.http
        .post('/api/ingestion/sources')
        .set(admin)
        .send({ name: 'orders_over_model', dataset: 'fct_orders', format: 'csv', strategy: { kind: 'replace' } })
        .expect(409);
      expect(refused.body).toMatchObject({
        code: 'INGESTION.RELATION_OWNED_ELSEWHERE',
        detail: expect.stringMatching(/project "shop_b"/),
      });
    });

    it("a seed of another project's name is refused the same way", async () => {
      write('seeds_a', 'dbt_project.yml', 'name: seeds_a\n');
      write('seeds_a', 'seeds/countries.csv', 'code,name\nfr,France\n');
      write('seeds_b', 'dbt_project.yml', 'name: seeds_b\n');
      write('seeds_b', 'seeds/countries.csv', 'code,name\nde,Germany\nit,Italy\n');
      expect((await build('seeds_a')).status).toBe('succeeded');
      const b = await build('seeds_b');
      expect(b.steps[0]).toMatchObject({ status: 'failed', errorCode: 'MODELING.RELATION_OWNED_ELSEWHERE' });
      expect((await pg.query(`SELECT code FROM raw.countries`)).rows).toEqual([{ code: 'fr' }]);
    });
  });

  describe('seeds', () => {
    it('two seeds whose source names share a 64-character prefix load into their own tables', async () => {
      const long = 'a_rather_long_seed_name_shared_by_several_seeds';
      write('seedcollide', 'dbt_project.yml', 'name: seedcollide\n');
      write('seedcollide', `seeds/${long}_one.csv`, 'id\n1\n');
      write('seedcollide', `seeds/${long}_two.csv`, 'id\n1\n2\n');
      expect(`seed_seedcollide_${long}_one`.slice(0, 64)).toBe(`seed_seedcollide_${long}_two`.slice(0, 64));
      const b = await build('seedcollide');
      expect(b.status).toBe('succeeded');
      expect(await count(`raw.${long}_one`)).toBe(1);
      expect(await count(`raw.${long}_two`)).toBe(2);
      const sources = b.steps.map((s) => s.refs!['source'] as string);
      expect(new Set(sources).size).toBe(2);
      for (const s of sources) expect(s.length).toBeLessThanOrEqual(63);
      // a rebuild reuses each seed's own source
      const again = await build('seedcollide');
      expect(again.steps.map((s) => s.refs!['source'])).toEqual(sources);
      expect(await count(`raw.${long}_two`)).toBe(2);
    });

    it('a seed with a byte-order mark loads every row; header names kept as written (quote_columns true), folded with quote_columns: false', async () => {
      write('bom', 'dbt_project.yml', 'name: bom\nseeds:\n  bom:\n    lower:\n      +quote_columns: false\n');
      write('bom', 'seeds/excel.csv', '\ufeffid,sTaTuS,customerId\n1,new,10\n2,paid,11\n');
      write('bom', 'seeds/lower/excel_lower.csv', '\ufeffid,sTaTuS,customerId\n1,new,10\n');
      const b = await build('bom');
      expect(b.status).toBe('succeeded');
      expect(b.steps.find((s) => s.node === 'seed.excel')).toMatchObject({ rowsAffected: 2 });
      const cols = async (table: string) =>
        (
          await pg.query(
            `SELECT array_agg(attname::text ORDER BY attnum) AS a FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
            [table],
          )
        ).rows[0].a;
      expect(await cols('raw.excel')).toEqual(['id', 'sTaTuS', 'customerId']);
      expect(await cols('raw.excel_lower')).toEqual(['id', 'status', 'customerid']);
      expect((await pg.query(`SELECT "sTaTuS" FROM raw.excel ORDER BY id`)).rows.map((r) => r.sTaTuS)).toEqual([
        'new',
        'paid',
      ]);
      // infer reads the file the same way (BOM stripped) and names columns by the one documented rule
      const inferred = (
        await t.http
          .post('/api/ingestion/infer?format=csv')
          .set(admin)
          .set('Content-Type', 'text/csv')
          .send('\ufeffid,sTaTuS,customerId\n1,new,10\n')
          .expect(201)
      ).body;
      expect(inferred.contract.columns.map((c: { name: string }) => c.name)).toEqual(['id', 'status', 'customerid']);
    });
  });
});
