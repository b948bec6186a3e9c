import type { Queryable } from '@weir/platform';
import type { PipelineSpec } from '../../domain/pipeline';

/** Inject with `@Inject(DATASET_TRIGGERS)`: the state of data-aware schedules (internal to orchestration). */
export const DATASET_TRIGGERS = Symbol('DATASET_TRIGGERS');

/** An update of a dataset a schedule waits for. */
export interface SeenUpdate {
  dataset: string;
  /** The outbox event that told it. */
  eventId: string;
  /** The run that wrote the dataset. */
  runId: string;
  at: string;
}

/**
 * Data-aware schedules: which pipelines listen to a dataset, and (for `when: all`) the updates each
 * has seen since its last run. Methods taking `tx` work in the caller's transaction (the outbox
 * handler's), so what they record commits with the event's delivery: exactly once.
 */
export interface DatasetTriggers {
  /** Pipelines whose current schedule names the dataset. */
  listeners(tx: Queryable, dataset: string): Promise<{ id: string; name: string; spec: PipelineSpec }[]>;
  /** Serialises the updates of one pipeline until the transaction ends (two instances, two datasets). */
  lock(tx: Queryable, pipelineId: string): Promise<void>;
  /** Records the update (the latest per dataset is kept). */
  record(tx: Queryable, pipelineId: string, update: SeenUpdate): Promise<void>;
  /** The updates seen since the last run. */
  seen(tx: Queryable, pipelineId: string): Promise<SeenUpdate[]>;
  /** Forgets them (the run they started is on its way). */
  clear(tx: Queryable, pipelineId: string): Promise<void>;
}
