import { randomBytes } from 'node:crypto';
import type { PoolClient } from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';
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
  isViolation,
  parseType,
  primaryKey,
  Violation,
} from '@weir/catalog';
import type { QualityGate, QualityGateResult } from '@weir/quality';
import {
  DriftPolicy,
  RowCounts,
  SourceFormat,
  SourceOptions,
  StrategySpec,
  assertAccounted,
} from '../../domain/source';
import { foldName } from '../../domain/infer';
import { RawRecord, ReaderBatch, Unparseable, isUnparseable } from '../readers/record';
import { DeadLetterWriter } from './dead-letter.writer';
import {
  EmptyInputError,
  LoadGateFailedError,
  NothingToPublishError,
  StrategyNeedsCursorError,
  StrategyNeedsKeyError,
  TableContractMismatchError,
  TooManyRejectedError,
} from '../../ingestion.errors';
export { LoadFailedError } from '../../ingestion.errors';

/** Everything the engine needs to load one input. */
export interface LoadJob {
  runId: string;
  sourceName: string;
  dataset: { name: string; schema: string; table: string; contract: DatasetContract };
  format: SourceFormat;
  strategy: StrategySpec;
  drift: DriftPolicy;
  options: SourceOptions;
  maxRejectedRatio: number;
  watermark: string | null;
  /** The records, batch by batch (CSV batches carry the header first). */
  batches: AsyncIterable<ReaderBatch>;
  /** Adds nullable text columns to the dataset (drift policy evolve); returns the new contract. */
  evolve: (columns: ColumnContract[]) => Promise<DatasetContract>;
  qualityGate: QualityGate;
  /** Called every few seconds with the rows read so far. */
  onProgress?: (p: { rowsRead: number; rowsRejected: number }) => void;
  /**
   * Called inside the publish transaction, after the data is merged and before COMMIT: the
   * caller records the run (and the watermark) in the same transaction.
   */
  recordPublish: (client: PoolClient, result: LoadResult) => Promise<void>;
}

export interface LoadResult extends RowCounts {
  /** Milliseconds per phase: stream (read, validate, COPY), settle (keys, duplicates, watermark, gate), publish. */
  phases: { stream: number; settle: number; publish: number };
  columnsDiscarded: Record<string, number>;
  watermarkAfter: string | null;
  quality: QualityGateResult;
}

const CHUNK_CHARS = 1 << 16;
const COPY_BUFFER = 1 << 20;
const PROGRESS_MS = 5000;
/** Longest stretch of validation without yielding the event loop. */
const SLICE_MS = 5;
const RECORD_COL = '__weir_record';

/** evolve adds columns up to this many in a contract (PostgreSQL's limit is 1600, and the stage needs one more). */
const EVOLVE_MAX_COLUMNS = 1500;
/** …and at most this many in one run; further new fields are dead-lettered as SCHEMA_DRIFT. */
const EVOLVE_MAX_PER_RUN = 200;

/**
 * Write–audit–publish for one input: validate every record against the compiled contract,
 * COPY good rows into a staging table and bad ones into dead letters, settle duplicates and
 * the watermark in SQL, ask the quality gate, then publish in one transaction with the run record.
 * Any failure before COMMIT leaves the target untouched.
 */
export class LoadEngine {
  constructor(private readonly warehouse: Warehouse) {}

