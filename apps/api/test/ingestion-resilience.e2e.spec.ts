import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { Client } from 'pg';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';
import { RunsService } from '@weir/ingestion';
import { admin, appOn } from './support/test-app';
import { tempDataDir, until } from './support/files';

const ROOT = path.resolve(__dirname, '../../..');
const contract = {
  columns: [
    { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
    { name: 'payload', type: 'text', nullable: true },
  ],
};

function bigCsv(rows: number, tag: string): string {
  let s = 'id,payload\n';
  for (let i = 1; i <= rows; i++) s += `${i},${tag}-${i}-${'x'.repeat(60)}\n`;
  return s;
}

describe('a run killed mid-COPY (SIGKILL) leaves the target unchanged and re-runs clean', () => {
  let db: TestDatabase;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  beforeAll(async () => {
    db = await createTestDatabase();
    files = tempDataDir();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });
  afterAll(async () => {
    await pg?.end();
    await db?.drop();
    files?.remove();
  });

  it.each(['replace', 'merge'])(
    '%s',
    async (strategy) => {
      const app = await appOn(db, files.dir, 'api');
      const http = request(app.getHttpServer());
      const name = `kill_${strategy}`;
      await http.post('/api/catalog/datasets').set(admin).send({ name, contract }).expect(201);
      await http
        .post('/api/ingestion/sources')
        .set(admin)
        .send({ name, dataset: name, format: 'csv', strategy: { kind: strategy } })
        .expect(201);
      await app.close();

      // a first, complete load: the state that must survive the kill
      files.write(`${name}-small.csv`, bigCsv(1000, 'before'));
      const first = spawn(
        process.execPath,
        [
          path.join(ROOT, 'apps/cli/bin/weir.js'),
          'load',
          path.join(files.inbox, `${name}-small.csv`),
          '--source',
          name,
        ],
        {
          env: { ...process.env, DATABASE_URL: db.url, WEIR_DATA_DIR: files.dir },
          stdio: 'ignore',
        },
      );
      expect(await new Promise((r) => first.on('exit', r))).toBe(0);
      const snapshot = async () =>
        (
          await pg.query(
            `SELECT count(*)::int AS n, md5(string_agg(id || ':' || payload, ',' ORDER BY id)) AS h FROM raw.${name}`,
          )
        ).rows[0];
      const before = await snapshot();
      expect(before.n).toBe(1000);

      // the big load, killed while its COPY streams
      files.write(`${name}-big.csv`, bigCsv(400_000, 'after'));
      const child = spawn(
        process.execPath,
        [path.join(ROOT, 'apps/cli/bin/weir.js'), 'load', path.join(files.inbox, `${name}-big.csv`), '--source', name],
        {
          env: { ...process.env, DATABASE_URL: db.url, WEIR_DATA_DIR: files.dir },
          stdio: 'ignore',
        },
      );
      const exited = new Promise((r) => child.on('exit', (_c, sig) => r(sig)));
      await until(
        'the COPY to start',
        async () =>
          (
            await pg.query(
              `SELECT 1 FROM pg_stat_activity WHERE query LIKE 'COPY %__weir_stage_%' AND state = 'active'`,
            )
          ).rowCount,
      );
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      expect(await snapshot()).toEqual(before);
      const killed = (
        await pg.query(
          `SELECT r.id, r.status FROM ingestion.runs r JOIN ingestion.sources s ON s.id = r.source_id WHERE s.name = $1 ORDER BY r.created_at DESC LIMIT 1`,
          [name],
        )
      ).rows[0];
      expect(killed.status).toBe('running');

      // the next process recovers: the dead run is failed, its stage dropped, and the same input re-runs clean
      process.env['WEIR_RUN_STALE_SECONDS'] = '0';
      try {
        const again = spawn(
          process.execPath,
          [
            path.join(ROOT, 'apps/cli/bin/weir.js'),
            'load',
            path.join(files.inbox, `${name}-big.csv`),
            '--source',
            name,
          ],
          {
            env: { ...process.env, DATABASE_URL: db.url, WEIR_DATA_DIR: files.dir, WEIR_RUN_STALE_SECONDS: '0' },
            stdio: 'ignore',
          },
        );
        expect(await new Promise((r) => again.on('exit', r))).toBe(0);
      } finally {
        delete process.env['WEIR_RUN_STALE_SECONDS'];
      }
      const runs = (
        await pg.query(
          `SELECT r.id, r.status, r.error_code, r.rows_loaded::int FROM ingestion.runs r JOIN ingestion.sources s ON s.id = r.source_id WHERE s.name = $1 ORDER BY r.created_at`,
          [name],
        )
      ).rows;
      expect(runs.map((r) => [r.status, r.error_code])).toEqual([
        ['succeeded', null],
        ['failed', 'INGESTION.INTERRUPTED'],
        ['succeeded', null],
      ]);
      const after = await snapshot();
      expect(after.n).toBe(400_000);
      expect(
        (await pg.query(`SELECT count(*)::int AS n FROM raw.${name} WHERE payload LIKE 'before-%'`)).rows[0].n,
      ).toBe(0);
      expect(
        (await pg.query(`SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE '\\_\\_weir\\_stage\\_%'`)).rows[0]
          .n,
      ).toBe(0);
    },
    180_000,
  );
});

describe('scheduled ingestion with two instances on one database', () => {
  let db: TestDatabase;
  let files: ReturnType<typeof tempDataDir>;
  let a: INestApplication;
  let b: INestApplication;
  beforeAll(async () => {
    db = await createTestDatabase();
    files = tempDataDir();
    // a schedule of every second: below the default minimum interval (60 s), allowed here
    a = await appOn(db, files.dir, undefined, { WEIR_MIN_SCHEDULE_INTERVAL_SECONDS: '1' });
    b = await appOn(db, files.dir, undefined, { WEIR_MIN_SCHEDULE_INTERVAL_SECONDS: '1' });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    files?.remove();
  });

  it('each tick runs once, each inbox file loads once, and schedule changes need no restart', async () => {
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      const http = request(a.getHttpServer());
      await http.post('/api/catalog/datasets').set(admin).send({ name: 'events', contract }).expect(201);
      files.write('events/2026-11-01.csv', 'id,payload\n1,a\n2,b\n');
      files.write('events/2026-11-02.csv', 'id,payload\n3,c\n');
      files.write('events/ignore.txt', 'not a csv');
      const src = (
        await http
          .post('/api/ingestion/sources')
          .set(admin)
          .send({
            name: 'events_inbox',
            dataset: 'events',
            format: 'csv',
            strategy: { kind: 'append' },
            location: { inbox: 'events', pattern: '*.csv' },
            schedule: { cron: '* * * * * *' },
          })
          .expect(201)
      ).body;
      const runsOf = async () =>
        (await pg.query(`SELECT id, status, trigger FROM ingestion.runs WHERE source_id = $1`, [src.id])).rows;
      await until(
        'two scheduled runs to succeed',
        async () => (await runsOf()).filter((r) => r.status === 'succeeded').length === 2,
        20_000,
      );
      await new Promise((r) => setTimeout(r, 2500)); // more ticks on both instances: nothing new to load
      const runs = await runsOf();
      expect(runs).toHaveLength(2);
      expect(runs.every((r) => r.trigger === 'schedule')).toBe(true);
      // the source's schedule is a one-step pipeline: its ticks are orchestration's, each claimed once
      const ticksOf = async () =>
        (
          await pg.query(
            `SELECT t.scheduled_at, t.claimed_by FROM orchestration.schedule_ticks t
               JOIN orchestration.pipelines p ON p.id = t.pipeline_id WHERE p.managed_by = $1`,
            [`ingestion:source:${src.id}`],
          )
        ).rows;
      const ticks = await ticksOf();
      expect(ticks.length).toBeGreaterThanOrEqual(3);
      expect(new Set(ticks.map((t) => t.scheduled_at.toISOString())).size).toBe(ticks.length);
      expect((await pg.query(`SELECT count(*)::int AS n FROM raw.events`)).rows[0].n).toBe(3);
      expect(
        (await pg.query(`SELECT count(*)::int AS n FROM ingestion.inbox_files WHERE source_id = $1`, [src.id])).rows[0]
          .n,
      ).toBe(2);

      // a new file is picked up by the next tick
      files.write('events/2026-11-03.csv', 'id,payload\n4,d\n');
      await until(
        'the new file',
        async () => (await pg.query(`SELECT count(*)::int AS n FROM raw.events`)).rows[0].n === 4,
        20_000,
      );

      // removing the schedule through one instance stops ticks on both (no restart)
      await http.patch(`/api/ingestion/sources/${src.id}`).set(admin).send({ schedule: null }).expect(200);
      await new Promise((r) => setTimeout(r, 6500));
      const n1 = (await ticksOf()).length;
      await new Promise((r) => setTimeout(r, 2000));
      expect((await ticksOf()).length).toBe(n1);
      // the pipeline stays (with its runs), unscheduled; people cannot change it, only the source can
      const p = (await http.get('/api/orchestration/pipelines').set(admin).expect(200)).body.items.find(
        (x: { managedBy: string | null }) => x.managedBy === `ingestion:source:${src.id}`,
      );
      expect([p.name, p.spec.schedule]).toEqual(['source_events_inbox', null]);
      const refused = await http.delete(`/api/orchestration/pipelines/${p.id}`).set(admin).expect(409);
      expect(refused.body.code).toBe('ORCHESTRATION.PIPELINE_MANAGED');
      expect(a.get(RunsService)).toBeDefined();
    } finally {
      await pg.end();
    }
  }, 60_000);
});

