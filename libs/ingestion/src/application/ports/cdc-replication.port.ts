import type { ColumnContract, DatasetContract } from '@weir/catalog';
import type { ResolvedCdcConnector } from '../../domain/cdc';
import type { CdcStreamRecord } from './cdc-stream-store.port';

/** Inject with `@Inject(CDC_REPLICATION)`: the source database's side of CDC and the consumers (internal). */
export const CDC_REPLICATION = Symbol('CDC_REPLICATION');

/** What one consumer runs: a source's stream into its dataset. */
export interface CdcJob {
  sourceId: string;
  sourceName: string;
  connector: ResolvedCdcConnector;
  dataset: { name: string; schema: string; table: string; contract: DatasetContract };
  drift: string;
  stream: CdcStreamRecord;
  /** The lease holder (this instance). */
  owner: string;
  /** Drift policy evolve: adds the columns to the contract (and the target); returns the new contract. */
  evolve(columns: ColumnContract[]): Promise<DatasetContract>;
  /** After each committed batch. */
  onBatch(b: { read: number; applied: number; deduplicated: number; deadLetters: number; latencyMs: number }): void;
}

/** A running consumer: `done` settles when it stops (rejects with why it failed); `stop` ends it. */
export interface CdcConsumerHandle {
  done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The source side: checks at creation (reachable, `wal_level=logical`, the table and its REPLICA
 * IDENTITY against the contract's key), slot lag, dropping slot and publication; and consumers
 * (snapshot, then streaming applied in micro-batches).
 */
export interface CdcReplication {
  check(connector: ResolvedCdcConnector, primaryKey: string[]): Promise<void>;
  /**
   * The slot's lag (WAL bytes from its confirmed position to the server's current one) and the WAL
   * it retains (from its restart position); null when the slot does not exist.
   */
  slotLag(connector: ResolvedCdcConnector): Promise<{ lagBytes: number; retainedBytes: number } | null>;
  /** Drops the slot (ending a consumer still on it) and the publication; absent ones are fine. */
  drop(connector: ResolvedCdcConnector): Promise<void>;
  start(job: CdcJob): CdcConsumerHandle;
}
