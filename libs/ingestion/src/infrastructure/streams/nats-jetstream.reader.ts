import { processEnvironment } from '@weir/platform';
import { Injectable } from '@nestjs/common';
import {
  AckPolicy,
  connect,
  ConnectionOptions,
  ConsumerMessages,
  DeliverPolicy,
  JsMsg,
  NatsConnection,
  nanos,
} from 'nats';
import { resolveSecret, StreamConnector, streamDurable } from '../../domain/connector';
import type {
  StreamConsumers,
  StreamLag,
  StreamMessage,
  StreamSubscription,
} from '../../application/ports/stream-consumer.port';
import { SourceUnreachableError } from '../../ingestion.errors';

/** Connection options from the connector (secrets read from the environment, never shown). */
function options(c: StreamConnector, env: Readonly<Record<string, string | undefined>>): ConnectionOptions {
  const o: ConnectionOptions = {
    servers: c.url ? resolveSecret(c.url, (n) => env[n])! : (c.servers ?? ['nats://127.0.0.1:4222']),
    name: 'weir-stream',
    timeout: 5000,
    maxReconnectAttempts: -1,
  };
  if (c.token) o.token = resolveSecret(c.token, (n) => env[n]);
  if (c.user) {
    o.user = c.user;
    o.pass = resolveSecret(c.password, (n) => env[n]);
  }
  return o;
}

async function connectTo(
  c: StreamConnector,
  env: Readonly<Record<string, string | undefined>>,
): Promise<NatsConnection> {
  try {
    return await connect(options(c, env));
  } catch (e) {
    throw new SourceUnreachableError(
      `Cannot connect to NATS ${c.url ? `(${c.url.env})` : (c.servers ?? ['nats://127.0.0.1:4222']).join(', ')}: ${(e as Error).message}`,
    );
  }
}

const messageOf = (m: JsMsg): StreamMessage & { msg: JsMsg } => ({
  subject: m.subject,
  sequence: m.seq,
  data: m.data,
  storedAt: Math.floor(m.info.timestampNanos / 1e6),
  msg: m,
});

/**
 * STREAM_CONSUMERS on NATS JetStream: a durable pull consumer (AckPolicy.All: a batch's last
 * message acknowledges it; at most four batches unacknowledged, redelivery after ackWaitMs), created on first use on the stream the producer
 * owns. Messages are pulled continuously into a local buffer bounded by max_ack_pending.
 */
@Injectable()
export class NatsJetStreamReader implements StreamConsumers {
  env: Readonly<Record<string, string | undefined>> = processEnvironment();

  async open(name: string, c: StreamConnector, committed: number | null): Promise<StreamSubscription> {
    const nc = await connectTo(c, this.env);
    try {
      const durable = streamDurable(name, c);
      const batch = c.batchMessages ?? 5000;
      const jsm = await nc.jetstreamManager();
      const config = {
        ack_wait: nanos(c.ackWaitMs ?? 60_000),
        max_ack_pending: Math.max(1000, batch * 4),
        max_batch: Math.max(1000, batch),
      };
      const existing = await jsm.consumers.info(c.stream, durable).catch((e: Error) => {
        if (/consumer not found/i.test(e.message)) return null;
        throw e;
      });
      // the durable restarts right after the last committed sequence: a batch a dead holder left
      // unacknowledged comes again in stream order (a later message never overtakes it), and one
      // committed but not acknowledged does not come again
      const start =
        committed !== null
          ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: committed + 1 }
          : { deliver_policy: c.deliver === 'new' ? DeliverPolicy.New : DeliverPolicy.All };
      const positioned =
        existing &&
        committed !== null &&
        existing.num_ack_pending === 0 &&
        existing.config.ack_policy === AckPolicy.All &&
        existing.delivered.stream_seq === committed &&
        existing.config.max_ack_pending === config.max_ack_pending &&
        existing.config.ack_wait === config.ack_wait &&
        (existing.config.filter_subject ?? undefined) === c.subject;
      if (!positioned) {
        const recreate =
          committed !== null ||
          existing?.config.filter_subject !== c.subject ||
          existing?.config.ack_policy !== AckPolicy.All;
        if (existing && recreate) await jsm.consumers.delete(c.stream, durable);
        if (!existing || recreate)
          await jsm.consumers.add(c.stream, {
            durable_name: durable,
            // one consumer per source (leased), batches committed in order: acking a batch's last
            // message acknowledges the batch
            ack_policy: AckPolicy.All,
            ...start,
            ...(c.subject ? { filter_subject: c.subject } : {}),
            ...config,
          });
        else await jsm.consumers.update(c.stream, durable, config);
      }
      const consumer = await nc.jetstream().consumers.get(c.stream, durable);
      const messages: ConsumerMessages = await consumer.consume({ max_messages: Math.min(batch, 10_000) });
      return new NatsSubscription(nc, messages, () => consumer.info(true));
    } catch (e) {
      await nc.close().catch(() => undefined);
      if (e instanceof SourceUnreachableError) throw e;
      throw new SourceUnreachableError(`NATS stream ${c.stream}: ${(e as Error).message}`);
    }
  }

  async lag(name: string, c: StreamConnector): Promise<StreamLag | null> {
    const nc = await connectTo(c, this.env);
    try {
      const jsm = await nc.jetstreamManager();
      const info = await jsm.consumers.info(c.stream, streamDurable(name, c)).catch(() => null);
      return info
        ? { pending: info.num_pending, ackPending: info.num_ack_pending, ackedSequence: info.ack_floor.stream_seq }
        : null;
    } finally {
      await nc.close().catch(() => undefined);
    }
  }
}

