import type { PoolClient } from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';
import { quoteIdent, Warehouse } from '@weir/platform';

/** Bytes buffered between the encoder and the socket: a few MB keep both Node and PostgreSQL busy. */
const COPY_BUFFER = 1 << 20;

/** With a keyed stage, a COPY is ended and a new one started after this many bytes (the segment kept to send again). */
export const SEGMENT_BYTES = 8 << 20;

/** Appends `\t<record number>` to each row of COPY text (rows end in a newline byte; values escape theirs). */
export function numberRows(chunk: Buffer, records: number[]): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  for (let r = 0; r < records.length; r++) {
    const nl = chunk.indexOf(10, start);
    parts.push(chunk.subarray(start, nl), Buffer.from(`\t${records[r]}\n`, 'latin1'));
    start = nl + 1;
  }
  return Buffer.concat(parts);
}

/**
 * `COPY stage (columns…) FROM STDIN` as a writable with backpressure. A COPY can be ended and a new
 * one started with more columns (drift policy evolve, a field first seen mid-stream); `rows` counts
 * the rows of every COPY ended so far. Rows carry their record number in a last column
 * (`recordColumn`), which settling uses to name duplicates and keep the first.
 *
 * A stage that has its primary key while rows stream in ({@link keyed}) lets PostgreSQL build the
 * index beside the parsing, as `COPY` into the target would, instead of after it, and its rows go
 * without record numbers (parsing them was a tenth of PostgreSQL's COPY time): a key cannot come
 * twice there. The text goes in segments, each kept with its rows' record numbers until its COPY
 * ends: when one fails on a duplicate key (23505), the key is dropped (`dropKey`), the segment sent
 * again with record numbers, and so is every row after it; the rows committed before have none,
 * and come first (their keys came first).
 */
export class StageCopy {
  private copy!: ReturnType<typeof copyFromStdin>;
  private finished!: Promise<void>;
  private error?: Error;
  private columns: readonly string[] = [];
  private segment: { chunk: Buffer; records: number[] }[] = [];
  private segmentBytes = 0;
  private dropKey?: () => Promise<void>;
  /** Rows of the COPYs ended so far. */
  rows = 0;

  constructor(
    private readonly client: PoolClient,
    private readonly staged: string,
    private readonly recordColumn: string,
    columns: readonly string[],
    keyed?: { dropKey: () => Promise<void> },
  ) {
    this.dropKey = keyed?.dropKey;
    this.start(columns);
  }

  /** Whether rows must carry their record number (`\t<n>` before the newline): not while the stage is keyed. */
  get numbered(): boolean {
    return this.dropKey === undefined;
  }

  /** Starts a COPY of these columns (after {@link end}); the record column is added while rows are numbered. */
  start(columns: readonly string[]): void {
    this.columns = columns;
    const all = this.numbered ? [...columns, this.recordColumn] : columns;
    const copy = this.client.query(
      copyFromStdin(`COPY ${this.staged} (${all.map((c) => quoteIdent(c)).join(', ')}) FROM STDIN`, {
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

  /**
   * Writes COPY text; waits when the socket is full; throws the COPY's error if it failed. Rows
   * written while not {@link numbered} come with their record numbers (`records`).
   */
  async write(chunk: Buffer, records?: number[]): Promise<void> {
    if (this.error) await this.recover();
    let data = chunk;
    if (records && this.numbered) data = numberRows(chunk, records);
    else if (records) {
      this.segment.push({ chunk, records });
      this.segmentBytes += chunk.length;
    }
    if (!this.copy.write(data)) {
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
    if (!this.numbered && this.segmentBytes >= SEGMENT_BYTES) {
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

  /** A COPY of a keyed stage failed on a duplicate key: the key goes, the segment is sent again, numbered. Else rethrows. */
  private async recover(): Promise<void> {
    const e = this.error;
    if (!this.dropKey || (e as { code?: string } | undefined)?.code !== '23505') throw e;
    await this.finished.catch(() => undefined);
    this.error = undefined;
    const dropKey = this.dropKey;
    this.dropKey = undefined;
    const again = this.segment;
    this.segment = [];
    this.segmentBytes = 0;
    await dropKey();
    this.start(this.columns);
    for (const s of again) await this.write(s.chunk, s.records);
  }

  /** Aborts the current COPY; rethrows its own error if it had one, else `cause`. */
  async abort(cause: unknown): Promise<never> {
    // an error the COPY had before is the reason; one the abort itself causes is not
    const before = this.error;
    this.copy.destroy(cause as Error);
    await this.finished.catch(() => undefined);
    throw before ?? cause;
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
