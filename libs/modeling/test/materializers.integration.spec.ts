import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { Client } from 'pg';
import { loadConfig, PlatformModule } from '@weir/platform';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';
import { CatalogModule } from '@weir/catalog';
import { QualityModule } from '@weir/quality';
import { IngestionModule } from '@weir/ingestion';
import { ModelingModule } from '../src/modeling.module';
import { MODEL_BUILDS, ModelBuildsPort } from '../src/application/ports/model-builds.port';
import { ProjectsService } from '../src/application/projects.service';

/**
 * The modeling slice on a real PostgreSQL, without HTTP: one project with a seed, a view, a table,
 * an incremental model and a snapshot, built twice through MODEL_BUILDS; each materializer's result
 * checked in the warehouse.
 */
describe('materializers on PostgreSQL', () => {
  let db: TestDatabase;
  let app: INestApplicationContext;
  let pg: Client;
  let builds: ModelBuildsPort;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-modeling-'));
  const dir = path.join(work, 'projects', 'shop');
  const write = (f: string, s: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), s);
  };

  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'weir_materializers' });
    const config = loadConfig({
      DATABASE_URL: db.url,
      WEIR_LOG_LEVEL: 'silent',
      WEIR_DATA_DIR: work,
      WEIR_ROLES: 'worker',
    });
    @Module({
      imports: [
        PlatformModule.forRoot({ config, databaseUrl: db.url, warehouseUrl: db.url }),
        CatalogModule,
        QualityModule,
        IngestionModule,
        ModelingModule,
      ],
    })
    class MaterializersModule {}
    app = await NestFactory.createApplicationContext(MaterializersModule, { logger: false });
    await app.init();
    builds = app.get<ModelBuildsPort>(MODEL_BUILDS);
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    write('dbt_project.yml', 'name: shop\n');
    write('seeds/customers.csv', 'id,name\n1,Ann\n2,Bob\n');
    write(
      'models/customer_names.sql',
      `{{ config(materialized='view') }}\nselect id, upper(name) as name from {{ ref('customers') }}`,
    );
    write(
      'models/customer_count.sql',
      `{{ config(materialized='table') }}\nselect count(*) as n from {{ ref('customer_names') }}`,
    );
    write(
      'models/customer_log.sql',
      `{{ config(materialized='incremental', unique_key='id') }}\nselect id::int as id, name from {{ ref('customers') }}\n{% if is_incremental() %} where id::int > (select coalesce(max(id), 0) from {{ this }}) {% endif %}`,
    );
    write(
      'snapshots/customers_snap.sql',
      `{% snapshot customers_snap %}{{ config(target_schema='snaps', unique_key='id', strategy='check', check_cols='all') }}select * from {{ ref('customers') }}{% endsnapshot %}`,
    );
    await app.get(ProjectsService).register('shop');
  });
  afterAll(async () => {
    await pg?.end();
    await app?.close();
    await db?.drop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const build = async () => {
    const b = await builds.waitFor((await builds.start({ project: 'shop' })).id, 60_000);
    return Object.fromEntries(b.steps.map((s) => [s.node, [s.status, s.rowsAffected, s.error]]));
  };
  const relkind = async (rel: string) =>
    (
      await pg.query(
        `SELECT relkind::text AS k, pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = to_regclass($1)`,
        [rel],
      )
    ).rows[0];

  it('first build: the seed is loaded, the view and the table are built, the incremental model and the snapshot start full', async () => {
    expect(await build()).toEqual({
      'seed.customers': ['succeeded', 2, null],
      'model.customer_names': ['succeeded', null, null],
      'model.customer_count': ['succeeded', 1, null],
      'model.customer_log': ['succeeded', 2, null],
      'snapshot.customers_snap': ['succeeded', 2, null],
    });
    expect(await relkind('analytics.customer_names')).toEqual({ k: 'v', owner: 'weir_writer' });
    expect(await relkind('analytics.customer_count')).toEqual({ k: 'r', owner: 'weir_writer' });
    expect((await pg.query(`SELECT n FROM analytics.customer_count`)).rows).toEqual([{ n: '2' }]);
    expect(
      (await pg.query(`SELECT count(*)::int AS n FROM snaps.customers_snap WHERE dbt_valid_to IS NULL`)).rows[0].n,
    ).toBe(2);
  });

  it('second build on new rows: the incremental model applies only them, the snapshot closes and opens versions', async () => {
    write('seeds/customers.csv', 'id,name\n1,Ann\n2,Bobby\n3,Cy\n');
    const steps = await build();
    expect(steps['model.customer_log']).toEqual(['succeeded', 1, null]);
    expect((await pg.query(`SELECT id, name FROM analytics.customer_log ORDER BY id`)).rows).toEqual([
      { id: 1, name: 'Ann' },
      { id: 2, name: 'Bob' },
      { id: 3, name: 'Cy' },
    ]);
    const snap = (
      await pg.query(
        `SELECT id, name, dbt_valid_to IS NULL AS current FROM snaps.customers_snap ORDER BY id, dbt_valid_from`,
      )
    ).rows;
    expect(snap).toEqual([
      { id: 1, name: 'Ann', current: true },
      { id: 2, name: 'Bob', current: false },
      { id: 2, name: 'Bobby', current: true },
      { id: 3, name: 'Cy', current: true },
    ]);
    expect((await pg.query(`SELECT n FROM analytics.customer_count`)).rows).toEqual([{ n: '3' }]);
  });
});