  async run(job: LoadJob): Promise<LoadResult> {
    const { schema, table } = job.dataset;
    const stage = `__weir_stage_${job.runId.replace(/-/g, '').slice(0, 16)}`;
    const target = qualifiedTable(schema, table);
    const staged = qualifiedTable(schema, stage);
    const pk = primaryKey(job.dataset.contract);
    if (
      (job.strategy.kind === 'merge' || job.strategy.kind === 'incremental') &&
      pk.length === 0 &&
      job.strategy.kind === 'merge'
    ) {
      throw new StrategyNeedsKeyError(
        `Strategy merge needs a primary key in the contract of dataset "${job.dataset.name}"`,
      );
    }
    const dl = new DeadLetterWriter(this.warehouse, job.runId);
    const discarded: Record<string, number> = {};
    let contract = job.dataset.contract;
    let compiled: CompiledContract | undefined;
    let header: string[] | undefined;
    let index: Int32Array | undefined;
    let headerViolation: Violation | undefined;
    let known = new Set<string>();
    let rowsRead = 0;
    const tStart = Date.now();
    let lastProgress = tStart;

    await this.warehouse.ensureSchema(schema);
    await prepareWriter(this.warehouse.pool, schema);
    const client = await this.warehouse.pool.connect();
    // the load's statements run as the warehouse writer, which has no privilege on Weir's own
    // schemas; the bookkeeping in them (dead letters, the run record) goes back to the service's role
    const asWriter = await enterWriter(client);
    const asService = async <T>(fn: () => Promise<T>): Promise<T> => {
      if (!asWriter) return fn();
      await leaveWriter(client);
      let failed = false;
      try {
        return await fn();
      } catch (e) {
        failed = true;
        throw e;
      } finally {
        // in a transaction fn aborted, this fails too: its ROLLBACK restores the writer
        await client.query(`SET ROLE ${WRITER_ROLE}`).catch((e) => {
          if (!failed) throw e;
        });
      }
    };
    let stageCreated = false;
    let broken = false;
    try {
      const iterator = job.batches[Symbol.asyncIterator]();
      let first = await iterator.next();

      // Drift handling and compilation, once, from the header (CSV) or the first batch (JSON, Parquet).
      const firstBatch: ReaderBatch = first.done ? { records: [] } : first.value;
      const sampleFields = firstBatch.header ?? this.objectKeys(firstBatch.records);
      /** Fields evolve could not turn into a column (name taken, limits): they stay unknown, and are not tried again. */
      const unaddable = new Set<string>();
      let addedThisRun = 0;
      /** drift policy evolve: adds a nullable text column per new source field; returns those added. */
      const evolveWith = async (fields: string[]): Promise<ColumnContract[]> => {
        const fieldsKnown = compiled
          ? known
          : new Set(compileContract(contract, { mapping: job.options.mapping }).sourceFields);
        const fresh = fields.filter((f) => !fieldsKnown.has(f) && !unaddable.has(f));
        if (fresh.length === 0) return [];
        const mapping = { ...(job.options.mapping ?? {}) };
        const cols: ColumnContract[] = [];
        for (const f of fresh) {
          const name = foldName(f);
          // a name already taken, or past the limits (PostgreSQL allows 1600 columns; a run adds at most EVOLVE_MAX_PER_RUN)
          const full =
            contract.columns.length + cols.length >= EVOLVE_MAX_COLUMNS ||
            addedThisRun + cols.length >= EVOLVE_MAX_PER_RUN;
          if (full || contract.columns.some((c) => c.name === name) || cols.some((c) => c.name === name)) {
            unaddable.add(f);
            continue;
          }
          cols.push({
            name,
            type: 'text',
            nullable: true,
            description: `added by schema drift (evolve) from source field ${JSON.stringify(f)}`,
          });
          if (name !== f) mapping[name] = { ...(mapping[name] ?? {}), from: f };
        }
        addedThisRun += cols.length;
        if (cols.length > 0) {
          contract = await job.evolve(cols);
          job.options = { ...job.options, mapping };
        }
        return cols;
      };
      if (job.drift === 'evolve') await evolveWith(sampleFields);
      compiled = compileContract(contract, { mapping: job.options.mapping, nullValues: job.options.nullValues });
      known = new Set(compiled.sourceFields);
      if (firstBatch.header) {
        header = firstBatch.header.length > 0 ? firstBatch.header : compiled.sourceFields;
        const pos = new Map(header.map((h, i) => [h, i]));
        index = Int32Array.from(compiled.sourceFields.map((f) => pos.get(f) ?? -1));
        const unknown = header.filter((h) => !known.has(h));
        const required = contract.columns
          .filter((c, i) => !c.nullable && index![i] === -1 && job.options.mapping?.[c.name]?.default == null)
          .map((c) => compiled!.sourceFields[contract.columns.indexOf(c)]);
        if (job.drift === 'freeze' && (unknown.length > 0 || required.length > 0)) {
          headerViolation = {
            reason: 'SCHEMA_DRIFT',
            message:
              [
                unknown.length ? `unknown columns ${unknown.join(', ')}` : '',
                required.length ? `missing required columns ${required.join(', ')}` : '',
              ]
                .filter(Boolean)
                .join('; ') + ' (drift policy freeze)',
          };
        } else if (job.drift === 'discard_columns') {
          for (const u of unknown) discarded[u] = 0;
        }
      }

      await this.ensureTarget(job, contract, target, asWriter);
      const { owned } = await grantLoadTarget(this.warehouse.pool, schema, table);
      await client.query(`SET TIME ZONE 'UTC'`);
      await client.query(
        createTableSql(schema, stage, contract, {
          withKey: false,
          unlogged: job.strategy.kind !== 'replace',
          extraColumns: [`${quoteIdent(RECORD_COL)} bigint NOT NULL`],
        }),
      );
      stageCreated = true;

      // COPY good rows into the stage, bad ones into dead letters.
      // A few MB of slack between parsing and the socket keeps both Node and PostgreSQL busy.
      let copy!: ReturnType<typeof copyFromStdin>;
      let copiedBefore = 0; // rows of the COPYs ended to add a column (evolve)
      let copyError: Error | undefined;
      let finished!: Promise<void>;
      const startCopy = () => {
        copy = client.query(
          copyFromStdin(
            `COPY ${staged} (${[...compiled!.columns, RECORD_COL].map((c) => quoteIdent(c)).join(', ')}) FROM STDIN`,
            { highWaterMark: COPY_BUFFER },
          ),
        );
        copy.on('error', (e: Error) => (copyError = e));
        const c = copy;
        finished = new Promise<void>((resolve, reject) => {
          c.on('finish', resolve);
          c.on('error', reject);
        });
        finished.catch(() => undefined);
      };
      startCopy();
      let buf = '';
      const write = async (s: string) => {
        if (copyError) throw copyError;
        if (!copy.write(s)) await new Promise<void>((r) => copy.once('drain', r));
      };
      let cols = compiled.columns.length;
      let values: unknown[] = new Array(cols);
      let encode = compiled.encode;
      const rawOf = (r: RawRecord): Record<string, unknown> =>
        Array.isArray(r) ? Object.fromEntries((header ?? []).map((h, i) => [h, r[i] ?? null])) : r;
      let objectFields = compiled.sourceFields;
      /**
       * evolve, for a field first seen after the first batch (JSON, Parquet): the rows so far are
       * committed to the stage by ending its COPY, the contract (and the target, through the
       * catalog) gains the column, so does the stage, and a new COPY with the new column goes on.
       */
      const evolveMidStream = async (fields: string[]): Promise<void> => {
        if (!fields.some((f) => !unaddable.has(f))) return;
        if (buf) await write(buf);
        buf = '';
        copy.end();
        await finished;
        copiedBefore += Number((copy as unknown as { rowCount: number }).rowCount ?? 0);
        await evolveWith(fields);
        // the stage gains every contract column it lacks (also one added meanwhile by someone else)
        const have = new Set(
          (
            await client.query(
              `SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
              [staged],
            )
          ).rows.map((r: { attname: string }) => r.attname),
        );
        const missing = contract.columns.filter((c) => !have.has(c.name));
        if (missing.length)
          await client.query(
            `ALTER TABLE ${staged} ${missing.map((c) => `ADD COLUMN ${columnSql({ ...c, nullable: true })}`).join(', ')}`,
          );
        compiled = compileContract(contract, { mapping: job.options.mapping, nullValues: job.options.nullValues });
        known = new Set(compiled.sourceFields);
        cols = compiled.columns.length;
        values = new Array(cols);
        encode = compiled.encode;
        objectFields = compiled.sourceFields;
        startCopy();
      };

      let slice = Date.now();
      const consume = async (batch: ReaderBatch) => {
        for (let r = 0; r < batch.records.length; r++) {
          const rec = batch.records[r];
          rowsRead++;
          if (Date.now() - slice > SLICE_MS) {
            // a long batch (or slow values) gives other requests their turn: the API stays responsive
            await new Promise((resolve) => setImmediate(resolve));
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
              await dl.add(
                rowsRead,
                { reason: 'COLUMN_COUNT', message: `${rec.length} fields, the header has ${header!.length}` },
                null,
                JSON.stringify(rec),
              );
              continue;
            }
            for (let i = 0; i < cols; i++) values[i] = index![i] < 0 ? undefined : rec[index![i]];
          } else {
            let unknownKeys = this.unknownKeys(rec, known);
            if (unknownKeys && job.drift === 'evolve' && unknownKeys.some((k) => !unaddable.has(k))) {
              // the new fields of the rest of this batch at once: one COPY restart per batch at most
              await evolveMidStream(this.objectKeys(batch.records.slice(r)).filter((k) => !known.has(k)));
              unknownKeys = this.unknownKeys(rec, known);
            }
            if (unknownKeys) {
              if (job.drift === 'discard_columns') {
                for (const k of unknownKeys) discarded[k] = (discarded[k] ?? 0) + 1;
              } else {
                await dl.add(
                  rowsRead,
                  {
                    reason: 'SCHEMA_DRIFT',
                    message: `unknown fields ${unknownKeys.join(', ')} (drift policy ${job.drift})`,
                  },
                  rec,
                  null,
                );
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
          buf += v + '\t' + rowsRead + '\n';
          if (buf.length >= CHUNK_CHARS) {
            await write(buf);
            buf = '';
          }
        }
        if (header && job.drift === 'discard_columns')
          for (const u of Object.keys(discarded)) discarded[u] += batch.records.length;
        if (job.onProgress && Date.now() - lastProgress >= PROGRESS_MS) {
          lastProgress = Date.now();
          job.onProgress({ rowsRead, rowsRejected: dl.count });
        }
      };

      try {
        if (!first.done) await consume(firstBatch);
        while (!(first = await iterator.next()).done) await consume(first.value);
        if (buf) await write(buf);
        copy.end();
        await finished;
      } catch (e) {
        copy.destroy(e as Error);
        await finished.catch(() => undefined);
        throw copyError ?? e;
      }
      await dl.flush();
      let rejected = dl.count;
      const tStreamed = Date.now();

      if (rowsRead === 0 && job.strategy.kind === 'replace') {
        throw new EmptyInputError(
          'The input has no records; a replace would empty the table, so nothing was published',
        );
      }

      // Settle duplicates and the watermark in SQL, on the stage. Cheap paths first: the primary
      // key build (replace) and the upsert (merge) detect duplicates themselves, and only then is
      // the costlier window query run.
      let staged_n = copiedBefore + Number((copy as unknown as { rowCount: number }).rowCount ?? 0);
      let deduplicated = 0;
      const strategy = job.strategy.kind;
      const keyList = pk.map((c) => quoteIdent(c)).join(', ');
      if (strategy === 'incremental') {
        const skipped = await this.applyWatermark(client, job, contract, staged);
        deduplicated += skipped;
        staged_n -= skipped;
      }
      if (pk.length > 0 && strategy === 'append') {
        const dups = await asService(() => this.rejectDuplicatesInBatch(client, job, staged, pk, true));
        const existing = await asService(() => this.rejectExistingKeys(client, job, staged, target, pk));
        rejected += dups + existing;
        staged_n -= dups + existing;
      }
      if (strategy === 'replace' && pk.length > 0) {
        try {
          await client.query(`ALTER TABLE ${staged} ADD PRIMARY KEY (${keyList})`);
        } catch (e) {
          if ((e as { code?: string }).code !== '23505') throw e;
          const dups = await asService(() => this.rejectDuplicatesInBatch(client, job, staged, pk, false));
          rejected += dups;
          staged_n -= dups;
          await client.query(`ALTER TABLE ${staged} ADD PRIMARY KEY (${keyList})`);
        }
      }
      if (rowsRead > 0 && rejected / rowsRead > job.maxRejectedRatio) {
        throw new TooManyRejectedError(
          `${rejected} of ${rowsRead} records rejected (${((100 * rejected) / rowsRead).toFixed(2)}%), above the source's maxRejectedRatio ${job.maxRejectedRatio}; nothing was published`,
          { read: rowsRead, rejected, deduplicated },
        );
      }
      if (strategy === 'replace' && staged_n === 0) {
        throw new NothingToPublishError(
          `No record of ${rowsRead} passed; a replace would empty the table, so nothing was published`,
          {
            read: rowsRead,
            rejected,
            deduplicated,
          },
        );
      }

      let watermarkAfter: string | null = job.watermark;
      if (strategy === 'incremental' && job.strategy.cursor) {
        const m = (await client.query(`SELECT max(${quoteIdent(job.strategy.cursor)})::text AS m FROM ${staged}`))
          .rows[0].m as string | null;
        if (m !== null)
          watermarkAfter =
            job.watermark === null ? m : await this.greatest(client, contract, job.strategy.cursor, job.watermark, m);
      }
      // merge / incremental settle a key's duplicates at publish time (the fast path finds none);
      // when there are checks to run, settle them first, so the gate sees what would be published
      if (
        (strategy === 'merge' || strategy === 'incremental') &&
        pk.length > 0 &&
        staged_n > 0 &&
        (await (job.qualityGate.hasChecks?.(job.dataset.name) ?? true))
      ) {
        // the window query only when a key repeats (the common input has none)
        const repeats = (await client.query(`SELECT 1 FROM ${staged} GROUP BY ${keyList} HAVING count(*) > 1 LIMIT 1`))
          .rowCount;
        const d = repeats ? await asService(() => this.dedupeKeepLast(client, job, staged, pk)) : 0;
        deduplicated += d;
        staged_n -= d;
      }
      const quality = await job.qualityGate.check({
        dataset: job.dataset.name,
        schema,
        table: stage,
        runId: job.runId,
        rows: staged_n,
      });
      if (!quality.passed) {
        const errors = quality.failures.filter((f) => f.severity === 'error');
        const links = (quality.runIds ?? []).map((id) => `/api/quality/runs/${id}`).join(', ');
        throw new LoadGateFailedError(
          `The quality gate failed, nothing was published: ${errors.map((f) => f.message).join('; ')}${links ? ` (see ${links})` : ''}`,
          { read: rowsRead, rejected, deduplicated },
          quality,
        );
      }

      // Publish: one transaction merges/swaps into the target and records the run.
      const tSettled = Date.now();
      await client.query('BEGIN');
      let result: LoadResult;
      try {
        await client.query(`SET LOCAL lock_timeout = '30s'`);
        const dedupedAtPublish = await this.publish(
          client,
          job,
          contract,
          staged,
          stage,
          target,
          pk,
          owned || !asWriter,
          asService,
        );
        deduplicated += dedupedAtPublish;
        staged_n -= dedupedAtPublish;
        const phases = { stream: tStreamed - tStart, settle: tSettled - tStreamed, publish: Date.now() - tSettled };
        result = {
          read: rowsRead,
          loaded: staged_n,
          rejected,
          deduplicated,
          phases,
          columnsDiscarded: discarded,
          watermarkAfter,
          quality,
        };
        assertAccounted(result);
        stageCreated = strategy !== 'replace';
        await asService(() => job.recordPublish(client, result));
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        stageCreated = true;
        throw e;
      }
      return result;
    } finally {
      if (stageCreated) await client.query(`DROP TABLE IF EXISTS ${staged}`).catch(() => undefined);
      if (asWriter) await leaveWriter(client).catch(() => (broken = true));
      client.release(broken);
    }
  }

  private objectKeys(records: (RawRecord | Unparseable)[]): string[] {
    const keys = new Set<string>();
    for (const r of records) if (!Array.isArray(r) && !isUnparseable(r)) for (const k of Object.keys(r)) keys.add(k);
    return [...keys];
  }

  private unknownKeys(rec: Record<string, unknown>, known: Set<string>): string[] | undefined {
    let out: string[] | undefined;
    for (const k in rec) if (!known.has(k)) (out ??= []).push(k);
    return out;
  }

  /** Creates the target for non-replace strategies and checks that it has every contract column. */
  private async ensureTarget(
    job: LoadJob,
    contract: DatasetContract,
    target: string,
    asWriter: boolean,
  ): Promise<void> {
    const { schema, table } = job.dataset;
    // two first loads at once (two instances, two sources) create the table once: the second waits
    // for the first's lock, then finds the table (PostgreSQL's own CREATE races on pg_type otherwise)
    const cols = await this.warehouse.transaction(async (c) => {
      await c.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`weir.table:${schema}.${table}`]);
      const found = (
        await c.query(
          `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`,
          [schema, table],
        )
      ).rows as { column_name: string }[];
      if (found.length === 0 && job.strategy.kind !== 'replace') {
        if (asWriter) await c.query(`SET LOCAL ROLE ${WRITER_ROLE}`); // the writer owns what loads create
        await c.query(createTableSql(schema, table, contract));
      }
      return found;
    });
    if (cols.length === 0) return;
    if (job.strategy.kind === 'replace') return;
    const have = new Set(cols.map((c) => c.column_name));
    const missing = contract.columns.filter((c) => !have.has(c.name)).map((c) => c.name);
    if (missing.length > 0) {
      throw new TableContractMismatchError(
        `${target} lacks contract columns ${missing.join(', ')} (a breaking contract change?); load once with strategy replace to rebuild it`,
      );
    }
  }

