import { DataSource } from 'typeorm';
import { controlPlaneOptions, loadConfig, MetricsService, Outbox, OutboxMessage, Retention } from '../src';
import { createTestDatabase, TestDatabase } from '../src/testing';

describe('transactional outbox (real PostgreSQL)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let outbox: Outbox;
  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'weir_outbox' });
    ds = new DataSource({ ...controlPlaneOptions(db.url, { entities: [] }), logging: false });
    await ds.initialize();
    await ds.query(`CREATE TABLE public.state (id int PRIMARY KEY, v text)`);
    await ds.query(`CREATE TABLE public.sink (id bigint PRIMARY KEY, v text)`);
  });
  beforeEach(async () => {
    // WEIR_ROLES=api: no timer, the test dispatches itself
    outbox = new Outbox(ds, loadConfig({ DATABASE_URL: db.url, WEIR_ROLES: 'api' }));
    await ds.query(`TRUNCATE platform.outbox, public.state, public.sink`);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('an event exists if and only if its transaction committed', async () => {
    const got: OutboxMessage<{ n: number }>[] = [];
    outbox.subscribe<{ n: number }>('t', async (ms) => void got.push(...ms));
    await ds.transaction(async (em) => {
      await em.query(`INSERT INTO public.state VALUES (1, 'a')`);
      await outbox.publish(em, 't', { n: 1 }, 'k1');
    });
    await expect(
      ds.transaction(async (em) => {
        await em.query(`INSERT INTO public.state VALUES (2, 'b')`);
        await outbox.publish(em, 't', { n: 2 });
        throw new Error('state change fails after the event was written');
      }),
    ).rejects.toThrow('state change fails');
    expect(await outbox.dispatchPending()).toBe(1);
    expect(got.map((m) => [m.payload.n, m.key, m.attempts])).toEqual([[1, 'k1', 1]]);
    expect(await outbox.dispatchPending()).toBe(0); // dispatched once
  });

  it('publishAlong: the change and its event in one statement; no event when the change touched nothing or failed', async () => {
    const got: OutboxMessage<{ n: number }>[] = [];
    outbox.subscribe<{ n: number }>('t', async (ms) => void got.push(...ms));
    // a multi-table change through `ctes`, the statement selecting from it
    const rows = await outbox.publishAlong<{ id: number }>(
      ds,
      `SELECT id FROM a`,
      [1, 'a'],
      't',
      { n: 1 },
      'k1',
      `a AS (INSERT INTO public.state VALUES ($1, $2) RETURNING id), b AS (INSERT INTO public.sink VALUES ($1, $2))`,
    );
    expect(rows).toEqual([{ id: 1 }]);
    expect(
      await outbox.publishAlong(ds, `UPDATE public.state SET v = 'x' WHERE id = $1 RETURNING id`, [99], 't', { n: 2 }),
    ).toEqual([]);
    await expect(
      outbox.publishAlong(ds, `INSERT INTO public.state VALUES ($1, $2) RETURNING id`, [1, 'dup'], 't', { n: 3 }),
    ).rejects.toThrow(/duplicate key/);
    expect(await outbox.dispatchPending()).toBe(1);
    expect(got.map((m) => [m.payload.n, m.key])).toEqual([[1, 'k1']]);
    expect((await ds.query(`SELECT id, v FROM public.state`)) as unknown[]).toEqual([{ id: 1, v: 'a' }]);
    expect((await ds.query(`SELECT count(*)::int AS n FROM public.sink`))[0].n).toBe(1);
  });

  it('hands batches in id order; database work in the handler commits with the dispatch mark, or not at all', async () => {
    let failOnce = true;
    outbox.subscribe<{ n: number }>(
      't',
      async (ms, tx) => {
        for (const m of ms) await tx.query(`INSERT INTO public.sink VALUES ($1, $2)`, [m.payload.n, m.id]);
        if (failOnce) {
          failOnce = false;
          throw new Error('receiver down');
        }
      },
      { batchSize: 2 },
    );
    await ds.transaction(async (em) => {
      for (let n = 1; n <= 3; n++) await outbox.publish(em, 't', { n });
    });
    expect(await outbox.dispatchPending()).toBe(0); // first batch failed: nothing kept
    expect((await ds.query(`SELECT count(*)::int AS n FROM public.sink`))[0].n).toBe(0);
    const [row] = await ds.query(
      `SELECT attempts, last_error, available_at > now() AS later FROM platform.outbox ORDER BY id LIMIT 1`,
    );
    expect(row).toEqual({ attempts: 1, last_error: 'receiver down', later: true });
    await ds.query(`UPDATE platform.outbox SET available_at = now()`); // skip the 1 s backoff
    expect(await outbox.dispatchPending()).toBe(3);
    expect((await ds.query(`SELECT id::int FROM public.sink ORDER BY id`)).map((r: { id: number }) => r.id)).toEqual([
      1, 2, 3,
    ]);
    expect(
      (await ds.query(`SELECT attempts FROM platform.outbox ORDER BY id`)).map((r: { attempts: number }) => r.attempts),
    ).toEqual([2, 2, 1]);
  });

  it('parks a batch after maxAttempts and drain() does not wait for parked rows', async () => {
    outbox.subscribe(
      't',
      async () => {
        throw new Error('always');
      },
      { maxAttempts: 1 },
    );
    await ds.transaction((em) => outbox.publish(em, 't', { n: 1 }));
    await outbox.dispatchPending();
    await ds.query(`UPDATE platform.outbox SET available_at = now()`);
    await outbox.drain(2000);
    const [row] = await ds.query(`SELECT attempts, dispatched_at, last_error FROM platform.outbox`);
    expect(row).toEqual({ attempts: 1, dispatched_at: null, last_error: 'always' });
  });

  it('retention deletes dispatched rows older than WEIR_OUTBOX_RETENTION_DAYS, in batches; pending and parked rows stay', async () => {
    const config = loadConfig({ DATABASE_URL: db.url, WEIR_ROLES: 'api', WEIR_OUTBOX_RETENTION_DAYS: '7' });
    const metrics = new MetricsService();
    const retention = new Retention(ds, config, metrics);
    retention.batchSize = 2;
    outbox = new Outbox(ds, config, retention);
    expect(retention.list()).toEqual([
      { name: 'platform.outbox', describe: 'dispatched outbox rows older than 7 days' },
    ]);
    // 5 old dispatched, 1 recent dispatched, 1 old pending, 1 old parked
    await ds.query(
      `INSERT INTO platform.outbox (topic, payload, dispatched_at) SELECT 't', '{}', now() - interval '8 days' FROM generate_series(1, 5)`,
    );
    await ds.query(
      `INSERT INTO platform.outbox (topic, payload, dispatched_at) VALUES ('t', '{"recent":true}', now() - interval '6 days')`,
    );
    await ds.query(
      `INSERT INTO platform.outbox (topic, payload, created_at) VALUES ('t', '{"pending":true}', now() - interval '30 days')`,
    );
    await ds.query(
      `INSERT INTO platform.outbox (topic, payload, attempts, last_error, created_at) VALUES ('t', '{"parked":true}', 20, 'boom', now() - interval '30 days')`,
    );
    expect(await retention.sweep()).toEqual({ 'platform.outbox': 5 });
    const left = (await ds.query(`SELECT payload FROM platform.outbox ORDER BY id`)).map(
      (r: { payload: unknown }) => r.payload,
    );
    expect(left).toEqual([{ recent: true }, { pending: true }, { parked: true }]);
    expect(await metrics.registry.getSingleMetricAsString('weir_retention_deleted_rows_total')).toContain(
      'weir_retention_deleted_rows_total{policy="platform.outbox"} 5',
    );
    expect(await retention.sweep()).toEqual({ 'platform.outbox': 0 });
    // 0 keeps everything: no policy
    const keep = new Retention(
      ds,
      loadConfig({ DATABASE_URL: db.url, WEIR_ROLES: 'api', WEIR_OUTBOX_RETENTION_DAYS: '0' }),
      new MetricsService(),
    );
    new Outbox(ds, loadConfig({ DATABASE_URL: db.url, WEIR_ROLES: 'api', WEIR_OUTBOX_RETENTION_DAYS: '0' }), keep);
    expect(keep.list()).toEqual([]);
    expect(() => loadConfig({ WEIR_OUTBOX_RETENTION_DAYS: '7d' })).toThrow(
      'WEIR_OUTBOX_RETENTION_DAYS must be a whole number of days',
    );
  });

  it('exposes what waits, what is parked and the oldest wait per topic as gauges, read at scrape time', async () => {
    const metrics = new MetricsService();
    outbox = new Outbox(ds, loadConfig({ DATABASE_URL: db.url, WEIR_ROLES: 'api' }), undefined, metrics);
    outbox.subscribe('t', async () => undefined, { maxAttempts: 3 });
    await ds.query(
      `INSERT INTO platform.outbox (topic, payload, created_at) VALUES ('t', '{}', now() - interval '90 seconds'), ('t', '{}', now()), ('u', '{}', now())`,
    );
    await ds.query(`INSERT INTO platform.outbox (topic, payload, attempts, last_error) VALUES ('t', '{}', 3, 'boom')`);
    await ds.query(`INSERT INTO platform.outbox (topic, payload, dispatched_at) VALUES ('t', '{}', now())`);
    const text = await metrics.registry.metrics();
    expect(text).toContain('weir_outbox_pending{topic="t"} 2');
    expect(text).toContain('weir_outbox_pending{topic="u"} 1');
    expect(text).toContain('weir_outbox_parked{topic="t"} 1');
    const age = Number(/weir_outbox_oldest_pending_seconds\{topic="t"\} ([\d.]+)/.exec(text)?.[1]);
    expect(age).toBeGreaterThanOrEqual(89);
    expect(age).toBeLessThan(600);
  });
});
