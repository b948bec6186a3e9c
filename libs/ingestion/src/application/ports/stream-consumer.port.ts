import type { StreamConnector } from '../../domain/connector';

/** Nest token of {@link StreamConsumers}: the stream adapter (NATS JetStream today; Kafka would be a second one). */
export const STREAM_CONSUMERS = Symbol('STREAM_CONSUMERS');

/** One message of a stream, as delivered (again, after a crash: delivery is at least once). */
export interface StreamMessage {
  /** Where it was published (NATS subject; Kafka: topic/partition). */
  subject: string;
  /** Its position in the stream (JetStream stream sequence; Kafka: the partition's offset). */
  sequence: number;
  data: Uint8Array;
  /** When the broker stored it (ms since the epoch). */
  storedAt: number;
}

/** How far the consumer is behind. */
export interface StreamLag {
  /** Messages not yet delivered to the consumer. */
  pending: number;
  /** Delivered, not yet acknowledged (the batch being loaded). */
  ackPending: number;
  /** The last sequence acknowledged (everything before it too). */
  ackedSequence: number;
}

/**
 * A durable subscription of one source: micro-batches out, acknowledgements in. A batch not
 * acknowledged (the process died, the load failed) is delivered again; `nak` asks for it now.
 */
export interface StreamSubscription {
  /**
   * The next micro-batch: up to `max` messages, closed `maxMs` after its first message arrived.
   * Empty when nothing came within `idleMs` (the caller checks its lease and lag, then asks again).
   */
  next(max: number, maxMs: number, idleMs: number): Promise<StreamMessage[]>;
  /** After the batch is committed: the broker forgets it. */
  ack(batch: StreamMessage[]): Promise<void>;
  /** The batch could not be committed: deliver it again (after `delayMs`). */
  nak(batch: StreamMessage[], delayMs: number): Promise<void>;
  lag(): Promise<StreamLag>;
  close(): Promise<void>;
}

/** The stream adapter port. */
export interface StreamConsumers {
  /**
   * Subscribes the durable consumer of the source `name`, positioned just after `committed` (the
   * last sequence committed into the dataset; null: from where the connector says). The caller
   * holds the source's lease, so whatever a dead holder left unacknowledged is delivered again in
   * stream order, and nothing committed is delivered again.
   */
  open(name: string, c: StreamConnector, committed: number | null): Promise<StreamSubscription>;
  /** The consumer's lag without subscribing (the status endpoint, any instance); null when there is no consumer yet. */
  lag(name: string, c: StreamConnector): Promise<StreamLag | null>;
}