  private async applyWatermark(
    client: PoolClient,
    job: LoadJob,
    contract: DatasetContract,
    staged: string,
  ): Promise<number> {
    const cursor = job.strategy.cursor;
    if (!cursor) throw new StrategyNeedsCursorError('Strategy incremental needs a cursor column');
    if (job.watermark === null) return 0;
    const col = contract.columns.find((c) => c.name === cursor);
    if (!col) throw new StrategyNeedsCursorError(`The cursor column ${cursor} is not in the contract`);
    const t = parseType(col.type);
    const base = typeof t === 'string' ? 'text' : t.base;
    const temporal = base === 'timestamp' || base === 'timestamptz' || base === 'date';
    const lookback = job.strategy.lookback ?? (temporal ? '0 seconds' : '0');
    const bound = temporal
      ? `($1::${base === 'date' ? 'timestamp' : base} - $2::interval)`
      : base === 'text'
        ? `$1::text`
        : `($1::numeric - $2::numeric)`;
    const params = base === 'text' ? [job.watermark] : [job.watermark, lookback];
    const r = await client.query(`DELETE FROM ${staged} WHERE ${quoteIdent(cursor)} <= ${bound}`, params);
    return r.rowCount ?? 0;
  }

  /** replace/append: a key seen twice in the input keeps its first record; later ones are rejected. */
  private async rejectDuplicatesInBatch(
    client: PoolClient,
    job: LoadJob,
    staged: string,
    pk: string[],
    precheck: boolean,
  ): Promise<number> {
    const keys = pk.map((c) => quoteIdent(c)).join(', ');
    if (
      precheck &&
      (await client.query(`SELECT 1 FROM ${staged} GROUP BY ${keys} HAVING count(*) > 1 LIMIT 1`)).rowCount === 0
    )
      return 0;
    const keyText =
      pk.length === 1
        ? `d.${quoteIdent(pk[0])}::text`
        : `concat_ws(',', ${pk.map((c) => `d.${quoteIdent(c)}::text`).join(', ')})`;
    const ranked = `SELECT *, row_number() OVER w AS __rn, first_value(${quoteIdent(RECORD_COL)}) OVER w AS __first FROM ${staged} WINDOW w AS (PARTITION BY ${keys} ORDER BY ${quoteIdent(RECORD_COL)})`;
    await client.query(
      `INSERT INTO ingestion.dead_letters (run_id, record_number, reason, column_name, value, message, raw_record)
       SELECT $1, d.${quoteIdent(RECORD_COL)}, 'DUPLICATE_KEY_IN_BATCH', $2, ${keyText},
              'duplicate primary key in this input; record ' || d.__first || ' has it first', to_jsonb(d) - '${RECORD_COL}' - '__rn' - '__first'
         FROM (${ranked}) d WHERE d.__rn > 1`,
      [job.runId, pk.join(',')],
    );
    const del = await client.query(
      `DELETE FROM ${staged} s USING (${ranked}) d WHERE d.__rn > 1 AND s.${quoteIdent(RECORD_COL)} = d.${quoteIdent(RECORD_COL)}`,
    );
    return del.rowCount ?? 0;
  }

