import { pgClientConfig, resolveConnection } from '../connectors/connection.util';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { pipeline } from 'node:stream/promises';
import { Client, ClientConfig } from 'pg';
import { from as copyFromStdin, to as copyToStdout } from 'pg-copy-streams';
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';
import {
  enterWriter,
  grantLoadTarget,
  leaveWriter,
  prepareWriter,
  qualifiedTable,
  quoteIdent,
  Warehouse,
} from '@weir/platform';
import { ColumnContract, DatasetContract, primaryKey } from '@weir/catalog';
import { CdcBatch, cdcDrift, CdcRow, lsnText, lsnValue, ResolvedCdcConnector, splitTable } from '../../domain/cdc';
import type { ConnectionSpec } from '../../domain/connector';
import {
  CdcSchemaDriftError,
  CdcSnapshotFailedError,
  CdcSourceUnsuitableError,
  CdcTruncateRefusedError,
  ReplicaIdentityError,
} from '../../ingestion.errors';
import type { CdcConsumerHandle, CdcJob, CdcReplication } from '../../application/ports/cdc-replication.port';
import { CDC_STREAM_STORE, CdcDeadLetter, CdcStreamStore } from '../../application/ports/cdc-stream-store.port';
import type { LoadJob } from '../engine/load.engine';
import { ensureTarget } from '../engine/target.ddl';
import {
  DELETED_AT,
  deleteSql,
  slotLagSql,
  sourceTableSql,
  targetTypesSql,
  truncateSql,
  upsertSql,
} from './cdc-apply.sql';

/** A pg client configuration for a connection spec (secrets read from the environment now). */
export function clientConfig(c: ConnectionSpec): ClientConfig {
  return pgClientConfig(resolveConnection(c, 5432), 'weir-cdc', 10_000);
}

/** A stream that lost its lease while applying: the batch rolled back, another consumer has it. */
class LeaseLostError extends Error {}

/** Thrown into a stopping consumer: not a failure. */
const STOPPED = Symbol('stopped');

async function connect(cfg: ClientConfig, what: string): Promise<Client> {
  const c = new Client(cfg);
  c.on('error', () => undefined);
  try {
    await c.connect();
  } catch (e) {
    throw new CdcSourceUnsuitableError(`Cannot connect to the source database (${what}): ${(e as Error).message}`);
  }
  return c;
}

interface SourceTable {
  ident: string;
  key: string[] | null;
  columns: { name: string; typeOid: number }[];
}

async function sourceTable(c: Client, table: string): Promise<SourceTable | undefined> {
  const { schema, table: name } = splitTable(table);
  const r = (await c.query(sourceTableSql, [schema, name])).rows[0];
  if (!r) return undefined;
  const columns = ((r.columns ?? []) as { name: string; typeOid: unknown }[]).map((c) => ({
    name: c.name,
    typeOid: Number(c.typeOid),
  }));
  return { ident: r.ident, key: r.key, columns };
}

/** The source side of CDC on PostgreSQL (pgoutput through pg-logical-replication), and its consumers. */
@Injectable()
export class PgCdcReplication implements CdcReplication {
  constructor(
    private readonly warehouse: Warehouse,
    @Inject(CDC_STREAM_STORE) private readonly store: CdcStreamStore,
  ) {}

