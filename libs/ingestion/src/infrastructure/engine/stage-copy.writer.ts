import type { PoolClient } from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';
import { quoteIdent, Warehouse } from '@weir/platform';

/** Bytes buffered between the encoder and the socket: a few MB keep both Node and PostgreSQL busy. */
const COPY_BUFFER = 1 << 20;

/** With a keyed stage, a COPY is ended and a new one started after this many bytes (the segment kept to send again). */
export const SEGMENT_BYTES = 8 << 20;

/**
 * `COPY stage (columns…) FROM STDIN` as a writable with backpressure. A COPY can be ended and a new
 * one started with more columns (drift policy evolve, a field first seen mid-stream); `rows` counts
 * the rows of every COPY ended so far.
 *
 * A stage that has its primary key while rows stream in ({@link keyed}) lets PostgreSQL build the
 * index beside the parsing, as `COPY` into the target would, instead of after it. Its text is sent
 * in segments, each kept until its COPY ends: when one fails on a duplicate key (23505), the key is
 * dropped (`onDuplicateKey`), the segment sent again, and the duplicates are settled in SQL later.
 */
export class StageCopy {
  private copy!: ReturnType<typeof copyFromStdin>;
  private finished!: Promise<void>;
  private error?: Error;
  private columns: readonly string[] = [];
  private segment: Buffer[] = [];
  private segmentBytes = 0;
  private onDuplicateKey?: () => Promise<void>;
  /** Rows of the COPYs ended so far. */
  rows = 0;

  constructor(
    private readonly client: PoolClient,
    private readonly staged: string,
    columns: readonly string[],
  ) {
    this.start(columns);
  }

  /** The stage has its primary key: keep segments; on a duplicate, `dropKey` and send the segment again. */
  keyed(dropKey: () => Promise<void>): void {
    this.onDuplicateKey = dropKey;
  }

  /** Whether the stage still has its key (no duplicate was met). */
  get stillKeyed(): boolean {
    return this.onDuplicateKey !== undefined;
  }

  /** Starts a COPY of these columns (after {@link end}). */
  start(columns: readonly string[]): void {
    this.columns = columns;
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
  async write(text: string | Buffer): Promise<void> {
    if (this.error) await this.recover();
    // kept as bytes: the text is a rope of many small strings, several times its size in memory
    const s = this.onDuplicateKey && typeof text === 'string' ? Buffer.from(text) : text;
    if (this.onDuplicateKey) {
      this.segment.push(s as Buffer);
      this.segmentBytes += s.length;
    }
    if (!this.copy.write(s)) {
      const copy = this.copy;
      // a failed COPY never drains: its error ends the wait too
      await new Promise<void>((r) => {
        const done = () => {
          copy.off('drain', done);
          copy.off('error', done);
          r();
        };
        copy.on('drain', done);
        copy.on('error', done);
      });
    }
    if (this.onDuplicateKey && this.segmentBytes >= SEGMENT_BYTES) {
      await this.end();
      this.start(this.columns);
    }
  }

  /** Ends the current COPY and waits for PostgreSQL's answer; its rows are added to {@link rows}. */
  async end(): Promise<void> {
    this.copy.end();
    try {
      await this.finished;
    } catch {
      await this.recover();
      return this.end();
    }
    this.rows += Number((this.copy as unknown as { rowCount: number }).rowCount ?? 0);
    this.segment = [];
    this.segmentBytes = 0;
  }

  /** A COPY of a keyed stage failed on a duplicate key: the key goes, the segment is sent again. Else rethrows. */
  private async recover(): Promise<void> {
    const e = this.error;
    if (!this.onDuplicateKey || (e as { code?: string } | undefined)?.code !== '23505') throw e;
    await this.finished.catch(() => undefined);
    this.error = undefined;
    const dropKey = this.onDuplicateKey;
    this.onDuplicateKey = undefined;
    const again = this.segment;
    this.segment = [];
    this.segmentBytes = 0;
    await dropKey();
    this.start(this.columns);
    for (const s of again) await this.write(s);
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