  /** append: records whose key is already in the target are rejected (DUPLICATE_KEY). */
  private async rejectExistingKeys(
    client: PoolClient,
    job: LoadJob,
    staged: string,
    target: string,
    pk: string[],
  ): Promise<number> {
    const on = pk.map((c) => `t.${quoteIdent(c)} = s.${quoteIdent(c)}`).join(' AND ');
    const keyText =
      pk.length === 1
        ? `s.${quoteIdent(pk[0])}::text`
        : `concat_ws(',', ${pk.map((c) => `s.${quoteIdent(c)}::text`).join(', ')})`;
    await client.query(
      `INSERT INTO ingestion.dead_letters (run_id, record_number, reason, column_name, value, message, raw_record)
       SELECT $1, s.${quoteIdent(RECORD_COL)}, 'DUPLICATE_KEY', $2, ${keyText}, 'primary key already in the target (strategy append)', to_jsonb(s) - '${RECORD_COL}'
         FROM ${staged} s WHERE EXISTS (SELECT 1 FROM ${target} t WHERE ${on})`,
      [job.runId, pk.join(',')],
    );
    const del = await client.query(`DELETE FROM ${staged} s WHERE EXISTS (SELECT 1 FROM ${target} t WHERE ${on})`);
    return del.rowCount ?? 0;
  }