  async check(connector: ResolvedCdcConnector, pk: string[]): Promise<void> {
    const c = await connect(clientConfig(connector.connection), connector.connection.host ?? 'url');
    try {
      const wal = (await c.query('SHOW wal_level')).rows[0].wal_level as string;
      if (wal !== 'logical')
        throw new CdcSourceUnsuitableError(
          `The source database has wal_level=${wal}; logical replication needs wal_level=logical (set it in postgresql.conf and restart the server)`,
        );
      const role = (await c.query(`SELECT rolreplication OR rolsuper AS ok FROM pg_roles WHERE rolname = current_user`))
        .rows[0];
      if (!role?.ok)
        throw new CdcSourceUnsuitableError(
          `The source user may not replicate: ALTER ROLE ${connector.connection.user ?? '<user>'} REPLICATION`,
        );
      const t = await sourceTable(c, connector.table);
      if (!t) throw new CdcSourceUnsuitableError(`The source database has no table ${connector.table}`);
      problemsOfIdentity(connector.table, t, pk);
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  async slotLag(connector: ResolvedCdcConnector): Promise<{ lagBytes: number; retainedBytes: number } | null> {
    const c = await connect(clientConfig(connector.connection), 'slot lag');
    try {
      const r = (await c.query(slotLagSql, [connector.slot])).rows[0];
      return r ? { lagBytes: Number(r.lag ?? 0), retainedBytes: Number(r.retained ?? 0) } : null;
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  async drop(connector: ResolvedCdcConnector): Promise<void> {
    const c = await connect(clientConfig(connector.connection), 'drop slot');
    try {
      await dropSlot(c, connector.slot);
      await c.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(connector.publication)}`);
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  start(job: CdcJob): CdcConsumerHandle {
    const consumer = new CdcConsumer(job, this.warehouse, this.store);
    return { done: consumer.run(), stop: () => consumer.stop() };
  }
}

/** Every reason the table's changes cannot be keyed on the contract's primary key. */
function problemsOfIdentity(table: string, t: SourceTable, pk: string[]): void {
  const have = new Set(t.columns.map((c) => c.name));
  if (pk.length === 0)
    throw new ReplicaIdentityError(`A CDC source merges on a key: the dataset contract needs a primary key`);
  const missing = pk.filter((k) => !have.has(k));
  if (missing.length)
    throw new ReplicaIdentityError(`The contract's key columns ${missing.join(', ')} are not columns of ${table}`);
  if (t.ident === 'f') return;
  if (t.ident === 'n' || !t.key?.length)
    throw new ReplicaIdentityError(
      `${table} has no replica identity (no primary key${t.ident === 'n' ? ', REPLICA IDENTITY NOTHING' : ''}): its updates and deletes cannot be matched. Add a primary key, or run ALTER TABLE ${table} REPLICA IDENTITY FULL`,
    );
  const a = [...t.key].sort().join(',');
  const b = [...pk].sort().join(',');
  if (a !== b)
    throw new ReplicaIdentityError(
      `${table}'s replica identity is (${t.key.join(', ')}) but the dataset contract's primary key is (${pk.join(', ')}): make them the same, or run ALTER TABLE ${table} REPLICA IDENTITY FULL`,
    );
}

/** Drops a slot, ending the walsender that still holds it (it lets go asynchronously: a few tries). */
async function dropSlot(c: Client, slot: string): Promise<void> {
  for (let i = 0; ; i++) {
    const r = (await c.query(`SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1`, [slot])).rows[0];
    if (!r) return;
    if (r.active_pid) await c.query(`SELECT pg_terminate_backend($1)`, [r.active_pid]);
    try {
      await c.query(`SELECT pg_drop_replication_slot($1)`, [slot]);
      return;
    } catch (e) {
      if (i >= 20 || !/is active/.test((e as Error).message)) throw e;
      await new Promise((res) => setTimeout(res, 100));
    }
  }
}

type TxOp = { op: 'u'; row: CdcRow } | { op: 'd'; row: CdcRow } | { op: 't' };

interface PgoutputColumn {
  name: string;
  typeOid: number;
}
type PgoutputMessage =
  | { tag: 'begin'; commitLsn: string; commitTime: bigint | number }
  | { tag: 'commit'; commitLsn: string; commitEndLsn: string; commitTime: bigint | number }
  | { tag: 'relation'; schema: string; name: string; columns: PgoutputColumn[] }
  | { tag: 'insert'; relation: { schema: string; name: string }; new: CdcRow }
  | {
      tag: 'update';
      relation: { schema: string; name: string };
      key: CdcRow | null;
      old: CdcRow | null;
      new: CdcRow;
    }
  | { tag: 'delete'; relation: { schema: string; name: string }; key: CdcRow | null; old: CdcRow | null }
  | { tag: 'truncate'; relations: { schema: string; name: string }[] }
  | { tag: 'origin' | 'type' | 'message' };

/** pgoutput's commit time: microseconds since 2000-01-01 (the library gives a number or a bigint). */
function commitDate(t: bigint | number): Date {
  const v = typeof t === 'bigint' ? Number(t / 1000n) : Number(t) / 1000;
  // the library may already have turned it into milliseconds since 1970
  return new Date(v > 1e12 ? v : v + 946_684_800_000);
}

/**
 * One consumer: prepares the target, takes the initial snapshot when the stream has no position
 * (a slot created with EXPORT_SNAPSHOT, the table copied in that snapshot and the slot's
 * consistent point stored in the same target transaction), then streams: committed transactions
 * are gathered into micro-batches (closed by size or time, at a commit), collapsed per key,
 * applied with the confirmed LSN in one transaction, and only then acknowledged to the server.
 */
class CdcConsumer {
  private readonly log: Logger;
  private readonly c: ResolvedCdcConnector;
  private readonly src: { schema: string; table: string };
  private readonly target: string;
  private contract: DatasetContract;
  private pk: string[];
  private types = new Map<string, string>();
  private known = new Set<string>();
  /** Source column types seen (a change of one is a type change). */
  private sourceTypes = new Map<string, number>();
  private service?: LogicalReplicationService;
  private stopped = false;
  private confirmed: bigint;
  private ackLsn: string;
  private batch: CdcBatch;
  private batchStarted = 0;
  private tx: { skip: boolean; ops: TxOp[]; commitLsn: string } | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  /** Batches handed to {@link apply} and not yet committed (at most two: one applying, the next read meanwhile). */
  private applying = 0;
  private applied: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private failWith?: (e: unknown) => void;
  private finish?: () => void;

  constructor(
    private readonly job: CdcJob,
    private readonly warehouse: Warehouse,
    private readonly store: CdcStreamStore,
  ) {
    this.log = new Logger(`cdc:${job.sourceName}`);
    this.c = job.connector;
    this.src = splitTable(this.c.table);
    this.target = qualifiedTable(job.dataset.schema, job.dataset.table);
    this.contract = job.dataset.contract;
    this.pk = primaryKey(this.contract);
    this.known = new Set(this.contract.columns.map((x) => x.name));
    this.confirmed = job.stream.confirmedLsn ? lsnValue(job.stream.confirmedLsn) : 0n;
    this.ackLsn = job.stream.confirmedLsn ?? '0/0';
    this.batch = new CdcBatch(this.pk);
  }

  async run(): Promise<void> {
    try {
      await this.prepareTarget();
      if (!this.job.stream.confirmedLsn) await this.snapshot();
      if (this.stopped) return;
      await this.stream();
    } catch (e) {
      if (e === STOPPED || (this.stopped && !(e instanceof CdcTruncateRefusedError))) return;
      if (e instanceof LeaseLostError) return;
      throw e;
    } finally {
      if (this.timer) clearInterval(this.timer);
      await this.service?.stop().catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    // a batch being applied commits (or not) before the connection closes; the rest is re-sent
    await this.chain.catch(() => undefined);
    await this.applied.catch(() => undefined);
    await this.service?.stop().catch(() => undefined);
    this.finish?.();
  }

  private async sourceClient(): Promise<Client> {
    return connect(clientConfig(this.c.connection), this.c.table);
  }

  /** The target exists with the contract's columns (and `_weir_deleted_at` for soft deletes); its column types. */
  private async prepareTarget(): Promise<void> {
    const { schema, table } = this.job.dataset;
    await this.warehouse.ensureSchema(schema);
    await prepareWriter(this.warehouse.pool, schema, undefined, false);
    const probe = await this.warehouse.pool.connect();
    let asWriter = false;
    try {
      asWriter = await enterWriter(probe);
      if (asWriter) await leaveWriter(probe);
    } finally {
      probe.release();
    }
    const job = { dataset: this.job.dataset, strategy: { kind: 'merge' } } as unknown as LoadJob;
    await ensureTarget(this.warehouse, job, this.contract, this.target, asWriter);
    await grantLoadTarget(this.warehouse.pool, schema, table);
    if (this.c.deletes === 'soft')
      await this.warehouse.query(
        `ALTER TABLE ${this.target} ADD COLUMN IF NOT EXISTS ${quoteIdent(DELETED_AT)} timestamptz`,
      );
    await this.loadTypes();
  }

  private async loadTypes(): Promise<void> {
    const rows = await this.warehouse.query<{ name: string; type: string }>(targetTypesSql, [this.target]);
    this.types = new Map(rows.map((r) => [r.name, r.type]));
  }

  /** Source columns against the contract: evolve adds them, freeze fails, discard_columns ignores them. */
  private async drift(columns: { name: string; typeOid: number }[]): Promise<void> {
    for (const col of columns) {
      const before = this.sourceTypes.get(col.name);
      if (before !== undefined && before !== col.typeOid && this.known.has(col.name)) {
        const msg = `the type of source column ${col.name} changed (type oid ${before} → ${col.typeOid})`;
        if (this.job.drift === 'freeze')
          throw new CdcSchemaDriftError(
            `${msg} and the drift policy is freeze: update the dataset contract (or set drift evolve), then resume the source`,
          );
        this.log.warn(`${msg}: values are cast to the contract's type; rows that do not cast are dead-lettered`);
      }
      this.sourceTypes.set(col.name, col.typeOid);
    }
    const d = cdcDrift(columns, [...this.known], this.job.drift);
    if (d.problem) throw new CdcSchemaDriftError(d.problem);
    if (!d.add.length) return;
    const cols: ColumnContract[] = d.add.map((a) => ({
      name: a.name,
      type: a.type,
      nullable: true,
      description: `added by schema drift (evolve) from source column ${a.name} (CDC)`,
    }));
    this.contract = await this.job.evolve(cols);
    this.known = new Set(this.contract.columns.map((x) => x.name));
    await this.loadTypes();
    this.log.log(`drift evolve: added ${d.add.map((a) => `${a.name} ${a.type}`).join(', ')}`);
  }

  /** The initial snapshot, consistent with the slot: nothing lost or doubled between it and the stream. */
  private async snapshot(): Promise<void> {
    const admin = await this.sourceClient();
    let repl: Client | undefined;
    let reader: Client | undefined;
    try {
      // a slot left by an interrupted snapshot is made again (its snapshot is gone with its session)
      await dropSlot(admin, this.c.slot);
      const pub = await admin.query(`SELECT 1 FROM pg_publication WHERE pubname = $1`, [this.c.publication]);
      if (!pub.rowCount)
        await admin.query(
          `CREATE PUBLICATION ${quoteIdent(this.c.publication)} FOR TABLE ${qualifiedTable(this.src.schema, this.src.table)}`,
        );
      repl = new Client({ ...clientConfig(this.c.connection), replication: 'database' } as ClientConfig);
      repl.on('error', () => undefined);
      await repl.connect();
      const slot = (
        await repl.query(`CREATE_REPLICATION_SLOT ${quoteIdent(this.c.slot)} LOGICAL pgoutput EXPORT_SNAPSHOT`)
      ).rows[0] as { consistent_point: string; snapshot_name: string };
      reader = await this.sourceClient();
      await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await reader.query(`SET TRANSACTION SNAPSHOT '${slot.snapshot_name.replace(/'/g, "''")}'`);
      const t = await sourceTable(reader, this.c.table);
      if (!t) throw new CdcSourceUnsuitableError(`The source database has no table ${this.c.table}`);
      await this.drift(t.columns);
      const cols = t.columns.map((x) => x.name).filter((n) => this.known.has(n));
      const list = cols.map((x) => quoteIdent(x)).join(', ');
      const t0 = Date.now();
      const rows = await this.warehouse.transaction(async (w) => {
        await w.query(`DELETE FROM ${this.target}`);
        const out = reader!.query(
          copyToStdout(`COPY (SELECT ${list} FROM ${qualifiedTable(this.src.schema, this.src.table)}) TO STDOUT`),
        );
        const into = w.query(copyFromStdin(`COPY ${this.target} (${list}) FROM STDIN`));
        try {
          await pipeline(out, into);
        } catch (e) {
          // a row the target refuses fails the whole snapshot: retrying would fail the same way
          if (/^2[23]/.test((e as { code?: string }).code ?? ''))
            throw new CdcSnapshotFailedError(
              `The snapshot of ${this.c.table} breaks the dataset contract (${(e as Error).message}); fix the rows or the contract, then resume the source`,
            );
          throw e;
        }
        const n = Number((into as unknown as { rowCount: number }).rowCount ?? 0);
        const ok = await this.store.saveProgress(w, this.job.sourceId, this.job.owner, {
          lsn: slot.consistent_point,
          read: n,
          applied: n,
          deduplicated: 0,
          deadLetters: 0,
          lastChangeAt: null,
          state: 'streaming',
        });
        if (!ok) throw new LeaseLostError();
        return n;
      });
      await reader.query('COMMIT');
      this.confirmed = lsnValue(slot.consistent_point);
      this.ackLsn = slot.consistent_point;
      this.log.log(
        `snapshot: ${rows} rows of ${this.c.table} in ${Date.now() - t0} ms, consistent at ${slot.consistent_point}`,
      );
    } finally {
      await reader?.end().catch(() => undefined);
      await repl?.end().catch(() => undefined);
      await admin.end().catch(() => undefined);
    }
  }

  private ours(r: { schema: string; name: string }): boolean {
    return r.schema === this.src.schema && r.name === this.src.table;
  }

  /** The row with only the contract's columns (others are ignored: discard_columns, or not yet known). */
  private rowOf(r: CdcRow): CdcRow {
    const o: CdcRow = {};
    for (const k of Object.keys(r)) if (this.known.has(k)) o[k] = r[k];
    return o;
  }

  private keyOf(r: CdcRow): string {
    return JSON.stringify(this.pk.map((k) => r[k] ?? null));
  }

  private async stream(): Promise<void> {
    const admin = await this.sourceClient();
    try {
      const slot = await admin.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1`, [this.c.slot]);
      if (!slot.rowCount) {
        // its changes since the confirmed LSN are gone: only a new snapshot can make the target right
        await this.store.resetPosition(this.job.sourceId);
        throw new CdcSnapshotFailedError(
          `The replication slot ${this.c.slot} no longer exists on the source (dropped outside Weir?): the changes since ${this.ackLsn} are lost; resume the source to take a new snapshot`,
        );
      }
    } finally {
      await admin.end().catch(() => undefined);
    }
    const service = new LogicalReplicationService(clientConfig(this.c.connection), {
      acknowledge: { auto: false, timeoutSeconds: 0 },
      flowControl: { enabled: true },
    });
    this.service = service;
    const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [this.c.publication] });
    // values as the source's text (pg's type parsers would turn timestamps into Dates, losing microseconds)
    const parser = (plugin as unknown as { parser: Record<string, (r: unknown) => Record<string, unknown>> }).parser;
    const readColumn = parser['readRelationColumn'].bind(parser);
    parser['readRelationColumn'] = (r: unknown) => ({ ...readColumn(r), parser: (v: string) => v });

    const ended = new Promise<void>((resolve, reject) => {
      this.finish = resolve;
      this.failWith = reject;
    });
    service.on('data', async (_lsn: string, msg: PgoutputMessage) => {
      if (this.stopped) return;
      try {
        await this.serial(() => this.onMessage(msg));
      } catch (e) {
        this.failWith?.(e);
      }
    });
    service.on('heartbeat', (lsn: string, _t: number, reply: boolean) => {
      const q = service as unknown as { _messageQueue: unknown[]; _processing: boolean };
      // idle (everything received is applied): the server's position is confirmed, so the slot
      // does not hold WAL for other tables' traffic
      if (!this.tx && this.batch.empty && !this.applying && !q._messageQueue.length && !q._processing) {
        if (lsnValue(lsn) > lsnValue(this.ackLsn)) this.ackLsn = lsn;
      }
      if (reply) void this.ack(this.ackLsn);
    });
    service.on('error', (e: Error) => this.failWith?.(e));
    this.timer = setInterval(
      () => {
        if (!this.batch.empty && !this.tx && Date.now() - this.batchStarted >= this.c.batchMs)
          void this.serial(() => this.flush()).catch((e) => this.failWith?.(e));
      },
      Math.max(10, Math.floor(this.c.batchMs / 4)),
    );
    this.timer.unref();
    const status = setInterval(() => void this.ack(this.ackLsn)?.catch(() => undefined), 10_000);
    status.unref();
    try {
      const subscribed = service.subscribe(plugin, this.c.slot, this.ackLsn);
      subscribed.then(
        () => (this.stopped ? undefined : this.failWith?.(new Error('the replication connection ended'))),
        (e) => this.failWith?.(e),
      );
      await ended;
    } finally {
      clearInterval(status);
    }
  }

  /**
   * Reports `lsn` to the server as written, flushed and applied. The library sends the LSN it is
   * given plus one; the server skips, on a restart, every transaction whose commit record starts
   * before the flushed position — and the next commit may start exactly at the end of the last one
   * applied — so it is given one less, and the server gets `lsn` itself.
   */
  private ack(lsn: string): Promise<boolean> | undefined {
    const v = lsnValue(lsn);
    return this.service?.acknowledge(lsnText(v > 0n ? v - 1n : 0n));
  }

  /** Runs `fn` after everything queued before it (messages and timed flushes never interleave). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async onMessage(msg: PgoutputMessage): Promise<void> {
    switch (msg.tag) {
      case 'begin':
        this.tx = { skip: lsnValue(msg.commitLsn) < this.confirmed, ops: [], commitLsn: msg.commitLsn };
        return;
      case 'relation':
        if (this.ours(msg)) await this.drift(msg.columns.map((c) => ({ name: c.name, typeOid: Number(c.typeOid) })));
        return;
      case 'insert':
        if (this.tx && !this.tx.skip && this.ours(msg.relation))
          this.tx.ops.push({ op: 'u', row: this.rowOf(msg.new) });
        return;
      case 'update': {
        if (!this.tx || this.tx.skip || !this.ours(msg.relation)) return;
        const row = this.rowOf(msg.new);
        const before = msg.key ?? msg.old;
        // the key changed: the old row goes, the new one comes
        if (before && this.keyOf(before) !== this.keyOf(row)) this.tx.ops.push({ op: 'd', row: this.rowOf(before) });
        this.tx.ops.push({ op: 'u', row });
        return;
      }
      case 'delete': {
        if (!this.tx || this.tx.skip || !this.ours(msg.relation)) return;
        const before = msg.key ?? msg.old;
        if (before) this.tx.ops.push({ op: 'd', row: this.rowOf(before) });
        return;
      }
      case 'truncate':
        if (!this.tx || this.tx.skip || !msg.relations.some((r) => r && this.ours(r))) return;
        if (this.c.truncate === 'refuse') {
          // everything committed before this transaction is applied; the stream stops before it
          await this.flush();
          await this.applied;
          throw new CdcTruncateRefusedError(
            `${this.c.table} was truncated on the source (transaction committed at ${this.tx.commitLsn}) and the source's truncate setting is refuse: the target keeps its rows. Empty it yourself or set truncate apply, then resume (or delete and re-create the source to snapshot again)`,
          );
        }
        this.tx.ops.push({ op: 't' });
        return;
      case 'commit': {
        const tx = this.tx;
        this.tx = null;
        if (!tx || tx.skip || tx.ops.length === 0) return;
        if (this.batch.empty) this.batchStarted = Date.now();
        for (const o of tx.ops) {
          if (o.op === 'u') this.batch.upsert(o.row);
          else if (o.op === 'd') this.batch.delete(o.row);
          else this.batch.truncate();
        }
        this.batch.commit(msg.commitEndLsn, commitDate(msg.commitTime));
        if (this.batch.read >= this.c.batchChanges || Date.now() - this.batchStarted >= this.c.batchMs)
          await this.flush();
        return;
      }
      default:
        return;
    }
  }

  /**
   * Closes the batch and hands it to {@link apply}, after the previous one is committed: batches
   * commit in order, and the next batch is read while one is applied.
   */
  private async flush(): Promise<void> {
    if (this.batch.empty || !this.batch.lastLsn) return;
    const b = this.batch;
    this.batch = new CdcBatch(this.pk);
    this.applying++;
    const previous = this.applied;
    const next = previous.then(() => this.apply(b));
    this.applied = next;
    next.catch((e) => this.failWith?.(e));
    // at most one batch waits while another is applied (memory stays bounded)
    await previous;
  }

  /** Applies the batch and its confirmed LSN in one transaction; acknowledges after COMMIT. */
  private async apply(b: CdcBatch): Promise<void> {
    const lsn = lsnText(lsnValue(b.lastLsn as string));
    try {
      const soft = this.c.deletes === 'soft';
      const dead: CdcDeadLetter[] = [];
      const applied = await this.warehouse.transaction(async (w) => {
        let n = 0;
        if (b.truncated) await w.query(truncateSql(this.target, soft));
        const plan = b.plan();
        if (plan.deletes.length) {
          await w.query(
            deleteSql(this.target, this.pk, this.types, soft),
            this.pk.map((k) => plan.deletes.map((r) => r[k] ?? null)),
          );
          n += plan.deletes.length;
        }
        for (const g of plan.upserts) {
          const sql = upsertSql(this.target, this.pk, g.columns, this.types, soft);
          const params = (rows: CdcRow[]) => g.columns.map((c) => rows.map((r) => r[c] ?? null));
          await w.query('SAVEPOINT weir_cdc');
          try {
            await w.query(sql, params(g.rows));
            n += g.rows.length;
            continue;
          } catch (e) {
            if (!/^2[23]/.test((e as { code?: string }).code ?? '')) throw e;
            await w.query('ROLLBACK TO SAVEPOINT weir_cdc');
          }
          // a row that breaks the contract (a value that does not cast, a missing required value):
          // row by row, the failing ones dead-lettered with their reason
          for (const r of g.rows) {
            await w.query('SAVEPOINT weir_cdc_row');
            try {
              await w.query(sql, params([r]));
              n++;
            } catch (e) {
              const code = (e as { code?: string }).code ?? '';
              if (!/^2[23]/.test(code)) throw e;
              await w.query('ROLLBACK TO SAVEPOINT weir_cdc_row');
              dead.push({
                lsn,
                record: r as Record<string, unknown>,
                reason: code === '23502' ? 'REQUIRED' : code.startsWith('22') ? 'TYPE' : 'CONSTRAINT',
                message: (e as Error).message,
              });
            }
          }
        }
        const ok = await this.store.saveProgress(w, this.job.sourceId, this.job.owner, {
          lsn,
          read: b.read,
          applied: n,
          deduplicated: b.deduplicated,
          deadLetters: dead.length,
          lastChangeAt: b.lastCommitAt ?? null,
        });
        if (!ok) throw new LeaseLostError();
        await this.store.deadLetter(w, this.job.sourceId, dead);
        return n;
      });
      this.confirmed = lsnValue(lsn);
      this.ackLsn = lsn;
      // only now: the server may forget these changes
      await this.ack(lsn);
      this.job.onBatch({
        read: b.read,
        applied,
        deduplicated: b.deduplicated,
        deadLetters: dead.length,
        latencyMs: b.firstCommitAt ? Date.now() - b.firstCommitAt.getTime() : 0,
      });
    } finally {
      this.applying--;
    }
  }
}