describe("a dead instance's runs are failed by the surviving workers, and a run taken as interrupted never publishes", () => {
  let db: TestDatabase;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let app: INestApplication;
  let runs: RunsService;
  let sourceId: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    files = tempDataDir();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    app = await appOn(db, files.dir, 'api,worker');
    runs = app.get(RunsService);
    const http = request(app.getHttpServer());
    await http.post('/api/catalog/datasets').set(admin).send({ name: 'survive', contract }).expect(201);
    sourceId = (
      await http
        .post('/api/ingestion/sources')
        .set(admin)
        .send({ name: 'survive', dataset: 'survive', format: 'csv', strategy: { kind: 'replace' } })
        .expect(201)
    ).body.id;
  });
  afterAll(async () => {
    await app?.close();
    await pg?.end();
    await db?.drop();
    files?.remove();
  });
  const events = async (id: string, state: string) =>
    (await pg.query(`SELECT count(*)::int AS n FROM platform.outbox WHERE key = $1`, [`${id}:${state}`])).rows[0].n;

  it('fails a run whose heartbeat stopped, without waiting for a restart', async () => {
    runs.recoverEveryMs = 200;
    const id = (
      await pg.query(
        `INSERT INTO ingestion.runs (source_id, status, trigger, idempotency_key, input, started_at, heartbeat_at)
         VALUES ($1, 'running', 'api', 'left-behind', '{}', now() - interval '1 hour', now() - interval '1 hour') RETURNING id`,
        [sourceId],
      )
    ).rows[0].id;
    await until(
      'the stale run to be failed',
      async () => (await pg.query(`SELECT status FROM ingestion.runs WHERE id = $1`, [id])).rows[0].status === 'failed',
      10_000,
    );
    expect((await pg.query(`SELECT error_code FROM ingestion.runs WHERE id = $1`, [id])).rows[0].error_code).toBe(
      'INGESTION.INTERRUPTED',
    );
    expect(await events(id, 'FAIL')).toBe(1);
  });

  it('does not publish a run another worker took as interrupted while it loaded', async () => {
    files.write('survive.csv', bigCsv(300_000, 'late'));
    const http = request(app.getHttpServer());
    const id = (
      await http.post(`/api/ingestion/sources/${sourceId}/runs`).set(admin).send({ path: 'survive.csv' }).expect(202)
    ).body.id;
    await until(
      'the COPY to start',
      async () =>
        (await pg.query(`SELECT 1 FROM pg_stat_activity WHERE query LIKE 'COPY %__weir_stage_%' AND state = 'active'`))
          .rowCount,
    );
    // what another instance's recovery does when it cannot see this worker's heartbeat in time
    await pg.query(
      `UPDATE ingestion.runs SET status = 'failed', finished_at = now(), error_code = 'INGESTION.INTERRUPTED', error_message = 'taken as interrupted' WHERE id = $1`,
      [id],
    );
    await until(
      'the worker to let go of the run',
      async () =>
        !(await pg.query(`SELECT 1 FROM pg_class WHERE relname LIKE '\\_\\_weir\\_stage\\_%'`)).rowCount &&
        !(runs as unknown as { working: boolean }).working,
    );
    const run = (await pg.query(`SELECT status, error_code, error_message FROM ingestion.runs WHERE id = $1`, [id]))
      .rows[0];
    expect(run).toEqual({
      status: 'failed',
      error_code: 'INGESTION.INTERRUPTED',
      error_message: 'taken as interrupted',
    });
    // nothing published, and no second verdict
    expect(
      (await pg.query(`SELECT to_regclass('raw.survive') IS NULL AS absent`)).rows[0].absent ||
        (await pg.query(`SELECT count(*)::int AS n FROM raw.survive`)).rows[0].n === 0,
    ).toBe(true);
    expect([await events(id, 'COMPLETE'), await events(id, 'FAIL')]).toEqual([0, 0]);
  }, 60_000);
});