  /** merge/incremental: within the input, a key keeps its last record by orderBy (then input order). */
  private async dedupeKeepLast(client: PoolClient, job: LoadJob, staged: string, pk: string[]): Promise<number> {
    const keys = pk.map((c) => quoteIdent(c)).join(', ');
    const order = [
      job.strategy.orderBy ? `${quoteIdent(job.strategy.orderBy)} DESC NULLS LAST` : '',
      `${quoteIdent(RECORD_COL)} DESC`,
    ]
      .filter(Boolean)
      .join(', ');
    const del = await client.query(
      `DELETE FROM ${staged} s USING (SELECT ${quoteIdent(RECORD_COL)} AS r, row_number() OVER (PARTITION BY ${keys} ORDER BY ${order}) AS rn FROM ${staged}) d
        WHERE d.rn > 1 AND s.${quoteIdent(RECORD_COL)} = d.r`,
    );
    return del.rowCount ?? 0;
  }

  private async greatest(
    client: PoolClient,
    contract: DatasetContract,
    cursor: string,
    a: string,
    b: string,
  ): Promise<string> {
    const col = contract.columns.find((c) => c.name === cursor)!;
    const t = parseType(col.type);
    const cast =
      typeof t === 'string'
        ? 'text'
        : t.base === 'timestamp'
          ? 'timestamp'
          : t.base === 'timestamptz'
            ? 'timestamptz'
            : t.base === 'date'
              ? 'date'
              : t.base === 'text'
                ? 'text'
                : 'numeric';
    return (await client.query(`SELECT greatest($1::${cast}, $2::${cast})::text AS g`, [a, b])).rows[0].g;
  }

