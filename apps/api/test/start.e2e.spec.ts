import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '@weir/platform';

const root = path.resolve(__dirname, '../../..');
const execFileAsync = promisify(execFile);

interface Started {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

/** What `npm start` runs: the build (swc to dist/), then the compiled service. */
function start(env: Record<string, string>): Started {
  const e: Record<string, string | undefined> = { ...process.env, ...env };
  delete e['DATABASE_URL'];
  delete e['WEIR_ADMIN_API_KEY'];
  execFileSync(process.execPath, ['tools/build.js', '--quiet'], { cwd: root, stdio: 'ignore' });
  const child = spawn(process.execPath, ['dist/apps/api/src/main.js'], {
    cwd: root,
    env: e,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buf = '';
  child.stdout!.on('data', (d) => (buf += d));
  child.stderr!.on('data', (d) => (buf += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => buf, exited };
}

async function waitForHealth(port: number, s: Started, ms: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health`);
      if (r.status === 200) return Date.now() - t0;
    } catch {
      /* not listening yet */
    }
    if (s.child.exitCode !== null) throw new Error(`weir exited early:\n${s.out()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no 200 from /health within ${ms} ms:\n${s.out()}`);
}

/**
 * What `npm start` does on a machine with no database configured: embedded PostgreSQL in
 * $WEIR_DATA_DIR/pg, migrations, a bootstrap admin key printed once, JSON logs with request ids,
 * clean SIGTERM, and a second start reusing the data.
 */
describe('npm start with no DATABASE_URL (embedded PostgreSQL)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-start-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('answers /health within 60 s, prints the admin key once, and reuses its data on restart', async () => {
    const port = await freePort();
    const pgPort = await freePort();
    const env = { PORT: String(port), WEIR_PG_PORT: String(pgPort), WEIR_DATA_DIR: dataDir, WEIR_LOG_LEVEL: 'info' };

    const first = start(env);
    try {
      const ms = await waitForHealth(port, first, 60_000);
      expect(ms).toBeLessThan(60_000);
      const key = /\n\s+(weir_[A-Za-z0-9_-]{43})\n/.exec(first.out())?.[1];
      expect(key).toBeDefined();
      // the psql line is plain text that pastes into a shell (not a JSON-escaped log field)
      expect(first.out()).toMatch(
        new RegExp(
          `^  connect with: PGPASSWORD="\\$\\(cat [^)]+\\)" psql -h 127\\.0\\.0\\.1 -p ${pgPort} -U weir weir$`,
          'm',
        ),
      );
      expect(fs.existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);
      // the ingest root is there from the start: a first file can be copied into it (README tour)
      expect(fs.statSync(path.join(dataDir, 'inbox')).isDirectory()).toBe(true);

      const res = await fetch(`http://127.0.0.1:${port}/api/platform/api-keys`, {
        headers: { Authorization: `Bearer ${key}`, 'X-Request-Id': 'start-test-1' },
      });
      expect(res.status).toBe(200);
      await new Promise((r) => setTimeout(r, 200));
      const lines = first
        .out()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      const reqLine = lines.find((l) => l.reqId === 'start-test-1');
      expect(reqLine).toMatchObject({ msg: 'request completed', res: { statusCode: 200 } });
      expect(first.out()).not.toContain(`Bearer ${key}`.replace('Bearer ', 'authorization":"Bearer '));
      expect(first.out()).not.toMatch(/"authorization"/i);

      // the CLI on the same data directory connects to the running embedded server (never restarts it)
      const cliEnv: Record<string, string | undefined> = { ...process.env, ...env };
      delete cliEnv['DATABASE_URL'];
      // (run asynchronously: a synchronous call froze this process's event loop past the server's
      // keep-alive timeout, and the next fetch reused the connection the server had just closed:
      // "SocketError: other side closed". The server now keeps idle connections 65 s.)
      const cli = (
        await execFileAsync(process.execPath, ['apps/cli/bin/weir.js', 'keys', 'list'], {
          cwd: root,
          env: cliEnv,
          encoding: 'utf8',
        })
      ).stdout;
      expect(cli).toMatch(/admin\s+weir_\S+…\s+active\s.*bootstrap-admin/);
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      // the server keeps an idle connection open past Node's 5 s default: a client busy for 6 s reuses it safely
      await fetch(`http://127.0.0.1:${port}/health`);
      execFileSync('sleep', ['6']);
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);

      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(first.out()).toContain('shut down cleanly');
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
      expect(fs.existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);

      const second = start(env);
      try {
        await waitForHealth(port, second, 60_000);
        expect(second.out()).not.toContain('Weir created an admin API key');
        expect(second.out()).toContain('database schema is up to date');
        const again = await fetch(`http://127.0.0.1:${port}/api/platform/api-keys`, {
          headers: { Authorization: `Bearer ${key}` },
        });
        expect(again.status).toBe(200);
        expect(((await again.json()) as { items: unknown[] }).items).toHaveLength(1);
      } finally {
        second.child.kill('SIGTERM');
        expect(await second.exited).toBe(0);
      }
    } finally {
      if (first.child.exitCode === null) first.child.kill('SIGKILL');
    }
  }, 150_000);

  it('stops with one clear line naming a bad variable', async () => {
    const s = start({ PORT: 'eighty', WEIR_DATA_DIR: dataDir });
    expect(await s.exited).toBe(78);
    expect(s.out().trim()).toBe(
      'weir: Invalid configuration: PORT must be a TCP port between 1 and 65535 (got "eighty")',
    );
    // a slice's setting too
    const l = start({ WEIR_LINEAGE_EVENTS_RETENTION_DAYS: '30d', WEIR_DATA_DIR: dataDir });
    expect(await l.exited).toBe(78);
    expect(l.out().trim()).toBe(
      'weir: Invalid configuration: WEIR_LINEAGE_EVENTS_RETENTION_DAYS must be a whole number of days, 0 to keep forever (got "30d")',
    );
    // every slice's settings are read the same way, at boot
    for (const [k, v, line] of [
      ['WEIR_UPLOAD_MAX_BYTES', '5GB', 'WEIR_UPLOAD_MAX_BYTES must be a whole number of bytes, at least 1 (got "5GB")'],
      [
        'WEIR_PREVIEW_MAX_ROWS',
        'all',
        'WEIR_PREVIEW_MAX_ROWS must be a whole number of rows, from 1 to 100000 (got "all")',
      ],
      ['WEIR_ALERT_WEBHOOK_URL', 'ftp://x', 'WEIR_ALERT_WEBHOOK_URL must be an http(s) URL'],
      [
        'WEIR_PROJECT_ARCHIVE_MAX_FILES',
        '-1',
        'WEIR_PROJECT_ARCHIVE_MAX_FILES must be a positive whole number (got "-1")',
      ],
    ]) {
      const x = start({ [k]: v, WEIR_DATA_DIR: dataDir });
      expect([k, await x.exited, x.out().trim()]).toEqual([k, 78, `weir: Invalid configuration: ${line}`]);
    }
  }, 90_000);
});

/** What `npm start` runs is the JavaScript in dist/: what the service reads besides its code must be found from there. */
describe('the compiled service in dist/', () => {
  it("finds the dbt macro library Weir ships (dbt's generic tests: a build with a command needs them)", () => {
    execFileSync(process.execPath, ['tools/build.js', '--quiet'], { cwd: root, stdio: 'ignore' });
    const macros = JSON.parse(
      execFileSync(
        process.execPath,
        [
          '-e',
          "process.stdout.write(JSON.stringify(require('./dist/libs/modeling/src/dbt/project.js').includeMacros().map((f) => f.path)))",
        ],
        { cwd: root, encoding: 'utf8' },
      ),
    ) as string[];
    expect(macros).toContain('macros/generic_tests/unique.sql');
    expect(macros.length).toBe(
      fs
        .readdirSync(path.join(root, 'libs/modeling/dbt-include/macros'), { recursive: true })
        .filter((f) => String(f).endsWith('.sql')).length,
    );
  }, 60_000);
});
