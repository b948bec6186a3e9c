import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { INGESTION_RUNS, IngestionRunsPort, SEED_LOADER, SeedLoaderPort } from '@weir/ingestion';
import { MODEL_BUILDS, ModelBuildsPort } from '@weir/modeling';
import { QUALITY_RUNS, QualityRunsPort } from '@weir/quality';
import { LINEAGE_QUERIES, LineageQueriesPort } from '@weir/lineage';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, tempDataDir, until } from './support/files';

/**
 * The ports other slices (orchestration first) call, through their Nest tokens, on the real app:
 * INGESTION_RUNS, SEED_LOADER, MODEL_BUILDS, QUALITY_RUNS and LINEAGE_QUERIES.
 */
describe('ports between slices e2e', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let close: () => Promise<void>;
  let runs: IngestionRunsPort;

  beforeAll(async () => {
    ({ t, files, pg, close } = await startIngestionApp());
    runs = t.app.get(INGESTION_RUNS);
    await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({
        name: 'events',
        contract: {
          columns: [
            { name: 'id', type: 'integer', nullable: false, primaryKey: true },
            { name: 'day', type: 'date', nullable: false },
          ],
        },
      })
      .expect(201);
    await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({
        name: 'events_daily',
        dataset: 'events',
        format: 'csv',
        location: { path: 'events/{partition}.csv' },
        strategy: { kind: 'merge' },
      })
      .expect(201);
    files.write('events/2026-12-01.csv', 'id,day\n1,2026-12-01\n2,2026-12-01\n');
    files.write('events/2026-12-02.csv', 'id,day\n3,2026-12-02\n');
  });
  afterAll(() => close?.());

  describe('INGESTION_RUNS', () => {
    it('starts a run of a partition (its file from {partition}), idempotent per partition, and follows it to the end', async () => {
      const a = await runs.start({
        source: 'events_daily',
        partition: '2026-12-01',
        trigger: 'pipeline',
        createdBy: 'test',
      });
      expect(a.created).toBe(true);
      const done = await runs.waitFor(a.run.id, 30_000);
      expect([done.status, done.partition, done.rowsLoaded, done.trigger]).toEqual([
        'succeeded',
        '2026-12-01',
        2,
        'pipeline',
      ]);
      expect(done.input.path).toMatch(/events\/2026-12-01\.csv$/);
      expect((await runs.get(a.run.id)).id).toBe(a.run.id);
      // the same partition again: the same run; another partition: another run
      const again = await runs.start({ source: 'events_daily', partition: '2026-12-01' });
      expect([again.created, again.run.id]).toEqual([false, a.run.id]);
      const b = await runs.start({
        source: 'events_daily',
        partition: '2026-12-02',
        idempotencyKey: 'events:2026-12-02',
      });
      expect([(await runs.waitFor(b.run.id, 30_000)).status, b.run.idempotencyKey]).toEqual([
        'succeeded',
        'events:2026-12-02',
      ]);
      expect((await pg.query(`SELECT count(*)::int AS n FROM raw.events`)).rows[0].n).toBe(3);
    });

    it('refuses a path that needs a partition without one, and a partition that is not a plain name', async () => {
      await expect(runs.start({ source: 'events_daily' })).rejects.toMatchObject({
        code: 'INGESTION.PARTITION_REQUIRED',
      });
      for (const p of ['../etc', 'a b', '', 'x'.repeat(201), 'a/../../b'])
        await expect(runs.start({ source: 'events_daily', partition: p })).rejects.toMatchObject({
          code: 'INGESTION.INVALID_PARTITION',
        });
      const r = await t.http.post('/api/ingestion/sources/events_daily/runs').set(admin).send({});
      expect([r.status, r.body.code]).toEqual([400, 'INGESTION.PARTITION_REQUIRED']);
      const bad = await t.http.post('/api/ingestion/sources/events_daily/runs').set(admin).send({ partition: 'a b' });
      expect(bad.status).toBe(400);
      const ok = await t.http
        .post('/api/ingestion/sources/events_daily/runs')
        .set(admin)
        .send({ partition: '2026-12-02' })
        .expect(202);
      expect([ok.body.partition, ok.body.idempotencyKey]).toEqual([
        '2026-12-02',
        expect.stringMatching(/^partition:2026-12-02:sha256:/),
      ]);
    });
  });

  describe('SEED_LOADER, MODEL_BUILDS, QUALITY_RUNS, LINEAGE_QUERIES', () => {
    const dir = () => path.join(files.dir, 'projects', 'shop');
    const write = (f: string, s: string) => {
      fs.mkdirSync(path.dirname(path.join(dir(), f)), { recursive: true });
      fs.writeFileSync(path.join(dir(), f), s);
    };

    it('loads a seed as an accounted ingestion run owned by its project; a seed without a header is refused', async () => {
      write('dbt_project.yml', 'name: shop\n');
      write('seeds/Countries.csv', 'Code,Name\nfr,France\nde,Germany\n');
      write('seeds/empty.csv', '');
      const seeds = t.app.get<SeedLoaderPort>(SEED_LOADER);
      const r = await seeds.load({
        name: 'countries',
        project: 'shop',
        file: path.join(dir(), 'seeds/Countries.csv'),
        schema: 'raw',
        table: 'countries',
        managedBy: 'modeling:shop',
        quoteColumns: false,
      });
      if (!r.ok) throw new Error(r.message);
      expect([r.run.status, r.run.rowsLoaded, r.source, r.renamedColumns]).toEqual([
        'succeeded',
        2,
        'seed_shop_countries',
        ['Code → code', 'Name → name'],
      ]);
      expect((await pg.query(`SELECT code, name FROM raw.countries ORDER BY code`)).rows).toEqual([
        { code: 'de', name: 'Germany' },
        { code: 'fr', name: 'France' },
      ]);
      const empty = await seeds.load({
        name: 'empty',
        project: 'shop',
        file: path.join(dir(), 'seeds/empty.csv'),
        schema: 'raw',
        table: 'empty',
        managedBy: 'modeling:shop',
      });
      expect(empty).toMatchObject({ ok: false, reason: 'no_header' });
    });

    it("starts a build of a selection, reads it, waits for it; runs a dataset's suites; asks lineage what depends on a dataset", async () => {
      write(
        'models/event_days.sql',
        `{{ config(materialized='table') }}\nselect day, count(*) as n from raw.events group by day`,
      );
      write('models/busy_days.sql', `select day from {{ ref('event_days') }} where n > 1`);
      write(
        'models/schema.yml',
        'version: 2\nmodels:\n  - name: event_days\n    columns:\n      - name: day\n        tests: [not_null, unique]\n',
      );
      write('seeds/empty.csv', 'x\n1\n');
      await t.http.post('/api/modeling/projects').set(admin).send({ path: 'shop' }).expect(201);
      const builds = t.app.get<ModelBuildsPort>(MODEL_BUILDS);
      const started = await builds.start({ project: 'shop', select: 'event_days+' });
      expect(started.steps.map((s) => s.node)).toEqual(['model.event_days', 'model.busy_days']);
      const done = await builds.waitFor(started.id, 60_000);
      expect(done.steps.map((s) => [s.node, s.status])).toEqual([
        ['model.event_days', 'succeeded'],
        ['model.busy_days', 'succeeded'],
      ]);
      expect((await builds.get(started.id)).status).toBe(done.status);
      await expect(builds.get('00000000-0000-0000-0000-000000000000')).rejects.toMatchObject({
        code: 'MODELING.BUILD_NOT_FOUND',
      });

      const quality = t.app.get<QualityRunsPort>(QUALITY_RUNS);
      const checked = await quality.run({ dataset: 'event_days', trigger: 'pipeline', triggerRef: 'test' });
      expect(checked.map((r) => [r.dataset, r.status, r.trigger, r.triggerRef])).toEqual([
        ['event_days', 'passed', 'pipeline', 'test'],
      ]);
      expect((await quality.get(checked[0].id)).results.length).toBe(2);
      await expect(quality.run({ dataset: 'busy_days' })).rejects.toMatchObject({ code: 'QUALITY.NO_SUITES' });

      const lineage = t.app.get<LineageQueriesPort>(LINEAGE_QUERIES);
      // the build's events reach lineage through the outbox
      const model = await until(
        'the model in lineage',
        async () =>
          (await pg.query(`SELECT name FROM lineage.datasets WHERE name LIKE '%.event_days'`)).rows[0]?.name as
            string | undefined,
      );
      const impact = await until('lineage of the build', async () => {
        const r = await lineage.impact(model.split('.').slice(1).join('.')).catch(() => undefined);
        return r && r.datasets.some((d) => d.name.endsWith('.busy_days')) ? r : undefined;
      });
      expect(impact.models.map((m) => m.name)).toEqual(expect.arrayContaining(['busy_days']));
    });
  });
});
