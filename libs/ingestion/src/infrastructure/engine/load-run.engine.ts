import type { PoolClient } from 'pg';
import {
  enterWriter,
  grantLoadTarget,
  leaveWriter,
  prepareWriter,
  qualifiedTable,
  quoteIdent,
  Warehouse,
  WRITER_ROLE,
} from '@weir/platform';
import {
  ColumnContract,
  compileContract,
  CompiledContract,
  columnSql,
  createTableSql,
  DatasetContract,
  primaryKey,
  Violation,
} from '@weir/catalog';
import { driftColumns, headerPlan } from '../../domain/drift';
import { EmptyInputError, StrategyNeedsKeyError } from '../../ingestion.errors';
import { isUnparseable, objectKeys, RawRecord, ReaderBatch, unknownKeysOf, Unparseable } from '../readers/record.types';
import { DeadLetterWriter } from './dead-letter.writer';
import type { LoadJob, LoadResult } from './load.engine';
import { auditStage, PhaseContext, publishStage } from './publish.engine';
import { settle } from './settle.engine';
import { RECORD_COL } from './settle.sql';
import { ensureTarget } from './target.ddl';
import { StageCopy } from './stage-copy.writer';

/**
 * COPY text is encoded row by row into buffers of this many bytes, each handed to the COPY when
 * full: UTF-8 per short row is far cheaper than flattening and encoding one long string of
 * concatenated rows (Buffer.from of such a rope was 40% of the loop's time).
 */
const CHUNK_BYTES = 1 << 17;
const PROGRESS_MS = 5000;
/** Longest stretch of validation without yielding the event loop. */
const SLICE_MS = 5;
/** A stretch this long means one value held the loop: the yield then waits for pending I/O. */
const SLOW_VALUE_MS = 20;
/**
 * One load, write–audit–publish: {@link prepare} (drift, contract, target, stage), {@link stream}
 * (validate every record, COPY good rows into the stage, dead-letter bad ones), settle
 * (watermark, duplicates, limits, in SQL), then publish.engine.ts: the audit (the quality gate) and
 * the publish (one transaction with the run record). Any failure before COMMIT leaves the target untouched.
 */
export class LoadRun {
  private readonly schema: string;
  private readonly stage: string;
  private readonly target: string;
  private readonly staged: string;
  private readonly pk: string[];
  private readonly dl: DeadLetterWriter;
  private readonly discarded: Record<string, number> = {};
  private contract: DatasetContract;
  private compiled?: CompiledContract;
  private known = new Set<string>();
  private header?: string[];
  private index?: Int32Array;
  private headerViolation?: Violation;
  /** Fields evolve could not turn into a column (name taken, limits): they stay unknown, and are not tried again. */
  private readonly unaddable = new Set<string>();
  private addedThisRun = 0;
  private rowsRead = 0;
  private readonly tStart = Date.now();
  private lastProgress = Date.now();
  private client!: PoolClient;
  private asWriter = false;
  private copy!: StageCopy;
  /** The COPY text not yet handed over: `out` up to `off`, and its rows' record numbers while they go without. */
  private out = Buffer.allocUnsafe(CHUNK_BYTES);
  private off = 0;
  private records: number[] = [];
  /** When the loop last gave the event loop its turn. */
  private slice = Date.now();

  constructor(
    private readonly warehouse: Warehouse,
    private readonly job: LoadJob,
  ) {
    const { schema, table } = job.dataset;
    this.schema = schema;
    this.stage = `__weir_stage_${job.runId.replace(/-/g, '').slice(0, 16)}`;
    this.target = qualifiedTable(schema, table);
    this.staged = qualifiedTable(schema, this.stage);
    this.pk = primaryKey(job.dataset.contract);
    this.contract = job.dataset.contract;
    if (job.strategy.kind === 'merge' && this.pk.length === 0) {
      throw new StrategyNeedsKeyError(
        `Strategy merge needs a primary key in the contract of dataset "${job.dataset.name}"`,
      );
    }
    this.dl = new DeadLetterWriter(warehouse, job.runId);
  }

