import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { WEIR_CONFIG } from '../config/config.tokens';
import type { WeirConfig } from '../config/weir-config';

/** The advisory lock every Weir process holds shared while it uses a database (`migrate --revert` wants it alone). */
export const PRESENCE_LOCK_SQL = `hashtextextended('weir.presence', 0)`;

/** A Weir process holding the presence lock: who, from where, since when. */
export interface PresenceHolder {
  pid: number;
  applicationName: string;
  clientAddr: string | null;
  since: string;
}

/**
 * SQL (a boolean) true when the Weir instance whose id is the text expression `idSql` is alive:
 * its presence connection is open. An instance that died (crash, kill, host gone) has none.
 */
export function instanceAliveSql(idSql: string): string {
  return `EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.application_name LIKE 'weir:' || ${idSql} || ':%')`;
}

/** The processes that hold the presence lock on the database `c` is connected to (itself excluded). */
export async function presenceHolders(c: Pick<Client, 'query'>): Promise<PresenceHolder[]> {
  const r = await c.query(
    `SELECT a.pid, a.application_name, a.client_addr::text AS client_addr, a.backend_start
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = ((${PRESENCE_LOCK_SQL} >> 32) & 4294967295)::oid AND l.objid = (${PRESENCE_LOCK_SQL} & 4294967295)::oid AND l.objsubid = 1
        AND a.pid <> pg_backend_pid()
      ORDER BY a.backend_start`,
  );
  return r.rows.map(
    (x: { pid: number; application_name: string; client_addr: string | null; backend_start: Date }) => ({
      pid: x.pid,
      applicationName: x.application_name,
      clientAddr: x.client_addr,
      since: new Date(x.backend_start).toISOString(),
    }),
  );
}

/**
 * Holds the presence lock (a session-level shared advisory lock) on its own connection for the
 * life of the process, so tools that would pull the schema from under it (`weir migrate --revert`)
 * can tell that a Weir process uses the database — detected, not guessed. The connection is
 * named `weir:<instance id>:<roles>:<pid>:<host>` (pg_stat_activity.application_name). A lost connection only
 * loses the lock; it is taken again on the next start.
 */
@Injectable()
export class PresenceLock implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('presence');
  private client?: Client;
  /** This process's id among Weir's instances (random per start): runs it claims and uploads it holds carry it. */
  readonly instanceId = randomBytes(4).toString('hex');

  constructor(
    @Inject(WEIR_CONFIG) private readonly config: WeirConfig,
    @Inject('WEIR_DATABASE_URL') private readonly url: string,
  ) {
    // at construction, before any start hook: recovery at start already knows the dead instances
    this.noteInstance();
  }

  /**
   * Instances that ran from this data directory on this host before and are dead now (their pid is
   * gone): their runs can be taken as interrupted at once, not after a heartbeat timeout. Read at
   * start from `$WEIR_DATA_DIR/instances/<id>` (each live instance keeps a file with its pid).
   */
  readonly previousInstances: string[] = [];
  private instanceFile?: string;

  private noteInstance(): void {
    try {
      const dir = path.join(this.config.dataDir, 'instances');
      fs.mkdirSync(dir, { recursive: true });
      for (const id of fs.readdirSync(dir)) {
        const f = path.join(dir, id);
        const pid = Number(fs.readFileSync(f, 'utf8').trim());
        let alive = false;
        try {
          alive = Number.isInteger(pid) && pid > 0 && (process.kill(pid, 0), true);
        } catch {
          alive = false;
        }
        if (!alive) {
          this.previousInstances.push(id);
          fs.rmSync(f, { force: true });
        }
      }
      this.instanceFile = path.join(dir, this.instanceId);
      fs.writeFileSync(this.instanceFile, String(process.pid));
    } catch (e) {
      this.log.warn(`could not note this instance in ${this.config.dataDir}: ${(e as Error).message}`);
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    const name =
      `weir:${this.instanceId}:${[...this.config.roles].join('+') || 'cli'}:${process.pid}:${os.hostname()}`.slice(
        0,
        63,
      );
    const c = new Client({ connectionString: this.url, application_name: name });
    c.on('error', (e) =>
      this.log.warn(`the presence connection was lost (${e.message}); migrate --revert can no longer see this process`),
    );
    try {
      await c.connect();
      // waits while a migrate --revert holds the lock alone (the schema is changing under us)
      await c.query(`SELECT pg_advisory_lock_shared(${PRESENCE_LOCK_SQL})`);
      this.client = c;
    } catch (e) {
      await c.end().catch(() => undefined);
      this.log.warn(`could not take the presence lock: ${(e as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.instanceFile) fs.rmSync(this.instanceFile, { force: true });
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }
}
