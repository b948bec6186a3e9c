import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import * as os from 'node:os';
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
  return r.rows.map((x: { pid: number; application_name: string; client_addr: string | null; backend_start: Date }) => ({
    pid: x.pid,
    applicationName: x.application_name,
    clientAddr: x.client_addr,
    since: new Date(x.backend_start).toISOString(),
  }));
}

/**
 * Holds the presence lock (a session-level shared advisory lock) on its own connection for the
 * life of the process, so tools that would pull the schema from under it (`weir migrate --revert`)
 * can tell that a Weir process uses the database — detected, not guessed. The connection is
 * named `weir:<roles>:<host>:<pid>` (pg_stat_activity.application_name). A lost connection only
 * loses the lock; it is taken again on the next start.
 */
@Injectable()
export class PresenceLock implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('presence');
  private client?: Client;

  constructor(
    @Inject(WEIR_CONFIG) private readonly config: WeirConfig,
    @Inject('WEIR_DATABASE_URL') private readonly url: string,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const name = `weir:${[...this.config.roles].join('+') || 'cli'}:${os.hostname()}:${process.pid}`.slice(0, 63);
    const c = new Client({ connectionString: this.url, application_name: name });
    c.on('error', (e) => this.log.warn(`the presence connection was lost (${e.message}); migrate --revert can no longer see this process`));
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
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }
}
