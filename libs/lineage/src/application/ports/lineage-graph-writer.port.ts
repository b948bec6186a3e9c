import type { DataSource } from 'typeorm';
import type { Outbox, Queryable } from '@weir/platform';
import type { OpenLineageKind, OpenLineageWarning } from '../../domain/openlineage-validator';

/** Nest token of {@link LineageGraphWriter} (internal to the lineage slice). */
export const LINEAGE_GRAPH_WRITER = Symbol('LINEAGE_GRAPH_WRITER');

/** One validated OpenLineage event to keep or apply. */
export interface StoreItem {
  kind: OpenLineageKind;
  event: Record<string, any>;
  /** The event's JSON text as received, when there is one (stored as is). */
  raw?: string;
  /** What a leniently accepted event deviated in (stored with it). */
  warnings?: OpenLineageWarning[];
}

/**
 * Write side of the lineage store: the events as received (lineage.events) and the graph they make
 * (namespaces, jobs, runs, datasets and their schema versions, fields, job edges, field edges).
 * Everything runs on the caller's connection or transaction. Adapter: `LineageStore` (PostgreSQL);
 * the contract suite is libs/lineage/test/lineage-graph-writer.contract.spec.ts.
 */
export interface LineageGraphWriter {
  /** Keeps events as received, in order (the graph does not change); returns their ids, in order. */
  storeEvents(tx: Queryable, items: StoreItem[]): Promise<string[]>;

  /**
   * Keeps events as received and publishes one outbox message on `topic` whose payload is
   * `{"events": [their ids, in order]}`, in one statement (atomic even outside a transaction).
   * Returns the ids, in order.
   */
  storeEventsAndPublish(
    q: Queryable,
    outbox: Pick<Outbox, 'publishWith'>,
    topic: string,
    items: StoreItem[],
  ): Promise<string[]>;

  /** Stored events by id (those that exist; unknown ids are left out), read back as items. */
  loadEvents(tx: Queryable, ids: string[]): Promise<Map<string, StoreItem>>;

  /**
   * Applies validated events to the graph, as if one after the other, in a fixed number of
   * statements whatever the batch's size. Promises:
   * - jobs, datasets, namespaces, runs, fields and edges the events name exist afterwards; facets
   *   merge (the latest wins, one sent as `{"_deleted": true}` is removed);
   * - a run's end is final (COMPLETE, FAIL, ABORT beat START and RUNNING, whatever their order),
   *   otherwise the later event's state wins; a job's latest run is the last one it was given;
   * - a dataset gets a new schema version each time its field list changes;
   * - a run that completes makes its job's edges what the run declared over all its events (a job
   *   that stops reading or writing a dataset loses the edge, and the column lineage it gave into
   *   an output it no longer writes), unless another run of the job completed later;
   * - what a job says of an output's columns replaces what it said before (older facets are ignored);
   * - applying the same events again changes nothing (no row is rewritten).
   * A row another transaction is inserting concurrently fails the batch with a plain `Error`; the
   * caller retries it.
   */
  project(tx: Queryable, items: StoreItem[]): Promise<void>;

  /**
   * {@link project} inside a savepoint of `tx`. When PostgreSQL refuses the data itself (SQLSTATE
   * class 22, a NOT NULL or CHECK violation), the savepoint is rolled back (the graph is as before,
   * `tx` stays usable) and the error is returned; any other error is thrown after the rollback.
   * Returns undefined when the events were applied.
   */
  tryProject(tx: Queryable, items: StoreItem[]): Promise<unknown>;

  /**
   * Deletes at most `limit` stored events received more than `days` days ago (and before
   * `before`, when given), oldest first; returns how many it deleted.
   */
  deleteOldEvents(ds: DataSource, limit: number, days: number, before: Date | null): Promise<number>;
}
