/* eslint-disable no-console -- a command-line report */
/**
 * `npm run bench:stream -- --messages 1000000 [--keys 200000] [--batch 5000] [--batch-ms 500] [--rate 0]`:
 * small JSON messages published to a JetStream stream of the NATS server at 127.0.0.1:4222
 * (or --nats URL) while a `nats_jetstream` source consumes them into a merge dataset (one worker in
 * this process). `messages_per_s`: messages over the time from the first publish to the last
 * commit; latency: from the moment JetStream stored each message to the commit of its batch
 * (queueing included: with --rate 0 the producer publishes as fast as it can; --rate N paces it). The target is
 * checked: one row per key, each with its key's last message. Skips with a message when NATS does
 * not answer. Last line: {"bench":"stream","messages":…,"messages_per_s":…,"latency_p50_ms":…,"latency_p95_ms":…}.
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { connect } from 'nats';
import { loadConfig, PlatformModule, runMigrations } from '@weir/platform';
import { CatalogModule, CATALOG } from '@weir/catalog';
import { QualityModule } from '@weir/quality';
import { IngestionModule, SourcesService, StreamConsumersService } from '@weir/ingestion';
import { arg, benchDatabase } from './support';

const MESSAGES = Number(arg('messages', '1000000'));
const KEYS = Number(arg('keys', String(Math.min(MESSAGES, 200_000))));
const BATCH = Number(arg('batch', '5000'));
const BATCH_MS = Number(arg('batch-ms', '500'));
const RATE = Number(arg('rate', '0'));
const NATS = arg('nats', 'nats://127.0.0.1:4222');

const answers = (url: string) =>
  new Promise<boolean>((resolve) => {
    const u = new URL(url);
    const s = net.connect(Number(u.port || 4222), u.hostname);
    s.setTimeout(3000);
    s.on('connect', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
    s.on('timeout', () => (s.destroy(), resolve(false)));
  });

/** The producer: `node -e PRODUCER <nats> <subject> <messages> <keys> <rate>`. */
const PRODUCER = `
const { connect, StringCodec } = require('nats');
const [url, subject, M, K, R] = process.argv.slice(1);
const messages = Number(M), keys = Number(K), rate = Number(R);
(async () => {
  const nc = await connect({ servers: url });
  const sc = StringCodec();
  const kinds = ['view', 'click', 'buy', 'refund'];
  const t0 = Date.now();
  for (let i = 0; i < messages; i += 10000) {
    const n = Math.min(10000, messages - i);
    for (let j = 0; j < n; j++) {
      const k = i + j;
      nc.publish(subject + '.' + kinds[k % 4], sc.encode('{"id":' + ((k % keys) + 1) + ',"kind":"' + kinds[k % 4] + '","amount":"' + (k % 10000) / 100 + '","seq":' + (k + 1) + '}'));
    }
    await nc.flush();
    if (rate > 0) {
      const due = t0 + ((i + n) / rate) * 1000;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    }
  }
  await nc.close();
})().catch((e) => { console.error(e); process.exit(1); });
`;

const pct = (xs: Float64Array, p: number) => xs[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];

