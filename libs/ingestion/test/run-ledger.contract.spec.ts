import { DataSource } from 'typeorm';
import { Client } from 'pg';
import { controlPlaneOptions } from '@weir/platform';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';
import type { Liveness, NewRun, RunLedger, RunSuccess } from '../src/application/ports/run-ledger.port';
import { InMemoryRunLedger, PgRunLedger } from '../src/infrastructure/run-ledger.repository';
import { INGESTION_ENTITIES } from '../src/ingestion.entities';

const ME = 'me-1';
const live = (over: Partial<Liveness> = {}): Liveness => ({
  instanceId: ME,
  previousInstances: [],
  graceMs: 60_000,
  ...over,
});
const success = (over: Partial<RunSuccess> = {}): RunSuccess => ({
  bytesRead: 120,
  rowsRead: 10,
  rowsLoaded: 7,
  rowsRejected: 2,
  rowsDeduplicated: 1,
  columnsDiscarded: null,
  watermarkBefore: null,
  watermarkAfter: '2026-12-01',
  quality: { passed: true },
  advanceSourceWatermark: false,
  ...over,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Harness {
  ledger: RunLedger;
  sourceIds: [string, string];
  /** The source's watermark as stored. */
  watermark(sourceId: string): Promise<string | null>;
  done(): Promise<void>;
}

/** One contract, every adapter (the Dagster TestRunStorage pattern). */
function runLedgerContract(name: string, make: () => Promise<Harness>) {
  describe(`RunLedger contract: ${name}`, () => {
    let h: Harness;
    let ledger: RunLedger;
    let src: string;
    const newRun = (over: Partial<NewRun> = {}): NewRun => ({
      sourceId: src,
      trigger: 'api',
      idempotencyKey: 'sha256:abc',
      input: { path: '/data/a.csv', checksum: 'abc' },
      createdBy: null,
      ...over,
    });
    const queue = (over: Partial<NewRun> = {}) => ledger.transaction((tx) => ledger.create(tx, newRun(over)));
    const claim = () => ledger.transaction((tx) => ledger.claimNext(tx, ME));

    beforeEach(async () => {
      h = await make();
      ledger = h.ledger;
      src = h.sourceIds[0];
    });
    afterEach(() => h.done());

    it('creates a queued run, finds it by id and by idempotency key (newest first)', async () => {
      const a = await queue();
      expect(a).toMatchObject({ status: 'queued', sourceId: src, trigger: 'api', rowsRead: 0, errorCode: null });
      expect(await ledger.find(a.id)).toMatchObject({ id: a.id, input: { path: '/data/a.csv' } });
      await sleep(5);
      const b = await queue();
      const found = await ledger.transaction((tx) => ledger.latestByKey(tx, src, 'sha256:abc'));
      expect(found?.id).toBe(b.id);
      expect(await ledger.transaction((tx) => ledger.latestByKey(tx, src, 'other'))).toBeNull();
      expect(await ledger.find('00000000-0000-4000-8000-00000000ffff')).toBeNull();
      expect(await ledger.find('not-a-uuid')).toBeNull();
    });

    it('lists newest first, filtered by source and status, limited; counts per source', async () => {
      const a = await queue();
      await sleep(5);
      const b = await queue({ idempotencyKey: 'k2' });
      await sleep(5);
      await queue({ sourceId: h.sourceIds[1] });
      expect((await ledger.list({ sourceId: src, limit: 10 })).map((r) => r.id)).toEqual([b.id, a.id]);
      expect((await ledger.list({ limit: 1 })).length).toBe(1);
      await claim();
      expect((await ledger.list({ status: 'running', limit: 10 })).map((r) => r.id)).toEqual([a.id]);
      expect(await ledger.countForSource(src)).toBe(2);
      expect(await ledger.countForSource(h.sourceIds[1])).toBe(1);
    });

    it('starts a run at once on an instance (a stream batch): running, never claimed by another', async () => {
      const r = await ledger.transaction((tx) => ledger.start(tx, newRun({ trigger: 'stream' }), ME));
      expect(r).toMatchObject({ status: 'running', claimedBy: ME, trigger: 'stream' });
      expect(r.startedAt).toBeInstanceOf(Date);
      expect(await ledger.transaction((tx) => ledger.claimNext(tx, 'other-2'))).toBeNull();
      expect(await ledger.transaction((tx) => ledger.succeed(tx, r.id, success()))).toBe(true);
    });

    it('claims the oldest queued run once, and an upload only on the instance holding it', async () => {
      const held = await queue({ input: { uploadId: '/up/1', heldBy: 'other-2' } });
      await sleep(5);
      const a = await queue({ idempotencyKey: 'k2' });
      const first = await claim();
      expect(first).toEqual({ id: a.id, sourceId: src });
      expect(await ledger.find(a.id)).toMatchObject({ status: 'running', claimedBy: ME });
      expect((await ledger.find(a.id))!.startedAt).toBeInstanceOf(Date);
      expect(await claim()).toBeNull();
      const other = await ledger.transaction((tx) => ledger.claimNext(tx, 'other-2'));
      expect(other?.id).toBe(held.id);
    });

    it('concurrent claims never take the same run', async () => {
      for (let i = 0; i < 4; i++) await queue({ idempotencyKey: `k${i}` });
      const got = await Promise.all([claim(), claim(), claim(), claim(), claim(), claim()]);
      const ids = got.filter((g) => g).map((g) => g!.id);
      expect(ids.length).toBe(4);
      expect(new Set(ids).size).toBe(4);
    });

    it('records progress, then success with its counts; a second verdict is refused', async () => {
      const a = await queue();
      await claim();
      await ledger.progress(a.id, { rowsRead: 5, rowsRejected: 1, bytesRead: 60 });
      expect(await ledger.find(a.id)).toMatchObject({ rowsRead: 5, rowsRejected: 1, bytesRead: 60 });
      expect(await ledger.transaction((tx) => ledger.succeed(tx, a.id, success()))).toBe(true);
      const r = (await ledger.find(a.id))!;
      expect(r).toMatchObject({
        status: 'succeeded',
        rowsRead: 10,
        rowsLoaded: 7,
        rowsRejected: 2,
        rowsDeduplicated: 1,
      });
      expect(r).toMatchObject({ bytesRead: 120, watermarkAfter: '2026-12-01', quality: { passed: true } });
      expect(r.finishedAt).toBeInstanceOf(Date);
      expect(await ledger.transaction((tx) => ledger.succeed(tx, a.id, success()))).toBe(false);
      expect(await ledger.transaction((tx) => ledger.fail(tx, a.id, failure()))).toBe(false);
      expect((await ledger.find(a.id))!.status).toBe('succeeded');
    });

    it('moves the source watermark with the success only when asked', async () => {
      const a = await queue();
      await claim();
      await ledger.transaction((tx) => ledger.succeed(tx, a.id, success({ watermarkAfter: 'w1' })));
      expect(await h.watermark(src)).toBeNull();
      const b = await queue({ idempotencyKey: 'k2' });
      await claim();
      await ledger.transaction((tx) =>
        ledger.succeed(tx, b.id, success({ watermarkAfter: 'w2', advanceSourceWatermark: true })),
      );
      expect(await h.watermark(src)).toBe('w2');
    });

    it('a transaction that throws leaves the ledger as it was', async () => {
      const a = await queue();
      await claim();
      await expect(
        ledger.transaction(async (tx) => {
          await ledger.succeed(tx, a.id, success());
          throw new Error('the publish failed');
        }),
      ).rejects.toThrow(/publish failed/);
      expect((await ledger.find(a.id))!.status).toBe('running');
    });

    it('fails a running run with its reason, keeping counts it does not know', async () => {
      const a = await queue();
      await claim();
      await ledger.progress(a.id, { rowsRead: 5, rowsRejected: 1, bytesRead: 60 });
      const f = failure({ rowsRead: null, rowsRejected: null, message: 'x'.repeat(5000) });
      expect(await ledger.transaction((tx) => ledger.fail(tx, a.id, f))).toBe(true);
      const r = (await ledger.find(a.id))!;
      expect(r).toMatchObject({ status: 'failed', errorCode: 'INGESTION.LOAD_FAILED', rowsRead: 5, rowsRejected: 1 });
      expect(r.errorMessage!.length).toBe(4000);
      const queued = await queue({ idempotencyKey: 'q' });
      expect(await ledger.transaction((tx) => ledger.fail(tx, queued.id, f))).toBe(false);
    });

    it('cancels a queued run at once, asks a running one to stop (its heartbeat says so), leaves an ended one', async () => {
      const parent = { job: 'pipeline.p', runId: '00000000-0000-4000-8000-000000000009' };
      const q1 = await queue({ idempotencyKey: 'c1', input: { parent } });
      expect(await ledger.transaction((tx) => ledger.cancelQueued(tx, q1.id, 'cancelled before it started'))).toEqual({
        id: q1.id,
        sourceId: src,
        parent,
      });
      expect(await ledger.find(q1.id)).toMatchObject({ status: 'failed', errorCode: 'INGESTION.CANCELLED' });
      expect(await ledger.transaction((tx) => ledger.cancelQueued(tx, q1.id, 'again'))).toBeNull();
      const r1 = await queue({ idempotencyKey: 'c2' });
      await claim();
      expect(await ledger.heartbeat(r1.id)).toBe(false);
      expect(await ledger.transaction((tx) => ledger.cancelQueued(tx, r1.id, 'x'))).toBeNull();
      expect(await ledger.requestCancel(r1.id)).toBe(true);
      expect(await ledger.heartbeat(r1.id)).toBe(true);
      expect((await ledger.find(r1.id))!.status).toBe('running');
      await ledger.transaction((tx) => ledger.succeed(tx, r1.id, success()));
      expect(await ledger.requestCancel(r1.id)).toBe(false);
    });

    it('fails as interrupted the runs with a stale heartbeat or a dead instance, not live ones', async () => {
      const a = await queue();
      await claim();
      const b = await queue({ idempotencyKey: 'k2' });
      await ledger.transaction((tx) => ledger.claimNext(tx, 'old-me'));
      // nothing stale yet, and this instance is alive
      expect(await ledger.transaction((tx) => ledger.failInterrupted(tx, 60_000, live(), 'gone'))).toEqual([]);
      // this instance's id before a restart is dead at once
      const hit = await ledger.transaction((tx) =>
        ledger.failInterrupted(tx, 60_000, live({ previousInstances: ['old-me'] }), 'gone'),
      );
      expect(hit).toEqual([{ id: b.id, sourceId: src }]);
      expect(await ledger.find(b.id)).toMatchObject({ status: 'failed', errorCode: 'INGESTION.INTERRUPTED' });
      // a stale heartbeat, whoever holds it
      await sleep(20);
      const stale = await ledger.transaction((tx) => ledger.failInterrupted(tx, 10, live(), 'stale'));
      expect(stale.map((r) => r.id)).toEqual([a.id]);
      expect(await ledger.find(a.id)).toMatchObject({ status: 'failed', errorMessage: 'stale' });
    });

    it('failIfDead fails a run held by a dead instance only', async () => {
      const a = await queue();
      await claim();
      expect(await ledger.transaction((tx) => ledger.failIfDead(tx, a.id, live()))).toBe(false);
      const b = await queue({ idempotencyKey: 'k2' });
      await ledger.transaction((tx) => ledger.claimNext(tx, 'ghost-9'));
      // not alive (no presence), but its heartbeat is within the grace
      expect(await ledger.transaction((tx) => ledger.failIfDead(tx, b.id, live()))).toBe(false);
      await sleep(20);
      expect(await ledger.transaction((tx) => ledger.failIfDead(tx, b.id, live({ graceMs: 10 })))).toBe(true);
      expect(await ledger.find(b.id)).toMatchObject({ status: 'failed', errorCode: 'INGESTION.INTERRUPTED' });
    });

    it('fails queued uploads whose instance is gone, and tells which upload files are still needed', async () => {
      const mine = await queue({ input: { uploadId: '/up/mine', heldBy: ME } });
      const lost = await queue({ idempotencyKey: 'k2', input: { uploadId: '/up/lost', heldBy: 'old-me' } });
      const hit = await ledger.transaction((tx) => ledger.failLostUploads(tx, live({ previousInstances: ['old-me'] })));
      expect(hit).toEqual([{ id: lost.id, sourceId: src }]);
      expect(await ledger.find(lost.id)).toMatchObject({ status: 'failed', errorCode: 'INGESTION.UPLOAD_LOST' });
      expect((await ledger.find(lost.id))!.errorMessage).toContain('old-me');
      expect((await ledger.find(mine.id))!.status).toBe('queued');
      const inUse = await ledger.uploadsInUse(['/up/mine', '/up/lost', '/up/none']);
      expect([...inUse.entries()].sort()).toEqual([
        ['/up/lost', false],
        ['/up/mine', true],
      ]);
    });
  });
}

const failure = (over: Partial<import('../src/application/ports/run-ledger.port').RunFailure> = {}) => ({
  code: 'INGESTION.LOAD_FAILED',
  message: 'boom',
  bytesRead: 10,
  rowsRead: 3,
  rowsRejected: 1,
  rowsDeduplicated: 0,
  quality: null,
  ...over,
});

runLedgerContract('in-memory', async () => {
  const ledger = new InMemoryRunLedger();
  const sourceIds: [string, string] = ['00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000a2'];
  return {
    ledger,
    sourceIds,
    watermark: async (id) => ledger.watermarks.get(id) ?? null,
    done: async () => undefined,
  };
});

describe('on PostgreSQL', () => {
  let db: TestDatabase;
  let ds: DataSource;
  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'weir_run_ledger' });
    ds = await new DataSource({
      ...controlPlaneOptions(db.url, { entities: INGESTION_ENTITIES }),
      logging: false,
    }).initialize();
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });
  runLedgerContract('PostgreSQL (ingestion.runs)', async () => {
    await ds.query('DELETE FROM ingestion.sources');
    const ids: string[] = [];
    for (const name of ['s1', 's2']) {
      const [{ id }] = await ds.query(
        `INSERT INTO ingestion.sources (name, dataset, format, location, strategy, drift, options, max_rejected_ratio)
         VALUES ($1, 'orders', 'csv', '{}', '{"kind":"append"}', 'freeze', '{}', 0.05) RETURNING id`,
        [name],
      );
      ids.push(id);
    }
    return {
      ledger: new PgRunLedger(ds),
      sourceIds: ids as [string, string],
      watermark: async (id) =>
        (await ds.query(`SELECT watermark FROM ingestion.sources WHERE id = $1`, [id]))[0].watermark,
      done: async () => undefined,
    };
  });

  it('a run claimed by an instance with a live presence connection is not taken as dead', async () => {
    await ds.query('DELETE FROM ingestion.sources');
    const [{ id: src }] = await ds.query(
      `INSERT INTO ingestion.sources (name, dataset, format, location, strategy, drift, options, max_rejected_ratio)
       VALUES ('s', 'orders', 'csv', '{}', '{"kind":"append"}', 'freeze', '{}', 0.05) RETURNING id`,
    );
    const ledger = new PgRunLedger(ds);
    const run = await ledger.transaction((tx) =>
      ledger.create(tx, { sourceId: src, trigger: 'api', idempotencyKey: 'k', input: {}, createdBy: null }),
    );
    await ledger.transaction((tx) => ledger.claimNext(tx, 'alive-7'));
    const presence = new Client({ connectionString: db.url, application_name: 'weir:alive-7:worker' });
    await presence.connect();
    try {
      await sleep(20);
      expect(await ledger.transaction((tx) => ledger.failIfDead(tx, run.id, live({ graceMs: 10 })))).toBe(false);
    } finally {
      await presence.end();
    }
    expect(await ledger.transaction((tx) => ledger.failIfDead(tx, run.id, live({ graceMs: 10 })))).toBe(true);
  });
});
