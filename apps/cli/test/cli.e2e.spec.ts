import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';
import { hashApiKey } from '@weir/platform';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');
const WEIR = path.join(ROOT, 'apps/cli/bin/weir.js');

async function weir(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [WEIR, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('weir CLI (real process, real PostgreSQL)', () => {
  let db: TestDatabase;
  beforeAll(async () => (db = await createTestDatabase({ migrate: false })));
  afterAll(() => db?.drop());

  it('--help lists the commands', async () => {
    const r = await weir(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['migrate', 'migrate:create', 'registry', 'keys']) expect(r.stdout).toContain(c);
  });

  it('migrate applies the migrations, then reports the schema up to date', async () => {
    const first = await weir(['migrate'], { DATABASE_URL: db.url });
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/applied \d+ migration\(s\):\n  PlatformApiKeys1763750000000/);
    const second = await weir(['migrate'], { DATABASE_URL: db.url });
    expect(second.stderr).toContain('database schema is up to date');
  }, 60_000);

  it('keys create prints the secret once on stdout and stores only its hash; keys list never shows it', async () => {
    const r = await weir(['keys', 'create', '--role', 'editor', '--name', 'nightly-load'], { DATABASE_URL: db.url });
    expect(r.code).toBe(0);
    const key = r.stdout.trim();
    expect(key).toMatch(/^weir_[A-Za-z0-9_-]{43}$/);
    expect(r.stderr).toContain('created editor key "nightly-load"');
    const c = new Client({ connectionString: db.url });
    await c.connect();
    const rows = (await c.query('SELECT role, key_hash FROM platform.api_keys WHERE name = $1', ['nightly-load'])).rows;
    await c.end();
    expect(rows).toEqual([{ role: 'editor', key_hash: hashApiKey(key) }]);
    const list = await weir(['keys', 'list'], { DATABASE_URL: db.url });
    expect(list.stdout).toMatch(/editor\s+weir_\S+…\s+active\s+nightly-load/);
    expect(list.stdout).not.toContain(key);
  }, 60_000);

  it('refuses a bad role and a bad variable with clear messages', async () => {
    const role = await weir(['keys', 'create', '--role', 'root'], { DATABASE_URL: db.url });
    expect(role.code).not.toBe(0);
    expect(role.stderr).toContain('must be one of viewer, editor, admin');
    const cfg = await weir(['migrate'], { DATABASE_URL: 'mysql://nope' });
    expect(cfg.code).toBe(78);
    expect(cfg.stderr.trim()).toBe('weir: Invalid configuration: DATABASE_URL must be a postgres:// URL (got protocol "mysql:")');
  }, 60_000);
});