  /** Applies the strategy inside the publish transaction; returns the rows deduplicated there (merge). */
  /** `owned`: the writer owns the target, so a replace may swap it (else its rows are replaced in place). */
  private async publish(
    client: PoolClient,
    job: LoadJob,
    contract: DatasetContract,
    staged: string,
    stage: string,
    target: string,
    pk: string[],
    owned: boolean,
    asService: <T>(fn: () => Promise<T>) => Promise<T>,
  ): Promise<number> {
    const { schema, table } = job.dataset;
    const cols = contract.columns.map((c) => quoteIdent(c.name)).join(', ');
    switch (job.strategy.kind) {
      case 'replace': {
        await client.query(`ALTER TABLE ${staged} DROP COLUMN ${quoteIdent(RECORD_COL)}`);
        const old = `__weir_old_${randomBytes(6).toString('hex')}`;
        const exists = (await client.query(`SELECT to_regclass($1) IS NOT NULL AS e`, [target])).rows[0].e as boolean;
        if (exists) {
          await client.query(`LOCK TABLE ${target} IN ACCESS EXCLUSIVE MODE`);
          // views (models) built on the target would follow a renamed table and be dropped with
          // it, and only the writer's own table may be swapped (one made outside Weir is not
          // its): keep the table and replace its rows instead, in this same transaction
          const dependents = await client.query(
            `SELECT 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid WHERE d.refobjid = $1::regclass AND d.deptype = 'n' LIMIT 1`,
            [target],
          );
          if (dependents.rowCount || !owned) {
            await client.query(`TRUNCATE ${target}`);
            await client.query(`INSERT INTO ${target} (${cols}) SELECT ${cols} FROM ${staged}`);
            await client.query(`DROP TABLE ${staged}`);
            return 0;
          }
          await client.query(`ALTER TABLE ${target} RENAME TO ${quoteIdent(old)}`);
        }
        await client.query(`ALTER TABLE ${staged} RENAME TO ${quoteIdent(table)}`);
        if (exists) await client.query(`DROP TABLE ${qualifiedTable(schema, old)}`);
        if (pk.length > 0)
          await client.query(
            `ALTER TABLE ${target} RENAME CONSTRAINT ${quoteIdent(`${stage}_pkey`)} TO ${quoteIdent(`${table}_pkey`.slice(0, 63))}`,
          );
        return 0;
      }
      case 'append':
        await client.query(`INSERT INTO ${target} (${cols}) SELECT ${cols} FROM ${staged}`);
        return 0;
      case 'merge':
      case 'incremental': {
        if (pk.length === 0) {
          await client.query(`INSERT INTO ${target} (${cols}) SELECT ${cols} FROM ${staged}`);
          return 0;
        }
        const nonKey = contract.columns.filter((c) => !c.primaryKey).map((c) => quoteIdent(c.name));
        const action = nonKey.length
          ? `DO UPDATE SET ${nonKey.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`
          : 'DO NOTHING';
        const upsert = `INSERT INTO ${target} (${cols}) SELECT ${cols} FROM ${staged} ON CONFLICT (${pk.map((c) => quoteIdent(c)).join(', ')}) ${action}`;
        // Fast path: no key twice in the input. PostgreSQL refuses to update a row twice (21000);
        // only then are duplicates settled (last by orderBy, then input order) and the upsert retried.
        await client.query('SAVEPOINT weir_upsert');
        try {
          await client.query(upsert);
          return 0;
        } catch (e) {
          if ((e as { code?: string }).code !== '21000') throw e;
          await client.query('ROLLBACK TO SAVEPOINT weir_upsert');
        }
        const deduped = await asService(() => this.dedupeKeepLast(client, job, staged, pk));
        await client.query(upsert);
        return deduped;
      }
    }
  }
}

export { isViolation };
