import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Warehouse } from '@weir/platform';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';
import type { DatasetContract } from '@weir/catalog';
import type { QualityGate } from '@weir/quality';
import { LoadEngine, LoadFailedError, LoadJob, LoadResult } from '../src/infrastructure/engine/load.engine';
import type { ReaderBatch } from '../src/infrastructure/readers/record.types';
import type { StrategySpec } from '../src/domain/source';

/**
 * The load engine on a real PostgreSQL, without the HTTP app: what each strategy publishes, the row
 * accounting, the dead letters, the gate and the all-or-nothing publish. (The e2e specs in
 * apps/api test the same through the routes.)
 */
describe('LoadEngine on PostgreSQL', () => {
  let db: TestDatabase;
  let warehouse: Warehouse;
  let pg: Client;
  const contract: DatasetContract = {
    columns: [
      { name: 'id', type: 'integer', nullable: false, primaryKey: true },
      { name: 'name', type: 'text', nullable: true },
      { name: 'amount', type: 'numeric(10,2)', nullable: true },
    ],
  };
  const passing: QualityGate = { check: async () => ({ passed: true, failures: [] }), hasChecks: async () => false };
  const recorded: LoadResult[] = [];

  let sourceId: string;
  const runIds: string[] = [];
  const job = (strategy: StrategySpec, rows: string[][], over: Partial<LoadJob> = {}): LoadJob => ({
    runId: runIds.shift()!,
    sourceName: 'orders_src',
    dataset: { name: 'orders', schema: 'raw', table: 'orders', contract },
    format: 'csv',
    strategy,
    drift: 'freeze',
    options: {},
    maxRejectedRatio: 1,
    watermark: null,
    batches: (async function* (): AsyncGenerator<ReaderBatch> {
      yield { header: ['id', 'name', 'amount'], records: rows };
    })(),
    evolve: async () => contract,
    qualityGate: passing,
    recordPublish: async (_client, r) => void recorded.push(r),
    ...over,
  });
  /** The run rows dead letters refer to (the engine itself records nothing but the data and the dead letters). */
  beforeEach(async () => {
    for (let i = 0; i < 3; i++) {
      const id = randomUUID();
      await pg.query(
        `INSERT INTO ingestion.runs (id, source_id, status, trigger, idempotency_key, input) VALUES ($1, $2, 'running', 'api', $3, '{}')`,
        [id, sourceId, `key-${id}`],
      );
      runIds.push(id);
    }
  });
  const rows = async () => (await pg.query(`SELECT id, name, amount::text FROM raw.orders ORDER BY id`)).rows;

  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'weir_load_engine' });
    warehouse = new Warehouse(db.url);
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    sourceId = (
      await pg.query(
        `INSERT INTO ingestion.sources (name, dataset, format, location, strategy, drift, options, max_rejected_ratio)
         VALUES ('orders_src', 'orders', 'csv', '{}', '{"kind":"replace"}', 'freeze', '{}', 1) RETURNING id`,
      )
    ).rows[0].id;
  });
  afterAll(async () => {
    await pg?.end();
    await warehouse?.pool.end();
    await db?.drop();
  });

  it('replace: good rows published, bad ones dead-lettered with a reason, every row accounted for', async () => {
    const engine = new LoadEngine(warehouse);
    const j = job({ kind: 'replace' }, [
      ['1', 'a', '1.50'],
      ['2', 'b', 'not a number'],
      ['1', 'again', '3'],
      ['3', 'c', ''],
    ]);
    const r = await engine.run(j);
    expect([r.read, r.loaded, r.rejected, r.deduplicated]).toEqual([4, 2, 2, 0]);
    expect(await rows()).toEqual([
      { id: 1, name: 'a', amount: '1.50' },
      { id: 3, name: 'c', amount: null },
    ]);
    const reasons = (
      await pg.query(`SELECT reason, message FROM ingestion.dead_letters WHERE run_id = $1 ORDER BY record_number`, [
        j.runId,
      ])
    ).rows;
    expect(reasons.map((x) => x.reason)).toEqual(['TYPE_MISMATCH', 'DUPLICATE_KEY_IN_BATCH']);
    // the duplicate came in the stage's first COPY: sent again with record numbers, the first is named
    expect(reasons[1].message).toBe('duplicate primary key in this input; record 1 has it first');
    expect(recorded.at(-1)).toMatchObject({ read: 4, loaded: 2 });
    // what the load made belongs to the warehouse writer, and no stage is left behind
    const left = (
      await pg.query(
        `SELECT relname, pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relnamespace = 'raw'::regnamespace AND relkind = 'r'`,
      )
    ).rows;
    expect(left).toEqual([{ relname: 'orders', owner: 'weir_writer' }]);
  });

  it('replace: the stage keeps its key while streaming; a duplicate in a later COPY segment drops it, nothing is lost', async () => {
    // ~30 bytes a row: 400k rows span more than one COPY segment (SEGMENT_BYTES)
    const n = 400_000;
    const big = (dupAt?: number) =>
      Array.from({ length: n }, (_, i) => [
        String(dupAt !== undefined && i === n - 1 ? dupAt : i + 1),
        `name ${i}`,
        '1.00',
      ]);
    const engine = new LoadEngine(warehouse);
    const clean = await engine.run(job({ kind: 'replace' }, big()));
    expect([clean.read, clean.loaded, clean.rejected]).toEqual([n, n, 0]);
    // the key of the last record repeats one of the first segment's: that segment was committed long before
    const j = job({ kind: 'replace' }, big(7));
    const r = await engine.run(j);
    expect([r.read, r.loaded, r.rejected, r.deduplicated]).toEqual([n, n - 1, 1, 0]);
    const dl = (
      await pg.query(`SELECT reason, record_number, message FROM ingestion.dead_letters WHERE run_id = $1`, [j.runId])
    ).rows;
    // the first record with key 7 was committed without its number (a keyed stage numbers no row)
    expect(dl).toEqual([
      {
        reason: 'DUPLICATE_KEY_IN_BATCH',
        record_number: String(n),
        message: 'duplicate primary key in this input; an earlier record has it first',
      },
    ]);
    const { rows: stats } = await pg.query(
      `SELECT count(*)::int AS c, count(DISTINCT id)::int AS d, max(id) AS m FROM raw.orders`,
    );
    expect(stats[0]).toEqual({ c: n - 1, d: n - 1, m: n - 1 });
    const pk = await pg.query(
      `SELECT conname FROM pg_constraint WHERE conrelid = 'raw.orders'::regclass AND contype = 'p'`,
    );
    expect(pk.rows).toEqual([{ conname: 'orders_pkey' }]);
    // the target as the first test left it, for the tests after this one
    await engine.run(
      job({ kind: 'replace' }, [
        ['1', 'a', '1.50'],
        ['3', 'c', ''],
      ]),
    );
  });

  it('merge: keys update in place, new keys are inserted, a key twice in the input keeps its last record', async () => {
    const r = await new LoadEngine(warehouse).run(
      job({ kind: 'merge' }, [
        ['3', 'c2', '9'],
        ['4', 'd', '4'],
        ['4', 'd2', '5'],
      ]),
    );
    expect([r.read, r.loaded, r.rejected, r.deduplicated]).toEqual([3, 2, 0, 1]);
    expect(await rows()).toEqual([
      { id: 1, name: 'a', amount: '1.50' },
      { id: 3, name: 'c2', amount: '9.00' },
      { id: 4, name: 'd2', amount: '5.00' },
    ]);
  });

  it('append: a key already in the target is rejected, the others are added', async () => {
    const r = await new LoadEngine(warehouse).run(
      job({ kind: 'append' }, [
        ['4', 'dup', '1'],
        ['5', 'e', '1'],
      ]),
    );
    expect([r.read, r.loaded, r.rejected]).toEqual([2, 1, 1]);
    expect((await rows()).map((x) => x.id)).toEqual([1, 3, 4, 5]);
  });

  it('publishes nothing when the gate fails, when too many rows are rejected, or when the publish record fails', async () => {
    const before = await rows();
    const failing: QualityGate = {
      check: async () => ({ passed: false, failures: [{ check: 'x', severity: 'error', message: 'no' }] }),
    };
    await expect(
      new LoadEngine(warehouse).run(job({ kind: 'replace' }, [['9', 'z', '1']], { qualityGate: failing })),
    ).rejects.toMatchObject({
      code: 'QUALITY.GATE_FAILED',
    });
    await expect(
      new LoadEngine(warehouse).run(
        job(
          { kind: 'replace' },
          [
            ['9', 'z', 'x'],
            ['10', 'y', '1'],
          ],
          { maxRejectedRatio: 0.1 },
        ),
      ),
    ).rejects.toBeInstanceOf(LoadFailedError);
    await expect(
      new LoadEngine(warehouse).run(
        job({ kind: 'merge' }, [['1', 'changed', '1']], {
          recordPublish: async () => {
            throw new Error('the run record could not be written');
          },
        }),
      ),
    ).rejects.toThrow(/could not be written/);
    expect(await rows()).toEqual(before);
  });
});
