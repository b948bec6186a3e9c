import type { PoolClient } from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';
import { quoteIdent, Warehouse } from '@weir/platform';

/** Bytes buffered between the encoder and the socket: a few MB keep both Node and PostgreSQL busy. */
const COPY_BUFFER = 1 << 20;

/**
 * `COPY stage (columns…) FROM STDIN` as a writable with backpressure. A COPY can be ended and a new
 * one started with more columns (drift policy evolve, a field first seen mid-stream); `rows` counts
 * the rows of every COPY ended so far.
 */
export class StageCopy {
  private copy!: ReturnType<typeof copyFromStdin>;
  private finished!: Promise<void>;
  private error?: Error;
  /** Rows of the COPYs ended so far. */
  rows = 0;

  constructor(
    private readonly client: PoolClient,
    private readonly staged: string,
    columns: readonly string[],
  ) {
    this.start(columns);
  }

  /** Starts a COPY of these columns (after {@link end}). */
  start(columns: readonly string[]): void {
    const copy = this.client.query(
      copyFromStdin(`COPY ${this.staged} (${columns.map((c) => quoteIdent(c)).join(', ')}) FROM STDIN`, {
        highWaterMark: COPY_BUFFER,
      }),
    );
    copy.on('error', (e: Error) => (this.error = e));
    this.finished = new Promise<void>((resolve, reject) => {
      copy.on('finish', resolve);
      copy.on('error', reject);
    });
    this.finished.catch(() => undefined);
    this.copy = copy;
  }

  /** Writes COPY text; waits when the socket is full; throws the COPY's error if it failed. */
  async write(s: string): Promise<void> {
    if (this.error) throw this.error;
    if (!this.copy.write(s)) await new Promise<void>((r) => this.copy.once('drain', r));
  }

  /** Ends the current COPY and waits for PostgreSQL's answer; its rows are added to {@link rows}. */
  async end(): Promise<void> {
    this.copy.end();
    await this.finished;
    this.rows += Number((this.copy as unknown as { rowCount: number }).rowCount ?? 0);
  }

  /** Aborts the current COPY; rethrows its own error if it had one, else `cause`. */
  async abort(cause: unknown): Promise<never> {
    this.copy.destroy(cause as Error);
    await this.finished.catch(() => undefined);
    throw this.error ?? cause;
  }
}

/** Drops stage tables (`__weir_stage_<run>`) whose run is no longer running: a process died holding them. */
export async function dropOrphanStages(warehouse: Warehouse): Promise<void> {
  const orphans = await warehouse.query<{ s: string; t: string }>(
    `SELECT n.nspname AS s, c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND c.relname LIKE '\\_\\_weir\\_stage\\_%'
        AND NOT EXISTS (SELECT 1 FROM ingestion.runs r WHERE r.status = 'running' AND replace(r.id::text, '-', '') LIKE substr(c.relname, 14) || '%')`,
  );
  for (const o of orphans) await warehouse.query(`DROP TABLE IF EXISTS "${o.s}"."${o.t}"`).catch(() => undefined);
}
