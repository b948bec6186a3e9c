import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { freePort, startEmbeddedPostgres } from '@weir/platform';

/** The value after `--name` on the command line, or `dflt`. */
export const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};

/** The median of some timings. */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A benchmark's own database, on TEST_DATABASE_URL / DATABASE_URL or a throwaway embedded server. */
export interface BenchDatabase {
  /** Scratch directory (removed by close). */
  work: string;
  /** Database name and URL. */
  name: string;
  url: string;
  /** A connected client on it. */
  client: Client;
  /** Drops the database (unless kept), stops the embedded server, removes `work`. */
  close(opts?: { keep?: boolean }): Promise<void>;
}

export async function benchDatabase(prefix: string): Promise<BenchDatabase> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix.replace(/_/g, '-')}-`));
  fs.chmodSync(work, 0o755);
  let server = process.env['TEST_DATABASE_URL'] || process.env['DATABASE_URL'];
  let stopPg: (() => Promise<void>) | undefined;
  if (!server) {
    const pg = await startEmbeddedPostgres({ dataDir: path.join(work, 'pg'), port: await freePort(), ephemeral: true });
    server = pg.url;
    stopPg = () => pg.stop();
  }
  const name = `${prefix}_${process.pid}`;
  const admin = new Client({ connectionString: server });
  admin.on('error', () => undefined);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(server);
  u.pathname = `/${name}`;
  const url = u.toString();
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  return {
    work,
    name,
    url,
    client,
    async close(opts = {}) {
      await client.end().catch(() => undefined);
      if (!opts.keep) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
      await stopPg?.();
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
}
