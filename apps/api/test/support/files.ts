import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { startTestApp, TestApp } from './test-app';

/** A throwaway WEIR_DATA_DIR with an inbox/ (the default ingest root). */
export function tempDataDir(): {
  dir: string;
  inbox: string;
  write: (name: string, content: string | Buffer) => string;
  remove: () => void;
} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-ingest-'));
  const inbox = path.join(dir, 'inbox');
  fs.mkdirSync(inbox, { recursive: true });
  return {
    dir,
    inbox,
    write: (name, content) => {
      const p = path.join(inbox, name);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content);
      return name;
    },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** The real app with its own data dir (inbox) and a SQL client on its database, for ingestion specs. */
export async function startIngestionApp(
  env: Record<string, string> = {},
): Promise<{ t: TestApp; files: ReturnType<typeof tempDataDir>; pg: Client; close: () => Promise<void> }> {
  const files = tempDataDir();
  const t = await startTestApp({ WEIR_DATA_DIR: files.dir, ...env });
  const pg = new Client({ connectionString: t.db.url });
  await pg.connect();
  return {
    t,
    files,
    pg,
    async close() {
      await pg.end();
      await t.close();
      files.remove();
    },
  };
}

/** Polls `fn` until it returns something truthy (every 50 ms, up to `ms`); fails naming `what`. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false | null | 0>,
  ms = 30_000,
): Promise<T> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * A PostgreSQL with wal_level=logical (a CDC source), in a child process (see
 * logical-postgres.main.ts); `stop` ends it and removes its data.
 */
export async function startLogicalPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  const { spawn } = await import('node:child_process');
  const root = path.resolve(__dirname, '../../../..');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-cdc-src-'));
  const child = spawn(
    process.execPath,
    ['-r', './tools/register.js', 'apps/api/test/support/logical-postgres.main.ts', path.join(dir, 'pg')],
    { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.on('exit', (code) => reject(new Error(`logical PostgreSQL exited (${code}): ${err}`)));
  });
  return {
    url,
    async stop() {
      const exited = new Promise((r) => child.on('exit', r));
      child.stdin!.end();
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