  async execute(): Promise<LoadResult> {
    await this.warehouse.ensureSchema(this.schema);
    await prepareWriter(this.warehouse.pool, this.schema, undefined, false); // the target: grantLoadTarget
    this.client = await this.warehouse.pool.connect();
    // the load's statements run as the warehouse writer, which has no privilege on Weir's own
    // schemas; the bookkeeping in them (dead letters, the run record) goes back to the service's role
    this.asWriter = await enterWriter(this.client);
    let stageCreated = false;
    let broken = false;
    try {
      const iterator = this.job.batches[Symbol.asyncIterator]();
      const first = await iterator.next();
      const firstBatch: ReaderBatch = first.done ? { records: [] } : first.value;
      const owned = await this.prepare(firstBatch);
      stageCreated = true;
      await this.stream(iterator, first.done ? undefined : firstBatch);
      const tStreamed = Date.now();
      const settled = await settle({
        client: this.client,
        job: this.job,
        contract: this.contract,
        staged: this.staged,
        target: this.target,
        pk: this.pk,
        rowsRead: this.rowsRead,
        copied: this.copy.rows,
        keyed: this.keyedStage && !this.copy.numbered,
        rejected: this.dl.count,
        asService: this.asService,
      });
      const quality = await auditStage(this.phaseContext(), settled);
      try {
        const result = await publishStage(this.phaseContext(), owned, settled, quality, tStreamed);
        stageCreated = this.job.strategy.kind !== 'replace';
        return result;
      } catch (e) {
        stageCreated = true;
        throw e;
      }
    } finally {
      if (stageCreated) await this.client.query(`DROP TABLE IF EXISTS ${this.staged}`).catch(() => undefined);
      if (this.asWriter) await leaveWriter(this.client).catch(() => (broken = true));
      this.client.release(broken);
    }
  }

  /** Hands the COPY text so far to the COPY; the next rows go to a fresh buffer (the COPY may still hold this one). */
  private async flushOut(): Promise<void> {
    if (this.off === 0) return;
    const chunk = this.out.subarray(0, this.off);
    const records = this.records;
    this.out = Buffer.allocUnsafe(CHUNK_BYTES);
    this.off = 0;
    this.records = [];
    await this.copy.write(chunk, this.copy.numbered ? undefined : records);
  }

  /** What the audit and publish phases work with (publish.engine.ts). */
  private phaseContext(): PhaseContext {
    return {
      job: this.job,
      client: this.client,
      schema: this.schema,
      stage: this.stage,
      staged: this.staged,
      target: this.target,
      pk: this.pk,
      contract: this.contract,
      rowsRead: this.rowsRead,
      discarded: this.discarded,
      tStart: this.tStart,
      asService: this.asService,
    };
  }

  /** A replace with a primary key streams into a stage that has the key (the index built beside the COPY). */
  private get keyedStage(): boolean {
    return this.job.strategy.kind === 'replace' && this.pk.length > 0;
  }

