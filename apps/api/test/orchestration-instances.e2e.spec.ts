import * as path from 'node:path';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { Client } from 'pg';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { freePort } from '@weir/platform';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';
import { admin, appOn } from './support/test-app';
import { tempDataDir, until } from './support/files';

const ROOT = path.resolve(__dirname, '../../..');
const PIPELINES = 4;
const TICKS_EACH = 25;

/**
 * Three processes of the built app (as `npm start` runs them), all schedulers and workers, on one
 * database: every tick of 4 pipelines on a one-second schedule is claimed once and has exactly one
 * run, which completes.
 */
describe('orchestration: three scheduler+worker processes on one database', () => {
  let db: TestDatabase;
  let pg: Client;
  const files = tempDataDir();
  const apps: INestApplication[] = [];
  const procs: ChildProcess[] = [];
  let out = '';
  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    execFileSync(process.execPath, ['tools/build.js', '--quiet'], { cwd: ROOT, stdio: 'ignore' });
  });
  afterAll(async () => {
    for (const p of procs) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
    }
    for (const a of apps) await a.close().catch(() => undefined);
    await pg?.end();
    await db?.drop();
    files.remove();
  });

  it(`claims each of ${PIPELINES * TICKS_EACH} ticks once, with exactly one run each, and every run completes`, async () => {
    // an API-only instance in this process defines the pipelines; it neither schedules nor runs steps
    // (schedules of one second: below the default minimum interval, so this instance allows them)
    const api = await appOn(db, files.dir, 'api', { WEIR_MIN_SCHEDULE_INTERVAL_SECONDS: '1' });
    apps.push(api);
    const http = request(api.getHttpServer());
    const spec = (i: number, schedule: boolean) => ({
      name: `every_second_${i}`,
      ...(schedule ? { schedule: { every: '1s' } } : {}),
      steps: [{ id: 'noop', kind: 'sql', sql: 'SELECT 1' }],
    });
    for (let i = 0; i < PIPELINES; i++)
      await http.post('/api/orchestration/pipelines').set(admin).send(spec(i, true)).expect(201);
    // three processes, schedulers passing at different rates so that each gets to claim ticks
    for (const tickMs of [230, 310, 370]) {
      const env: Record<string, string | undefined> = {
        ...process.env,
        DATABASE_URL: db.url,
        WEIR_ROLES: 'scheduler,worker',
        WEIR_DATA_DIR: files.dir,
        WEIR_MIGRATE: 'off',
        WEIR_SCHEDULER_TICK_MS: String(tickMs),
        WEIR_STEP_POLL_MS: '100',
        WEIR_LOG_LEVEL: 'warn',
        PORT: String(await freePort()),
      };
      delete env['WEIR_ADMIN_API_KEY'];
      const p = spawn(process.execPath, ['dist/apps/api/src/main.js'], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      p.stdout!.on('data', (d) => (out += d));
      p.stderr!.on('data', (d) => (out += d));
      procs.push(p);
    }
    // the window: TICKS_EACH ticks of each pipeline, from a second boundary once all three are up
    await until(
      'three scheduler processes to claim ticks',
      async () =>
        (await pg.query(`SELECT count(DISTINCT claimed_by)::int AS n FROM orchestration.schedule_ticks`)).rows[0].n >=
          2 || procs.some((p) => p.exitCode !== null),
      60_000,
    );
    expect(procs.filter((p) => p.exitCode !== null).map(() => out)).toEqual([]);
    const from = new Date((Math.floor(Date.now() / 1000) + 2) * 1000);
    const to = new Date(from.getTime() + TICKS_EACH * 1000);
    await until(
      `the ticks up to ${to.toISOString()} to be claimed`,
      async () =>
        (
          await pg.query(`SELECT count(*)::int AS n FROM orchestration.schedule_ticks WHERE scheduled_at >= $1`, [
            new Date(to.getTime() + 1000),
          ])
        ).rows[0].n > 0,
      TICKS_EACH * 1000 + 30_000,
    );
    for (let i = 0; i < PIPELINES; i++)
      await http.put(`/api/orchestration/pipelines/every_second_${i}`).set(admin).send(spec(i, false)).expect(200);

    const window = async () =>
      (
        await pg.query(
          `SELECT p.name, t.scheduled_at, t.claimed_by, t.run_id, r.status, r.trigger, r.idempotency_key
             FROM orchestration.schedule_ticks t JOIN orchestration.pipelines p ON p.id = t.pipeline_id
             LEFT JOIN orchestration.runs r ON r.id = t.run_id
            WHERE t.scheduled_at >= $1 AND t.scheduled_at < $2 ORDER BY p.name, t.scheduled_at`,
          [from, to],
        )
      ).rows as {
        name: string;
        scheduled_at: Date;
        claimed_by: string;
        run_id: string | null;
        status: string | null;
        trigger: string;
        idempotency_key: string;
      }[];
    const ticks = await until(
      'every run of the window to end',
      async () => {
        const w = await window();
        return w.every((t) => t.status && !['queued', 'running'].includes(t.status)) ? w : undefined;
      },
      60_000,
    );
    // every (pipeline, second) of the window once: no tick missed, none twice
    expect(ticks).toHaveLength(PIPELINES * TICKS_EACH);
    for (let i = 0; i < PIPELINES; i++)
      expect(
        ticks.filter((t) => t.name === `every_second_${i}`).map((t) => new Date(t.scheduled_at).getTime()),
      ).toEqual(Array.from({ length: TICKS_EACH }, (_, k) => from.getTime() + k * 1000));
    // exactly one run per tick, its key the tick's time, and each succeeded
    expect(new Set(ticks.map((t) => t.run_id)).size).toBe(PIPELINES * TICKS_EACH);
    for (const t of ticks) {
      expect([t.status, t.trigger, t.idempotency_key]).toEqual([
        'succeeded',
        'schedule',
        `schedule:${new Date(t.scheduled_at).toISOString()}`,
      ]);
    }
    const [{ runs }] = (
      await pg.query(
        `SELECT count(*)::int AS runs FROM orchestration.runs r JOIN orchestration.pipelines p ON p.id = r.pipeline_id
          WHERE r.trigger = 'schedule' AND r.idempotency_key >= $1 AND r.idempotency_key < $2`,
        [`schedule:${from.toISOString()}`, `schedule:${to.toISOString()}`],
      )
    ).rows;
    expect(runs).toBe(PIPELINES * TICKS_EACH);
    // nowhere (in or out of the window) two runs of one tick
    const dup = await pg.query(
      `SELECT pipeline_id, idempotency_key FROM orchestration.runs WHERE trigger = 'schedule'
        GROUP BY 1, 2 HAVING count(*) > 1`,
    );
    expect(dup.rows).toEqual([]);
    // the claims were shared: more than one process claimed ticks of the window
    expect(new Set(ticks.map((t) => t.claimed_by)).size).toBeGreaterThanOrEqual(2);
    expect(procs.filter((p) => p.exitCode !== null)).toEqual([]);
  }, 170_000);
});
