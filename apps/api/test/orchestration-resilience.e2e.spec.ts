import * as path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { Client } from 'pg';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { freePort } from '@weir/platform';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';
import { admin, appOn } from './support/test-app';
import { tempDataDir, until } from './support/files';

const ROOT = path.resolve(__dirname, '../../..');

/** A worker killed (SIGKILL) in the middle of a step: its lease expires, another instance retries the step, the run completes. */
describe('orchestration: a worker killed mid-step', () => {
  let db: TestDatabase;
  let pg: Client;
  const files = tempDataDir();
  const apps: INestApplication[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    execFileSync(process.execPath, ['tools/build.js', '--quiet'], { cwd: ROOT, stdio: 'ignore' });
  });
  afterAll(async () => {
    for (const a of apps) await a.close().catch(() => undefined);
    await pg?.end();
    await db?.drop();
    files.remove();
  });

  it('retries the step on another instance once the lease expires, and the run succeeds', async () => {
    // an API-only instance: it defines and triggers, it runs no step
    const api = await appOn(db, files.dir, 'api');
    apps.push(api);
    const http = request(api.getHttpServer());
    await http
      .post('/api/orchestration/pipelines')
      .set(admin)
      .send({
        name: 'long_step',
        steps: [
          { id: 'slow', kind: 'sql', sql: 'SELECT pg_sleep(3)', retries: { max_attempts: 2, base_delay: '10ms' } },
        ],
      })
      .expect(201);
    // a worker process, as `npm start` runs it, with a short lease
    const env: Record<string, string | undefined> = {
      ...process.env,
      DATABASE_URL: db.url,
      WEIR_ROLES: 'worker',
      WEIR_DATA_DIR: files.dir,
      WEIR_STEP_LEASE_SECONDS: '2',
      WEIR_STEP_POLL_MS: '50',
      WEIR_LOG_LEVEL: 'warn',
      PORT: String(await freePort()),
    };
    delete env['WEIR_ADMIN_API_KEY'];
    let out = '';
    const worker = spawn(process.execPath, ['dist/apps/api/src/main.js'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout!.on('data', (d) => (out += d));
    worker.stderr!.on('data', (d) => (out += d));
    const exited = new Promise((r) => worker.on('exit', (_c, sig) => r(sig)));
    const run = (await http.post('/api/orchestration/pipelines/long_step/runs').set(admin).send({}).expect(201)).body;
    const leased = await until(
      'the worker process to lease the step',
      async () =>
        (
          await pg.query(`SELECT lease_owner FROM orchestration.step_runs WHERE run_id = $1 AND status = 'running'`, [
            run.id,
          ])
        ).rows[0]?.lease_owner as string | undefined,
      60_000,
    );
    worker.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    // another instance with the worker role takes the expired lease back and runs the step again
    const other = await appOn(db, files.dir, 'worker', { WEIR_STEP_POLL_MS: '50', WEIR_STEP_LEASE_SECONDS: '2' });
    apps.push(other);
    const done = await until(
      'the run to end',
      async () => {
        const r = (await http.get(`/api/orchestration/runs/${run.id}`).set(admin).expect(200)).body;
        return ['succeeded', 'failed'].includes(r.status) ? r : undefined;
      },
      40_000,
    );
    expect(done.status).toBe('succeeded');
    expect(done.steps[0]).toMatchObject({ step: 'slow', status: 'succeeded', attempt: 2 });
    const owner = (await pg.query(`SELECT lease_owner FROM orchestration.step_runs WHERE run_id = $1`, [run.id]))
      .rows[0];
    expect(owner.lease_owner).toBeNull();
    expect(leased).toBeTruthy();
  }, 120_000);
});
