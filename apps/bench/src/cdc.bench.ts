/* eslint-disable no-console -- a command-line report */
/**
 * `npm run bench:cdc -- [--changes 200000] [--seconds 10] [--rate 20]`: a postgres_cdc source on an
 * embedded PostgreSQL started with wal_level=logical, consumed by a worker in this process.
 * Throughput: `changes` mixed changes (inserts, updates, deletes; transactions of 1,000) are written
 * while the source is paused, then it is resumed; the rate runs from its first batch applied to the catch-up.
 * Latency: `rate` transactions a second (50 changes each) for `seconds`; each transaction's
 * changes carry its number, and the target is polled for it: commit on the source → visible in
 * the target, p50/p95. Slot lag: its median during the latency phase.
 * Last line: {"bench":"cdc","changes":…,"changes_per_s":…,"latency_p50_ms":…,"latency_p95_ms":…,"slot_lag_bytes":…}.
 * Aims: ≥ 20,000 changes/s applied; p95 < 1 s.
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client } from 'pg';
import { freePort, loadConfig, PlatformModule, runMigrations, startEmbeddedPostgres } from '@weir/platform';
import { CATALOG, CatalogModule } from '@weir/catalog';
import { QualityModule } from '@weir/quality';
import { CdcStreamsService, IngestionModule, SourcesService } from '@weir/ingestion';
import { arg, benchDatabase, median } from './support';

const CHANGES = Number(arg('changes', '200000'));
const SECONDS = Number(arg('seconds', '10'));
const RATE = Number(arg('rate', '20'));
const PASSWORD_ENV = 'WEIR_BENCH_CDC_PASSWORD';

const lsn = (s: string) => {
  const [h, l] = s.split('/');
  return BigInt(parseInt(h, 16)) * 2n ** 32n + BigInt(parseInt(l, 16));
};
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const srcDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-cdc-bench-src-'));
  fs.chmodSync(srcDir, 0o755);
  const source = await startEmbeddedPostgres({
    dataDir: path.join(srcDir, 'pg'),
    port: await freePort(),
    database: 'shop',
    ephemeral: true,
    postgresFlags: ['-c', 'wal_level=logical', '-c', 'max_replication_slots=10', '-c', 'max_wal_senders=10'],
  });
  const db = await benchDatabase('weir_cdcbench');
  const src = new Client({ connectionString: source.url });
  await src.connect();
  let app: Awaited<ReturnType<typeof NestFactory.createApplicationContext>> | undefined;
  try {
    await runMigrations(db.url);
    const u = new URL(source.url);
    process.env[PASSWORD_ENV] = decodeURIComponent(u.password);
    await src.query(
      `CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL, amount numeric(12,2), note text, seq bigint NOT NULL DEFAULT 0)`,
    );
    await src.query(
      `INSERT INTO orders SELECT g, g % 5000, 'new', (g % 10000) / 100.0, 'initial', 0 FROM generate_series(1, 10000) g`,
    );
    const config = loadConfig({
      DATABASE_URL: db.url,
      WEIR_LOG_LEVEL: 'warn',
      WEIR_DATA_DIR: db.work,
      WEIR_ROLES: 'worker',
      WEIR_CDC_POLL_MS: '100',
      WEIR_CDC_CHECK_MS: '1000',
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
        name: 'orders',
        contract: {
          columns: [
            { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
            { name: 'customer_id', type: 'integer', nullable: false },
            { name: 'status', type: 'text', nullable: false },
            { name: 'amount', type: 'numeric(12,2)', nullable: true },
            { name: 'note', type: 'text', nullable: true },
            { name: 'seq', type: 'bigint', nullable: false },
          ],
        },
      },
      'bench',
    );
    await app.get(SourcesService).create({
      name: 'orders_cdc',
      dataset: 'orders',
      strategy: { kind: 'merge' },
      connector: {
        kind: 'postgres_cdc',
        connection: {
          host: '127.0.0.1',
          port: Number(u.port),
          database: 'shop',
          user: decodeURIComponent(u.username),
          password: { env: PASSWORD_ENV },
        },
        table: 'public.orders',
      },
    });
    const cdc = app.get(CdcStreamsService);
    const until = async (what: string, fn: () => Promise<boolean>, ms = 600_000, every = 20) => {
      const t0 = Date.now();
      while (Date.now() - t0 < ms) {
        if (await fn()) return;
        await sleep(every);
      }
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await cdc.status('orders_cdc'))}`);
    };
    await until('the snapshot', async () => (await cdc.status('orders_cdc')).state === 'streaming');

    // throughput: changes written while paused, then applied from the slot as fast as the consumer goes
    await cdc.pause('orders_cdc');
    console.log(`bench cdc: writing ${CHANGES} changes while the source is paused…`);
    let next = 10_001;
    let written = 0;
    let k = 0;
    while (written < CHANGES) {
      const n = Math.min(1000, CHANGES - written);
      const kind = k++ % 20;
      if (kind < 10) {
        await src.query(
          `INSERT INTO orders SELECT g, g % 5000, 'new', (g % 10000) / 100.0, 'bench', 0 FROM generate_series($1::bigint, $2::bigint) g`,
          [next, next + n - 1],
        );
        next += n;
      } else if (kind < 17) {
        const lo = 1 + Math.floor(Math.random() * Math.max(1, next - n - 1));
        const r = await src.query(
          `UPDATE orders SET status = 'paid', amount = amount + 1 WHERE id IN (SELECT id FROM orders WHERE id >= $1 ORDER BY id LIMIT $2)`,
          [lo, n],
        );
        written += (r.rowCount ?? 0) - n;
      } else {
        const lo = 1 + Math.floor(Math.random() * Math.max(1, next - n - 1));
        const r = await src.query(
          `DELETE FROM orders WHERE id IN (SELECT id FROM orders WHERE id >= $1 ORDER BY id LIMIT $2)`,
          [lo, n],
        );
        written += (r.rowCount ?? 0) - n;
      }
      written += n;
    }
    const end = (await src.query(`SELECT pg_current_wal_lsn()::text AS l`)).rows[0].l as string;
    const before = (await cdc.status('orders_cdc')).changesRead;
    const t0 = performance.now();
    await cdc.resume('orders_cdc');
    // the rate is taken from the first batch applied (the consumer's start — lease, connections,
    // START_REPLICATION — is reported apart) to the catch-up
    let first: { at: number; read: number } | undefined;
    await until('the stream to catch up', async () => {
      const s = await cdc.status('orders_cdc');
      if (!first && s.changesRead > before) first = { at: performance.now(), read: s.changesRead - before };
      return s.changesRead - before >= written && !!s.confirmedLsn && lsn(s.confirmedLsn) >= lsn(end) - 1000n;
    });
    const t1 = performance.now();
    const perSec = Math.round((written - first!.read) / Math.max(0.001, (t1 - first!.at) / 1000));
    console.log(
      `bench cdc: ${written} changes applied ${((t1 - t0) / 1000).toFixed(2)} s after resume (consumer start ${((first!.at - t0) / 1000).toFixed(2)} s), ${perSec} changes/s`,
    );

    // latency: steady transactions, each visible in the target when its number is
    const committed = new Map<number, number>();
    const latencies: number[] = [];
    const lags: number[] = [];
    const target = new Client({ connectionString: db.url });
    await target.connect();
    let seen = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const m = Number((await target.query(`SELECT max(seq) AS m FROM raw.orders`)).rows[0].m ?? 0);
        const now = performance.now();
        for (let i = seen + 1; i <= m; i++) {
          const at = committed.get(i);
          if (at !== undefined) latencies.push(now - at);
        }
        if (m > seen) seen = m;
        await sleep(5);
      }
    })();
    const lagSampler = setInterval(
      () => void cdc.status('orders_cdc').then((s) => s.lagBytes !== null && lags.push(s.lagBytes)),
      500,
    );
    const txns = Math.max(1, Math.round(SECONDS * RATE));
    const startAt = performance.now();
    for (let i = 1; i <= txns; i++) {
      const wait = startAt + (i * 1000) / RATE - performance.now();
      if (wait > 0) await sleep(wait);
      await src.query('BEGIN');
      await src.query(
        `INSERT INTO orders SELECT g, g % 5000, 'new', 1, 'latency', $3 FROM generate_series($1::bigint, $2::bigint) g`,
        [next, next + 24, i],
      );
      next += 25;
      await src.query(
        `UPDATE orders SET seq = $1, note = 'touched' WHERE id IN (SELECT id FROM orders ORDER BY random() LIMIT 25)`,
        [i],
      );
      await src.query('COMMIT');
      committed.set(i, performance.now());
    }
    await until('the last transaction to be visible', async () => seen >= txns, 60_000);
    polling = false;
    await poller;
    clearInterval(lagSampler);
    await target.end();
    const p50 = Math.round(pct(latencies, 0.5));
    const p95 = Math.round(pct(latencies, 0.95));
    const lag = lags.length ? Math.round(median(lags)) : null;
    console.log(
      `bench cdc: ${txns} transactions at ${RATE}/s: commit → visible p50 ${p50} ms, p95 ${p95} ms; slot lag median ${lag} bytes`,
    );
    console.log(
      JSON.stringify({
        bench: 'cdc',
        changes: written,
        changes_per_s: perSec,
        latency_p50_ms: p50,
        latency_p95_ms: p95,
        slot_lag_bytes: lag,
      }),
    );
  } finally {
    await app?.close().catch(() => undefined);
    await src.end().catch(() => undefined);
    await db.close();
    await source.stop();
    fs.rmSync(srcDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
