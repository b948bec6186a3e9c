import { Readable } from 'node:stream';
import { createTestDatabase, TestDatabase } from '../src/testing';
import { copyTextValue, Warehouse } from '../src/warehouse/warehouse';

describe('Warehouse (real PostgreSQL, real COPY)', () => {
  let db: TestDatabase;
  let wh: Warehouse;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    wh = new Warehouse(db.url);
    await wh.query('CREATE SCHEMA raw');
    await wh.query('CREATE TABLE raw.orders (id bigint PRIMARY KEY, note text, amount numeric(12,2))');
  });
  afterAll(async () => {
    await wh?.close();
    await db?.drop();
  });
  beforeEach(() => wh.query('TRUNCATE raw.orders'));

  it('streams text-format rows with escapes and nulls through COPY', async () => {
    const rows = [
      ['1', 'tab\there', '10.50'],
      ['2', 'line\nbreak and back\\slash', null],
      ['3', null, '0'],
      ['4', 'ünïcødé, "quotes"', '-3.25'],
    ];
    const text = rows.map((r) => r.map(copyTextValue).join('\t') + '\n').join('');
    const n = await wh.copyFrom('raw.orders', ['id', 'note', 'amount'], Readable.from([Buffer.from(text)]));
    expect(n).toBe(4);
    const got = await wh.query('SELECT id::text, note, amount::text FROM raw.orders ORDER BY id');
    expect(got).toEqual([
      { id: '1', note: 'tab\there', amount: '10.50' },
      { id: '2', note: 'line\nbreak and back\\slash', amount: null },
      { id: '3', note: null, amount: '0.00' },
      { id: '4', note: 'ünïcødé, "quotes"', amount: '-3.25' },
    ]);
  });

  it('loads many chunks with backpressure (100k rows)', async () => {
    async function* gen() {
      for (let chunk = 0; chunk < 100; chunk++) {
        let s = '';
        for (let i = 0; i < 1000; i++) s += `${chunk * 1000 + i}\tn${i}\t${i}.5\n`;
        yield Buffer.from(s);
      }
    }
    expect(await wh.copyFrom({ schema: 'raw', table: 'orders' }, ['id', 'note', 'amount'], gen())).toBe(100_000);
    expect(await wh.query('SELECT count(*)::int AS n, sum(id)::text AS s FROM raw.orders')).toEqual([
      { n: 100_000, s: String((99_999 * 100_000) / 2) },
    ]);
  });

  it('supports CSV with a header', async () => {
    const n = await wh.copyFrom('raw.orders', ['id', 'note'], Readable.from(['id,note\n7,"a, b"\n8,""\n']), {
      format: 'csv',
      header: true,
    });
    expect(n).toBe(2);
    expect(await wh.query('SELECT id::int, note FROM raw.orders ORDER BY id')).toEqual([
      { id: 7, note: 'a, b' },
      { id: 8, note: '' },
    ]);
  });

  it('wraps a failing COPY with the table and leaves nothing half-loaded', async () => {
    const bad = Readable.from(['1\tok\t1\n', '1\tdup\t2\n']);
    await expect(wh.copyFrom('raw.orders', ['id', 'note', 'amount'], bad)).rejects.toMatchObject({
      code: 'PLATFORM.COPY_FAILED',
      message: expect.stringContaining('raw.orders'),
    });
    expect(await wh.query('SELECT count(*)::int AS n FROM raw.orders')).toEqual([{ n: 0 }]);
  });

  it('refuses hostile identifiers before any SQL runs', async () => {
    await expect(
      wh.copyFrom('raw.orders', ['id"; drop table raw.orders; --'], Readable.from(['1\n'])),
    ).rejects.toMatchObject({ code: 'PLATFORM.INVALID_IDENTIFIER' });
    await expect(wh.copyFrom('x"; drop table y; --', ['id'], Readable.from(['1\n']))).rejects.toMatchObject({
      code: 'PLATFORM.INVALID_IDENTIFIER',
    });
    expect(await wh.query(`SELECT to_regclass('raw.orders') IS NOT NULL AS exists`)).toEqual([{ exists: true }]);
  });

  it('commits or rolls back a transaction as a whole', async () => {
    await expect(
      wh.transaction(async (c) => {
        await c.query(`INSERT INTO raw.orders (id) VALUES (100)`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await wh.transaction(async (c) => {
      await wh.copyFrom('raw.orders', ['id'], Readable.from(['101\n102\n']), { client: c });
    });
    expect(await wh.query('SELECT id::int FROM raw.orders ORDER BY id')).toEqual([{ id: 101 }, { id: 102 }]);
  });

  describe('statements on behalf of a request', () => {
    // one connection: every lease reuses it, so a setting left behind would show
    let bounded: Warehouse;
    let sessionDefault: string;
    beforeAll(async () => {
      bounded = new Warehouse(db.url, { max: 1, requestTimeoutMs: 200 });
      sessionDefault = (await bounded.query<{ statement_timeout: string }>('SHOW statement_timeout'))[0]
        .statement_timeout;
    });
    afterAll(() => bounded?.close());
    const current = () => bounded.query<{ statement_timeout: string }>('SHOW statement_timeout');

    it('bounds every statement by WEIR_REQUEST_STATEMENT_TIMEOUT_MS and answers PLATFORM.STATEMENT_TIMEOUT', async () => {
      expect(await bounded.forRequest(async (c) => (await c.query('SHOW statement_timeout')).rows)).toEqual([
        { statement_timeout: '200ms' },
      ]);
      const t0 = Date.now();
      const e = await bounded.requestQuery('SELECT pg_sleep(5)').catch((x: unknown) => x);
      expect(Date.now() - t0).toBeLessThan(4000);
      expect(e).toMatchObject({
        code: 'PLATFORM.STATEMENT_TIMEOUT',
        kind: 'unavailable',
        extra: { timeoutMs: 200, setting: 'WEIR_REQUEST_STATEMENT_TIMEOUT_MS' },
      });
      // statements in a transaction the work opens are bounded too
      const inTx = await bounded
        .forRequest(async (c) => {
          await c.query('BEGIN');
          await c.query('SELECT pg_sleep(5)');
        })
        .catch((x: unknown) => x);
      expect(inTx).toMatchObject({ code: 'PLATFORM.STATEMENT_TIMEOUT' });
      // the connection goes back without the bound (or is discarded): other work is not cut short
      expect(await current()).toEqual([{ statement_timeout: sessionDefault }]);
      expect(await bounded.query('SELECT pg_sleep(0.3), 1 AS ok')).toEqual([{ pg_sleep: '', ok: 1 }]);
    });

    it('never hands a transaction left open, aborted or not, to the next user of the connection', async () => {
      const leftOpen = await bounded
        .forRequest(async (c) => {
          await c.query('BEGIN');
          await c.query('INSERT INTO raw.orders (id) VALUES (999)');
          throw new Error('the work failed before it committed');
        })
        .catch((x: unknown) => x);
      expect(leftOpen).toMatchObject({ message: 'the work failed before it committed' });
      // the same (only) connection: no transaction open, nothing written, the bound gone
      expect(await bounded.query('SELECT txid_current_if_assigned() IS NULL AS fresh')).toEqual([{ fresh: true }]);
      expect(await wh.query('SELECT count(*)::int AS n FROM raw.orders WHERE id = 999')).toEqual([{ n: 0 }]);
      expect(await current()).toEqual([{ statement_timeout: sessionDefault }]);
    });

    it('keeps a tighter bound of the caller; other errors pass through unchanged', async () => {
      expect(
        await bounded.forRequest(async (c) => (await c.query('SHOW statement_timeout')).rows, { timeoutMs: 50 }),
      ).toEqual([{ statement_timeout: '50ms' }]);
      expect(
        await bounded.forRequest(async (c) => (await c.query('SHOW statement_timeout')).rows, { timeoutMs: 5000 }),
      ).toEqual([{ statement_timeout: '200ms' }]);
      await expect(bounded.requestQuery('SELECT * FROM raw.nope')).rejects.toMatchObject({ code: '42P01' });
      expect(await current()).toEqual([{ statement_timeout: sessionDefault }]);
    });

    it('a lease without a bound leaves the session as it is', async () => {
      const lease = await bounded.lease();
      expect((await lease.client.query('SHOW statement_timeout')).rows).toEqual([
        { statement_timeout: sessionDefault },
      ]);
      await lease.release();
      await lease.release(); // once only
      expect(await current()).toEqual([{ statement_timeout: sessionDefault }]);
    });
  });
});