  /** Bookkeeping in Weir's own tables (dead letters, the run record) runs as the service's role. */
  private readonly asService = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (!this.asWriter) return fn();
    await leaveWriter(this.client);
    let failed = false;
    try {
      return await fn();
    } catch (e) {
      failed = true;
      throw e;
    } finally {
      // in a transaction fn aborted, this fails too: its ROLLBACK restores the writer
      await this.client.query(`SET ROLE ${WRITER_ROLE}`).catch((e) => {
        if (!failed) throw e;
      });
    }
  };

  /**
   * Drift handling and compilation, once, from the header (CSV) or the first batch (JSON, Parquet);
   * the target made or checked, the stage created. Returns whether the writer owns the target.
   */
  private async prepare(firstBatch: ReaderBatch): Promise<boolean> {
    const { job } = this;
    if (job.drift === 'evolve') await this.evolveWith(firstBatch.header ?? objectKeys(firstBatch.records));
    this.compile();
    if (firstBatch.header) this.readHeader(firstBatch.header);
    await ensureTarget(this.warehouse, job, this.contract, this.target, this.asWriter);
    const { owned } = await grantLoadTarget(this.warehouse.pool, this.schema, job.dataset.table);
    await this.client.query(`SET TIME ZONE 'UTC'`);
    await this.client.query(
      createTableSql(this.schema, this.stage, this.contract, {
        // a replace's stage becomes the target: its key is built while rows stream in (see StageCopy)
        withKey: this.keyedStage,
        unlogged: job.strategy.kind !== 'replace',
        // a keyed stage's rows have no record number unless a duplicate key came (see StageCopy)
        extraColumns: [`${quoteIdent(RECORD_COL)} bigint${this.keyedStage ? '' : ' NOT NULL'}`],
      }),
    );
    return owned || !this.asWriter;
  }

  private compile(): void {
    this.compiled = compileContract(this.contract, {
      mapping: this.job.options.mapping,
      nullValues: this.job.options.nullValues,
    });
    this.known = new Set(this.compiled.sourceFields);
  }

  /** CSV: where each contract column is in a row, and what freeze or discard_columns say of the header. */
  private readHeader(given: string[]): void {
    const plan = headerPlan(given, this.compiled!, this.contract, this.job.drift, this.job.options.mapping ?? {});
    this.header = plan.header;
    this.index = plan.index;
    this.headerViolation = plan.violation;
    if (this.job.drift === 'discard_columns') for (const u of plan.unknown) this.discarded[u] = 0;
  }

  /** drift policy evolve: adds a nullable text column per new source field; returns those added. */
  private async evolveWith(fields: string[]): Promise<ColumnContract[]> {
    const { job } = this;
    const fieldsKnown = this.compiled
      ? this.known
      : new Set(compileContract(this.contract, { mapping: job.options.mapping }).sourceFields);
    const { cols, mapping } = driftColumns(fields, {
      known: fieldsKnown,
      unaddable: this.unaddable,
      columns: this.contract.columns.map((c) => c.name),
      addedThisRun: this.addedThisRun,
      mapping: job.options.mapping ?? {},
    });
    if (cols.length === 0) return [];
    this.addedThisRun += cols.length;
    this.contract = await job.evolve(cols);
    job.options = { ...job.options, mapping };
    return cols;
  }

  /** COPY good rows into the stage, bad ones into dead letters, batch by batch. */
  private async stream(iterator: AsyncIterator<ReaderBatch>, first: ReaderBatch | undefined): Promise<void> {
    const dropKey = async () => {
      await this.client.query(`ALTER TABLE ${this.staged} DROP CONSTRAINT ${quoteIdent(`${this.stage}_pkey`)}`);
    };
    this.copy = new StageCopy(
      this.client,
      this.staged,
      RECORD_COL,
      this.compiled!.columns,
      this.keyedStage ? { dropKey } : undefined,
    );
    try {
      if (first) await this.consume(first);
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) await this.consume(next.value);
      await this.flushOut();
      await this.copy.end();
    } catch (e) {
      await this.copy.abort(e);
    }
    await this.dl.flush();
    if (this.rowsRead === 0 && this.job.strategy.kind === 'replace') {
      throw new EmptyInputError('The input has no records; a replace would empty the table, so nothing was published');
    }
  }

  /** The hot loop: every record of a batch validated and encoded (its state kept in locals). */
  private async consume(batch: ReaderBatch): Promise<void> {
    const { dl, discarded, header, index, headerViolation, job } = this;
    const drift = job.drift;
    let compiled = this.compiled!;
    let cols = compiled.columns.length;
    let values: unknown[] = new Array(cols);
    let encode = compiled.encode;
    let objectFields = compiled.sourceFields;
    let known = this.known;
    let rowsRead = this.rowsRead;
    let out = this.out;
    let off = this.off;
    let records = this.records;
    let numbered = this.copy.numbered;
    // the time slice runs on across batches: a slow last record of one batch makes the next batch yield first
    let slice = this.slice;
    const rawOf = (r: RawRecord): Record<string, unknown> =>
      Array.isArray(r) ? Object.fromEntries((header ?? []).map((h, i) => [h, r[i] ?? null])) : r;
    for (let r = 0; r < batch.records.length; r++) {
      const rec = batch.records[r];
      rowsRead++;
      const held = Date.now() - slice;
      if (held > SLICE_MS) {
        // a long batch (or slow values) gives other requests their turn: the API stays responsive.
        // After a value that alone held the loop (a pathological pattern match), a request needs
        // more than the next tick (its own database round trip): pending I/O gets a 5 ms turn
        await new Promise((resolve) => (held > SLOW_VALUE_MS ? setTimeout(resolve, 5) : setImmediate(resolve)));
        slice = Date.now();
      }
      if (isUnparseable(rec)) {
        await dl.add(
          rowsRead,
          { reason: 'UNPARSEABLE', message: (rec as Unparseable).message },
          null,
          (rec as Unparseable).text,
        );
        continue;
      }
      if (headerViolation) {
        await dl.add(rowsRead, headerViolation, rawOf(rec), null);
        continue;
      }
      if (Array.isArray(rec)) {
        if (rec.length !== header!.length) {
          const message = `${rec.length} fields, the header has ${header!.length}`;
          await dl.add(rowsRead, { reason: 'COLUMN_COUNT', message }, null, JSON.stringify(rec));
          continue;
        }
        for (let i = 0; i < cols; i++) values[i] = index![i] < 0 ? undefined : rec[index![i]];
      } else {
        let unknownKeys = unknownKeysOf(rec, known);
        if (unknownKeys && drift === 'evolve' && unknownKeys.some((k) => !this.unaddable.has(k))) {
          // the new fields of the rest of this batch at once: one COPY restart per batch at most
          this.off = off;
          this.out = out;
          this.records = records;
          await this.evolveMidStream(objectKeys(batch.records.slice(r)).filter((k) => !known.has(k)));
          out = this.out;
          off = this.off;
          records = this.records;
          numbered = this.copy.numbered;
          compiled = this.compiled!;
          cols = compiled.columns.length;
          values = new Array(cols);
          encode = compiled.encode;
          objectFields = compiled.sourceFields;
          known = this.known;
          unknownKeys = unknownKeysOf(rec, known);
        }
        if (unknownKeys) {
          if (drift === 'discard_columns') {
            for (const k of unknownKeys) discarded[k] = (discarded[k] ?? 0) + 1;
          } else {
            const message = `unknown fields ${unknownKeys.join(', ')} (drift policy ${drift})`;
            await dl.add(rowsRead, { reason: 'SCHEMA_DRIFT', message }, rec, null);
            continue;
          }
        }
        for (let i = 0; i < cols; i++) values[i] = rec[objectFields[i]];
      }
      const v = encode(values);
      if (typeof v !== 'string') {
        await dl.add(rowsRead, v, rawOf(rec), null);
        continue;
      }
      // at most 3 bytes a UTF-16 unit, a tab, the record number and a newline
      if (off + v.length * 3 + 24 > out.length) {
        if (off > 0) await this.copy.write(out.subarray(0, off), numbered ? undefined : records);
        out = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, v.length * 3 + 24));
        off = 0;
        records = [];
        numbered = this.copy.numbered; // a duplicate key in a keyed stage numbers the rows from now on
      }
      off += out.write(v, off);
      if (numbered) {
        out[off++] = 9;
        off += out.write(String(rowsRead), off, 'latin1');
      } else records.push(rowsRead);
      out[off++] = 10;
    }
    this.out = out;
    this.off = off;
    this.records = records;
    this.rowsRead = rowsRead;
    this.slice = slice;
    if (header && drift === 'discard_columns')
      for (const u of Object.keys(discarded)) discarded[u] += batch.records.length;
    if (job.onProgress && Date.now() - this.lastProgress >= PROGRESS_MS) {
      this.lastProgress = Date.now();
      job.onProgress({ rowsRead, rowsRejected: dl.count });
    }
  }

  /**
   * evolve, for a field first seen after the first batch (JSON, Parquet): the rows so far are
   * committed to the stage by ending its COPY, the contract (and the target, through the
   * catalog) gains the column, so does the stage, and a new COPY with the new column goes on.
   */
  private async evolveMidStream(fields: string[]): Promise<void> {
    if (!fields.some((f) => !this.unaddable.has(f))) return;
    await this.flushOut();
    await this.copy.end();
    await this.evolveWith(fields);
    // the stage gains every contract column it lacks (also one added meanwhile by someone else)
    const have = new Set(
      (
        await this.client.query(
          `SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
          [this.staged],
        )
      ).rows.map((r: { attname: string }) => r.attname),
    );
    const missing = this.contract.columns.filter((c) => !have.has(c.name));
    if (missing.length)
      await this.client.query(
        `ALTER TABLE ${this.staged} ${missing.map((c) => `ADD COLUMN ${columnSql({ ...c, nullable: true })}`).join(', ')}`,
      );
    this.compile();
    this.copy.start(this.compiled!.columns);
  }
}