class NatsSubscription implements StreamSubscription {
  private readonly buffer: (StreamMessage & { msg: JsMsg })[] = [];
  private firstAt = 0;
  private wake?: () => void;
  private ended = false;
  private failure?: Error;

  constructor(
    private readonly nc: NatsConnection,
    private readonly messages: ConsumerMessages,
    private readonly info: () => Promise<{
      num_pending: number;
      num_ack_pending: number;
      ack_floor: { stream_seq: number };
    }>,
  ) {
    void (async () => {
      try {
        for await (const m of messages) {
          if (!this.buffer.length) this.firstAt = Date.now();
          this.buffer.push(messageOf(m));
          this.wake?.();
        }
      } catch (e) {
        this.failure = e as Error;
      } finally {
        this.ended = true;
        this.wake?.();
      }
    })();
  }

  async next(max: number, maxMs: number, idleMs: number): Promise<StreamMessage[]> {
    const t0 = Date.now();
    for (;;) {
      if (this.failure) throw new SourceUnreachableError(`NATS: ${this.failure.message}`);
      const n = this.buffer.length;
      if (n >= max || (n > 0 && Date.now() - this.firstAt >= maxMs) || (n > 0 && this.ended)) return this.take(max);
      if (this.ended) throw new SourceUnreachableError('NATS: the subscription ended');
      if (n === 0 && Date.now() - t0 >= idleMs) return [];
      const wait = n > 0 ? Math.max(1, maxMs - (Date.now() - this.firstAt)) : Math.max(1, idleMs - (Date.now() - t0));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.wake = () => {
          // wake only when the batch may be complete (not on every message)
          if (this.buffer.length >= max || this.ended) {
            clearTimeout(timer);
            resolve();
          } else if (this.buffer.length === 1 && n === 0) {
            clearTimeout(timer);
            resolve();
          }
        };
      });
      this.wake = undefined;
    }
  }

  private take(max: number): StreamMessage[] {
    const batch = this.buffer.splice(0, max);
    if (this.buffer.length) this.firstAt = Date.now();
    return batch;
  }

  async ack(batch: StreamMessage[]): Promise<void> {
    // AckPolicy.All: the last message acknowledges every one before it (the batch, and any earlier)
    let last = batch[0] as StreamMessage & { msg: JsMsg };
    for (const m of batch) if (m.sequence > last.sequence) last = m as StreamMessage & { msg: JsMsg };
    last.msg.ack();
    await this.nc.flush();
  }

  async nak(batch: StreamMessage[], delayMs: number): Promise<void> {
    for (const m of batch) (m as StreamMessage & { msg: JsMsg }).msg.nak(delayMs);
    await this.nc.flush().catch(() => undefined);
  }

  async lag(): Promise<StreamLag> {
    const i = await this.info();
    return { pending: i.num_pending, ackPending: i.num_ack_pending, ackedSequence: i.ack_floor.stream_seq };
  }

  async close(): Promise<void> {
    this.messages.stop();
    await this.nc.drain().catch(() => this.nc.close());
  }
}