async function main(): Promise<void> {
  if (!(await answers(NATS))) {
    console.log(`bench stream skipped: no NATS server answers at ${NATS} (JetStream on)`);
    return;
  }
  const db = await benchDatabase('weir_sbench');
  const nc = await connect({ servers: NATS });
  const jsm = await nc.jetstreamManager();
  const stream = `WEIR_BENCH_${process.pid}`;
  const subject = `weirbench.${process.pid}`;
  let app: Awaited<ReturnType<typeof NestFactory.createApplicationContext>> | undefined;
  try {
    await runMigrations(db.url);
    await jsm.streams.add({ name: stream, subjects: [`${subject}.>`] });
    const config = loadConfig({
      DATABASE_URL: db.url,
      WEIR_LOG_LEVEL: 'warn',
      WEIR_DATA_DIR: db.work,
      WEIR_ROLES: 'worker',
      WEIR_STREAM_POLL_MS: '200',
    });
    @Module({
      imports: [
        PlatformModule.forRoot({ config, databaseUrl: db.url, warehouseUrl: db.url }),
        CatalogModule,
        QualityModule,
        IngestionModule,
      ],
    })
    class BenchModule {}
    app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error', 'warn'] });
    await app.init();
    await (app.get(CATALOG) as unknown as { create: (i: unknown, by: string) => Promise<unknown> }).create(
      {
        name: 'events',
        contract: {
          columns: [
            { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
            { name: 'kind', type: 'text', nullable: true },
            { name: 'amount', type: 'numeric(12,2)', nullable: true },
            { name: 'seq', type: 'bigint', nullable: false },
          ],
        },
      },
      'bench',
    );
    const consumers = app.get(StreamConsumersService);
    // by stream sequence (the stream is ours: 1..MESSAGES)
    const committedAt = new Float64Array(MESSAGES + 1);
    const storedAt = new Float64Array(MESSAGES + 1);
    let committed = 0;
    let lastCommit = 0;
    let batches = 0;
    consumers.onBatch = (b) => {
      for (const m of b.messages)
        if (!committedAt[m.sequence]) {
          committedAt[m.sequence] = b.committedAt;
          storedAt[m.sequence] = m.storedAt;
          committed++;
        }
      lastCommit = b.committedAt;
      if (process.env['WEIR_BENCH_VERBOSE'])
        console.log(`  batch ${b.messages.length}: ${JSON.stringify(b.result.phases)} at ${b.committedAt}`);
      batches++;
    };
    await app.get(SourcesService).create({
      name: 'events_stream',
      dataset: 'events',
      connector: {
        kind: 'nats_jetstream',
        servers: [NATS],
        stream,
        subject: `${subject}.>`,
        batchMessages: BATCH,
        batchMs: BATCH_MS,
      },
      strategy: { kind: 'merge' },
    } as never);
    await consumers.claim();

    console.log(
      `bench stream: ${MESSAGES} messages (${KEYS} keys) to ${stream}, batches of ${BATCH} or ${BATCH_MS} ms…`,
    );
    // the producer is another process (as it would be): core publishes, which the stream stores
    // (a flush every 10,000 keeps it within the server's pace); latency starts when JetStream
    // stored the message
    const t0 = Date.now();
    const producer = spawn(
      process.execPath,
      ['-e', PRODUCER, NATS, subject, String(MESSAGES), String(KEYS), String(RATE)],
      {
        cwd: path.resolve(__dirname, '../../..'),
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    const code = await new Promise((r) => producer.on('exit', r));
    if (code !== 0) throw new Error(`the producer failed (exit ${code})`);
    const published = Date.now();
    console.log(
      `  published in ${((published - t0) / 1000).toFixed(1)} s (${Math.round(MESSAGES / ((published - t0) / 1000))} messages/s)`,
    );
    const stored = async () => (await jsm.streams.info(stream)).state.messages;
    if ((await stored()) !== MESSAGES) {
      await new Promise((r) => setTimeout(r, 1000));
      if ((await stored()) !== MESSAGES) throw new Error(`the stream holds ${await stored()} of ${MESSAGES} messages`);
    }
    while (committed < MESSAGES) {
      await new Promise((r) => setTimeout(r, 100));
      if (Date.now() - published > 600_000)
        throw new Error(`only ${committed} of ${MESSAGES} committed after 10 minutes`);
    }
    const secs = (lastCommit - t0) / 1000;
    const lat = new Float64Array(MESSAGES);
    for (let s = 1; s <= MESSAGES; s++) lat[s - 1] = Math.max(0, committedAt[s] - storedAt[s]);
    lat.sort();
    // the target: one row per key, each with its key's last message
    const check = (
      await db.client.query(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE seq <> $1::bigint - ((($1::bigint - id) % $2::bigint) + $2::bigint) % $2::bigint)::int AS wrong FROM raw.events`,
        [MESSAGES, KEYS],
      )
    ).rows[0];
    if (check.n !== KEYS || check.wrong !== 0)
      throw new Error(`target check failed: ${JSON.stringify(check)} (want ${KEYS} rows, 0 wrong)`);
    const runs = (
      await db.client.query(
        `SELECT count(*)::int AS n, sum(rows_read)::bigint AS r, bool_and(rows_read = rows_loaded + rows_rejected + rows_deduplicated) AS ok FROM ingestion.runs WHERE status = 'succeeded'`,
      )
    ).rows[0];
    if (!runs.ok) throw new Error('a batch broke the accounting invariant');
    console.log(
      `  ${batches} batches (${runs.n} runs, ${runs.r} messages read), target: ${check.n} rows, each its key's last message`,
    );
    console.log(
      `  consumed in ${secs.toFixed(1)} s from the first publish: ${Math.round(MESSAGES / secs)} messages/s; latency p50 ${pct(lat, 50)} ms, p95 ${pct(lat, 95)} ms`,
    );
    console.log(
      JSON.stringify({
        bench: 'stream',
        messages: MESSAGES,
        keys: KEYS,
        batch: BATCH,
        messages_per_s: Math.round(MESSAGES / secs),
        latency_p50_ms: pct(lat, 50),
        latency_p95_ms: pct(lat, 95),
      }),
    );
  } finally {
    await app?.close().catch(() => undefined);
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
    await db.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
