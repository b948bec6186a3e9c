import type { DatasetContract } from '@weir/catalog';
import type { ReaderBatch } from '../../infrastructure/readers/record.types';
import type { RunInput } from '../../domain/source';
import type { SourceRecord } from './source-repository.port';
import type { StoredObject } from '../../domain/remote-connector';

export type { StoredObject } from '../../domain/remote-connector';

/** Nest token of {@link SourceConnectors}: where a run's records come from, whatever the source. */
export const SOURCE_CONNECTORS = Symbol('SOURCE_CONNECTORS');

/** What a run asks its source for. */
export interface ConnectorReadRequest {
  runId: string;
  source: SourceRecord;
  input: RunInput;
  /** The dataset's contract (a table source reads its columns; the cursor's type bounds the watermark). */
  contract: DatasetContract;
  /**
   * The resumable checkpoint: the source's watermark as stored by the last published run (an
   * incremental query source reads only what is past it, less the strategy's lookback).
   */
  watermark: string | null;
  /** Fires when the run is cancelled: the read stops (its cursor or query closed). */
  signal: AbortSignal;
}

/** An open read: batches of records (an async iterable, consumed once) and what it cost. */
export interface ConnectorRead {
  batches: AsyncIterable<ReaderBatch>;
  /** Bytes read so far (files; a database reports 0). */
  bytesRead: () => number;
  /** What is read, for the run's log (never a secret). */
  description: string;
  /**
   * Incremental query sources: the source applied the watermark itself (the engine skips nothing
   * more), and the tie-breaker column the new watermark records beside the cursor.
   */
  pushdown?: { tieBreaker?: string };
  /**
   * A source that keeps its own checkpoint (a Singer/Airbyte tap's STATE): the checkpoint to store
   * once the records read are published (asked after the batches end; null keeps the stored one).
   */
  checkpoint?: () => string | null;
  /** What the read skipped or noticed, for the run's log after it ends (records of other streams). */
  summary?: () => string | null;
  /** Releases the file or the connection (idempotent; also after a failure). */
  close: () => Promise<void>;
}

/**
 * The source connector port: one contract for every kind of source (files, `postgres_query`,
 * `mysql_query`, `singer` taps, and later object storage, HTTP APIs). A read is resumable from the
 * stored checkpoint, which only the publish transaction advances.
 */
export interface SourceConnectors {
  open(req: ConnectorReadRequest): Promise<ConnectorRead>;
  /**
   * An object-store source's objects (its `location.inbox` URL and `pattern`, every page of the
   * listing), in key order, with their ETags.
   */
  listObjects(source: SourceRecord, signal?: AbortSignal): Promise<StoredObject[]>;
  /** One object of an object-store source (`s3://bucket/key`, or a key in its location's bucket). */
  statObject(source: SourceRecord, url: string): Promise<StoredObject>;
}
