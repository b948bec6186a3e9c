import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');
const WEIR = path.join(ROOT, 'apps/cli/bin/weir.js');

async function weir(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [WEIR, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** Every `weir` command that changes something records one audit row; reading ones record none. */
describe('weir CLI audit log (real process, real PostgreSQL)', () => {
  let db: TestDatabase;
  let pg: Client;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });
  afterAll(async () => {
    await pg?.end();
    await db?.drop();
  });

  it('records migrate, keys create and a failed keys revoke as cli:<user>, not keys list; the secret never', async () => {
    const env = { DATABASE_URL: db.url, WEIR_LOG_LEVEL: 'silent' };
    expect((await weir(['migrate'], env)).code).toBe(0);
    const created = await weir(['keys', 'create', '--role', 'editor', '--name', 'ci', '--json'], env);
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout);
    expect((await weir(['keys', 'list'], env)).code).toBe(0);
    const revoked = await weir(['keys', 'revoke', '00000000-0000-0000-0000-000000000000'], env);
    expect(revoked.code).toBe(1);
    expect((await weir(['keys', 'revoke', key.id], env)).code).toBe(0);

    const { rows } = await pg.query(
      `SELECT actor, method, route, resource_id, diff, status, outcome, error_code FROM platform.audit_log ORDER BY id`,
    );
    const actor = `cli:${os.userInfo().username}`;
    expect(rows).toEqual([
      {
        actor,
        method: 'CLI',
        route: 'weir migrate',
        resource_id: null,
        diff: { args: [], options: {} },
        status: null,
        outcome: 'ok',
        error_code: null,
      },
      {
        actor,
        method: 'CLI',
        route: 'weir keys create',
        resource_id: null,
        diff: { args: [], options: { role: 'editor', name: 'ci' } },
        status: null,
        outcome: 'ok',
        error_code: null,
      },
      {
        actor,
        method: 'CLI',
        route: 'weir keys revoke',
        resource_id: '00000000-0000-0000-0000-000000000000',
        diff: { args: ['00000000-0000-0000-0000-000000000000'], options: {} },
        status: null,
        outcome: 'failed',
        error_code: 'PLATFORM.API_KEY_NOT_FOUND',
      },
      {
        actor,
        method: 'CLI',
        route: 'weir keys revoke',
        resource_id: key.id,
        diff: { args: [key.id], options: {} },
        status: null,
        outcome: 'ok',
        error_code: null,
      },
    ]);
    expect(JSON.stringify(rows)).not.toContain(key.key);
  }, 120_000);

  it('records a data-changing command that failed with its code, and one that succeeded', async () => {
    const env = { DATABASE_URL: db.url, WEIR_LOG_LEVEL: 'silent' };
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'weir-audit-')), 'orders.csv');
    fs.writeFileSync(file, 'id\n1\n');
    const load = await weir(['load', file, '--source', 'no_such_source'], env);
    expect(load.code).toBe(1);
    expect((await weir(['retention', '--json'], env)).code).toBe(0);
    const { rows } = await pg.query(
      `SELECT route, resource_id, diff, outcome, error_code FROM platform.audit_log WHERE route IN ('weir load', 'weir retention') ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        route: 'weir load',
        resource_id: file,
        diff: { args: [file], options: { source: 'no_such_source' } },
        outcome: 'failed',
        error_code: expect.stringMatching(/^INGESTION\./),
      },
      { route: 'weir retention', resource_id: null, diff: { args: [], options: {} }, outcome: 'ok', error_code: null },
    ]);
  }, 120_000);
});
