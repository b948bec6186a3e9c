import { Injectable, Logger } from '@nestjs/common';
import { Client } from 'pg';
import { asStatementTimeout, Queryable, Warehouse } from '@weir/platform';
import type { StreamLease, StreamLeases } from '../../application/ports/stream-lease.port';

const LOCK = (sourceId: string) => [`weir.stream:${sourceId}`];
const APP = 'weir-stream:';

/**
 * STREAM_LEASES with PostgreSQL session advisory locks: a lease is `pg_try_advisory_lock` on a
 * connection of its own, named after the instance. A process that dies (even SIGKILL) loses its
 * connection and so its lease at once; the next instance to try takes it.
 */
@Injectable()
export class StreamLeaseStore implements StreamLeases {
  private readonly log = new Logger('streams');

  private readonly url: string;
  /** {@link holder} answers a request: bounded by WEIR_REQUEST_STATEMENT_TIMEOUT_MS. */
  private readonly requestTimeoutMs: number;

  /** On the database of the runs and the data (where the publish transactions run). */
  constructor(warehouse: Warehouse) {
    this.url = (warehouse.pool as unknown as { options: { connectionString: string } }).options.connectionString;
    this.requestTimeoutMs = warehouse.requestTimeoutMs;
  }

  async tryAcquire(sourceId: string, instanceId: string): Promise<StreamLease | null> {
    const c = new Client({ connectionString: this.url, application_name: `${APP}${instanceId}`.slice(0, 63) });
    let lost = false;
    c.on('error', (e) => {
      lost = true;
      this.log.warn(`the lease connection of stream source ${sourceId} was lost: ${e.message}`);
    });
    c.on('end', () => (lost = true));
    await c.connect();
    try {
      const got = (await c.query(`SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok`, LOCK(sourceId))).rows[0]
        .ok as boolean;
      if (!got) {
        await c.end();
        return null;
      }
    } catch (e) {
      await c.end().catch(() => undefined);
      throw e;
    }
    return {
      held: () => !lost,
      release: async () => {
        if (lost) return;
        await c.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, LOCK(sourceId)).catch(() => undefined);
        await c.end().catch(() => undefined);
      },
    };
  }

  async holder(sourceId: string): Promise<string | null> {
    const c = new Client({ connectionString: this.url, statement_timeout: this.requestTimeoutMs });
    await c.connect();
    try {
      const r = await c.query(
        `SELECT a.application_name AS app FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended($1, 0) LIMIT 1`,
        LOCK(sourceId),
      );
      const app = r.rows[0]?.app as string | undefined;
      return app ? (app.startsWith(APP) ? app.slice(APP.length) : app) : null;
    } catch (e) {
      throw asStatementTimeout(e, this.requestTimeoutMs);
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  async noteDeadLetters(tx: Queryable, runId: string, origins: { subject: string; sequence: number }[]): Promise<void> {
    await tx.query(
      `UPDATE ingestion.dead_letters d
          SET message = d.message || ' (subject ' || m.subject || ', stream sequence ' || m.seq || ')'
         FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS m(subject, seq, n)
        WHERE d.run_id = $1 AND d.record_number = m.n`,
      [runId, origins.map((o) => o.subject), origins.map((o) => o.sequence)],
    );
  }
}
