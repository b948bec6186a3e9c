import { Client } from 'pg';
import { gzipSync } from 'node:zlib';
import { RunsService } from '@weir/ingestion';
import { admin, startTestApp, TestApp } from './support/test-app';
import { startIngestionApp, tempDataDir } from './support/files';

const contract = {
  columns: [
    { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
    { name: 'name', type: 'text', nullable: true },
    { name: 'score', type: 'numeric(6,2)', nullable: true },
    { name: 'seen_at', type: 'timestamptz', nullable: true },
    { name: 'attrs', type: 'jsonb', nullable: true },
  ],
};

describe('ingestion formats e2e: NDJSON, JSON array, Parquet, gzip, Latin-1 CSV; infer', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ t, files, pg, close } = await startIngestionApp());
  });
  afterAll(() => close?.());

  let n = 0;
  async function load(format: string, file: string, extra: Record<string, unknown> = {}) {
    n++;
    const ds = `things_${n}`;
    await t.http.post('/api/catalog/datasets').set(admin).send({ name: ds, contract }).expect(201);
    const src = (
      await t.http
        .post('/api/ingestion/sources')
        .set(admin)
        .send({ name: `${ds}_src`, dataset: ds, format, strategy: { kind: 'merge' }, maxRejectedRatio: 1, ...extra })
        .expect(201)
    ).body;
    const queued = await t.http
      .post(`/api/ingestion/sources/${src.id}/runs`)
      .set(admin)
      .send({ path: file })
      .expect(202);
    const run = await t.app.get(RunsService).waitFor(queued.body.id, 60_000);
    const exists = (await pg.query(`SELECT to_regclass('raw.${ds}') IS NOT NULL AS e`)).rows[0].e;
    const rows = exists
      ? (await pg.query(`SELECT id::int, name, score::text, seen_at, attrs FROM raw.${ds} ORDER BY id`)).rows
      : [];
    return { run, rows };
  }

  it('evolve on NDJSON: a field first seen after the first batch becomes a column too, no row lost', async () => {
    const lines: string[] = [];
    for (let i = 1; i <= 6000; i++)
      lines.push(
        JSON.stringify({
          id: i,
          name: `n${i}`,
          ...(i >= 4500 ? { Late_Field: `late${i}` } : {}),
          ...(i >= 5500 ? { later: i } : {}),
        }),
      );
    files.write('late.ndjson', lines.join('\n') + '\n');
    const { run } = await load('ndjson', 'late.ndjson', { drift: 'evolve' });
    expect(run).toMatchObject({
      status: 'succeeded',
      rowsRead: 6000,
      rowsLoaded: 6000,
      rowsRejected: 0,
      rowsDeduplicated: 0,
    });
    const ds = `things_${n}`;
    const counts = (
      await pg.query(
        `SELECT count(*)::int AS n, count(late_field)::int AS late, count(later)::int AS later, min(late_field) FILTER (WHERE id = 4500) AS first FROM raw.${ds}`,
      )
    ).rows[0];
    expect(counts).toEqual({ n: 6000, late: 1501, later: 501, first: 'late4500' });
    const versions = (await t.http.get(`/api/catalog/datasets/${ds}`).set(admin)).body.versions;
    expect(versions.length).toBeGreaterThanOrEqual(3);

    // a late field whose column name is taken, and more new fields than a run may add: dead-lettered, loudly
    const more: string[] = [];
    for (let i = 1; i <= 3000; i++)
      more.push(
        JSON.stringify({
          id: i,
          ...(i >= 2100 && i < 2400 ? { [`k${i}`]: 'x' } : {}),
          ...(i > 2500 ? { Name: 'taken' } : {}),
        }),
      );
    files.write('more.ndjson', more.join('\n') + '\n');
    const { run: capped } = await load('ndjson', 'more.ndjson', { drift: 'evolve' });
    expect(capped).toMatchObject({ status: 'succeeded', rowsRead: 3000, rowsLoaded: 2400, rowsRejected: 600 });
    const cols = (await t.http.get(`/api/catalog/datasets/things_${n}`).set(admin)).body.contract.columns.map(
      (c: { name: string }) => c.name,
    );
    expect(cols.filter((c: string) => /^k\d+$/.test(c))).toHaveLength(200);
    const why = (await t.http.get(`/api/ingestion/runs/${capped.id}/dead-letters`).set(admin)).body;
    expect(why).toMatchObject({ total: 600, byReason: { SCHEMA_DRIFT: 600 } });
  });

  it('NDJSON: one object per line; a broken line and a non-object are UNPARSEABLE; types coerced', async () => {
    files.write(
      'a.ndjson',
      [
        '{"id": 1, "name": "Ann", "score": 12.5, "seen_at": "2026-01-01T10:00:00Z", "attrs": {"k": [1, 2]}}',
        '',
        '{"id": 2, "name": null}',
        '{"id": 3, broken',
        '[1,2]',
        '{"id": "x"}',
      ].join('\n'),
    );
    const { run, rows } = await load('ndjson', 'a.ndjson');
    expect(run).toMatchObject({ status: 'succeeded', rowsRead: 5, rowsLoaded: 2, rowsRejected: 3 });
    expect(rows).toEqual([
      { id: 1, name: 'Ann', score: '12.50', seen_at: new Date('2026-01-01T10:00:00Z'), attrs: { k: [1, 2] } },
      { id: 2, name: null, score: null, seen_at: null, attrs: null },
    ]);
    const dl = (await t.http.get(`/api/ingestion/runs/${run.id}/dead-letters`).set(admin)).body;
    expect(dl.byReason).toEqual({ UNPARSEABLE: 2, TYPE_MISMATCH: 1 });
    expect(dl.items.find((d: { recordNumber: number }) => d.recordNumber === 3).rawText).toBe('{"id": 3, broken');
  });

  it('gzipped NDJSON is read the same way', async () => {
    files.write('b.ndjson.gz', gzipSync('{"id": 7, "name": "gz"}\n{"id": 8}\n'));
    const { run, rows } = await load('ndjson', 'b.ndjson.gz');
    expect(run).toMatchObject({ status: 'succeeded', rowsRead: 2, rowsLoaded: 2 });
    expect(rows.map((r) => r.id)).toEqual([7, 8]);
    expect(run.bytesRead).toBeGreaterThan(0);
  });

  it('JSON array, streamed, at a jsonPath; a broken array fails the run loudly', async () => {
    files.write(
      'c.json',
      JSON.stringify({
        meta: { page: 1 },
        data: { items: [{ id: 1, name: 'x' }, { id: 2, score: '12345.678' }, 'nope'] },
      }),
    );
    const { run, rows } = await load('json', 'c.json', { jsonPath: 'data.items' });
    expect(run).toMatchObject({ status: 'succeeded', rowsRead: 3, rowsLoaded: 1, rowsRejected: 2 });
    expect(rows.map((r) => r.id)).toEqual([1]);
    files.write('d.json', '[{"id": 1}, {"id": 2');
    const broken = await load('json', 'd.json');
    expect(broken.run).toMatchObject({ status: 'failed', error: { code: 'INGESTION.UNREADABLE_INPUT' } });
    expect(broken.run.error!.message).toMatch(/not a readable JSON array/);
    expect(broken.rows).toEqual([]);
  });

  it('Parquet, one row group at a time: int64, strings, timestamps', async () => {
    const w = require('hyparquet-writer');
    const buf = w.parquetWriteBuffer({
      columnData: [
        { name: 'id', data: [1n, 2n, 3n], type: 'INT64' },
        { name: 'name', data: ['a', 'b', null], type: 'STRING' },
        {
          name: 'seen_at',
          data: [new Date('2026-01-01T00:00:00Z'), new Date('2026-01-02T00:00:00Z'), null],
          type: 'TIMESTAMP',
        },
      ],
      rowGroupSize: 2,
    });
    files.write('e.parquet', Buffer.from(buf));
    files.write('e.parquet.gz', gzipSync(Buffer.from(buf)));
    for (const f of ['e.parquet', 'e.parquet.gz']) {
      const { run, rows } = await load('parquet', f);
      expect(run).toMatchObject({ status: 'succeeded', rowsRead: 3, rowsLoaded: 3 });
      expect(rows.map((r) => [r.id, r.name, r.seen_at?.toISOString() ?? null])).toEqual([
        [1, 'a', '2026-01-01T00:00:00.000Z'],
        [2, 'b', '2026-01-02T00:00:00.000Z'],
        [3, null, null],
      ]);
    }
  });

  it('CSV in Latin-1 with a BOM-less semicolon dialect, explicit columns, and a date format mapping', async () => {
    files.write('f.csv', Buffer.from('7;Zoë;12,5;31/12/2026 23:59\n8;"a;b";;\n', 'latin1'));
    const { run, rows } = await load('csv', 'f.csv', {
      csv: { delimiter: ';', header: false, columns: ['id', 'name', 'score', 'seen_at'], encoding: 'latin1' },
      mapping: { score: { decimalSeparator: ',' }, seen_at: { format: 'DD/MM/YYYY HH:mm' } },
    });
    expect(run).toMatchObject({ status: 'succeeded', rowsRead: 2, rowsLoaded: 2 });
    expect(rows.map((r) => [r.id, r.name, r.score, r.seen_at?.toISOString() ?? null])).toEqual([
      [7, 'Zoë', '12.50', '2026-12-31T23:59:00.000Z'],
      [8, 'a;b', null, null],
    ]);
  });

  it('replace keeps views built on the target working (rows replaced in place, same transaction)', async () => {
    files.write('v1.csv', 'id,name\n1,a\n2,b\n');
    const first = await load('csv', 'v1.csv', { strategy: { kind: 'replace' } });
    expect(first.run.status).toBe('succeeded');
    const table = `raw.things_${n}`;
    await pg.query(`CREATE VIEW raw.things_view AS SELECT id, name FROM ${table}`);
    const src = (await t.http.get(`/api/ingestion/sources/things_${n}_src`).set(admin).expect(200)).body;
    files.write('v2.csv', 'id,name\n7,x\n8,y\n9,z\n');
    const queued = await t.http
      .post(`/api/ingestion/sources/${src.id}/runs`)
      .set(admin)
      .send({ path: 'v2.csv' })
      .expect(202);
    expect((await t.app.get(RunsService).waitFor(queued.body.id, 30_000)).status).toBe('succeeded');
    expect((await pg.query('SELECT id::int FROM raw.things_view ORDER BY id')).rows.map((r) => r.id)).toEqual([
      7, 8, 9,
    ]);
    await pg.query('DROP VIEW raw.things_view');
  });

  it('a UTF-8 BOM does not leak into the first header name', async () => {
    files.write('g.csv', '\ufeffid,name\n1,bom\n');
    const { run, rows } = await load('csv', 'g.csv');
    expect(run).toMatchObject({ status: 'succeeded', rowsLoaded: 1 });
    expect(rows[0]).toMatchObject({ id: 1, name: 'bom' });
  });

  it('infer proposes a contract (types, nullability, candidate keys) from a path or an uploaded body', async () => {
    files.write(
      'h.csv',
      'Order ID,customer,amount,paid,ordered_at,note\n1,c1,10.50,true,2026-01-01T00:00:00Z,\n2,c1,3,false,2026-01-02T00:00:00Z,hi\n3,c2,7.25,true,2026-01-03T00:00:00Z,\n',
    );
    const r = (await t.http.post('/api/ingestion/infer?path=h.csv').set(admin).expect(201)).body;
    expect(r).toMatchObject({
      format: 'csv',
      rowsSampled: 3,
      candidateKeys: [['order_id']],
      mapping: { order_id: { from: 'Order ID' } },
    });
    expect(r.contract.columns).toEqual([
      { name: 'order_id', type: 'integer', nullable: false, primaryKey: true },
      { name: 'customer', type: 'text', nullable: false },
      { name: 'amount', type: 'numeric(14,2)', nullable: false },
      { name: 'paid', type: 'boolean', nullable: false },
      { name: 'ordered_at', type: 'timestamptz', nullable: false },
      { name: 'note', type: 'text', nullable: true },
    ]);
    const body = (
      await t.http
        .post('/api/ingestion/infer?format=ndjson')
        .set(admin)
        .set('Content-Type', 'application/x-ndjson')
        .send('{"id":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","d":"2026-01-01"}\n')
        .expect(201)
    ).body;
    expect(body.contract.columns).toEqual([
      { name: 'id', type: 'uuid', nullable: false, primaryKey: true },
      { name: 'd', type: 'date', nullable: false },
    ]);
  });
});

describe('a separate warehouse database', () => {
  it('is refused loudly for ingestion runs (publishing must stay one transaction)', async () => {
    const files = tempDataDir();
    const t = await startTestApp({ WEIR_DATA_DIR: files.dir, WEIR_WAREHOUSE_URL: 'postgres://elsewhere.invalid/dw' });
    try {
      await t.http.post('/api/catalog/datasets').set(admin).send({ name: 'w', contract }).expect(201);
      const src = (
        await t.http
          .post('/api/ingestion/sources')
          .set(admin)
          .send({ name: 'w_src', dataset: 'w', format: 'csv', strategy: { kind: 'append' } })
          .expect(201)
      ).body;
      files.write('w.csv', 'id\n1\n');
      const r = await t.http
        .post(`/api/ingestion/sources/${src.id}/runs`)
        .set(admin)
        .send({ path: 'w.csv' })
        .expect(501);
      expect(r.body.code).toBe('INGESTION.SEPARATE_WAREHOUSE_UNSUPPORTED');
    } finally {
      await t.close();
      files.remove();
    }
  });
});

describe('upload size limit', () => {
  it('refuses an upload over WEIR_UPLOAD_MAX_BYTES with 413 and keeps nothing', async () => {
    const files = tempDataDir();
    const t = await startTestApp({ WEIR_DATA_DIR: files.dir, WEIR_UPLOAD_MAX_BYTES: '1000' });
    try {
      await t.http.post('/api/catalog/datasets').set(admin).send({ name: 'u', contract }).expect(201);
      const src = (
        await t.http
          .post('/api/ingestion/sources')
          .set(admin)
          .send({ name: 'u_src', dataset: 'u', format: 'csv', strategy: { kind: 'append' } })
          .expect(201)
      ).body;
      const big = 'id\n' + '1\n'.repeat(2000);
      const r = await t.http
        .post(`/api/ingestion/sources/${src.id}/uploads`)
        .set(admin)
        .set('Content-Type', 'text/csv')
        .send(big)
        .expect(413);
      expect(r.body.code).toBe('INGESTION.UPLOAD_TOO_LARGE');
      expect(require('node:fs').readdirSync(`${files.dir}/uploads`)).toEqual([]);
      expect((await t.http.get(`/api/ingestion/runs?sourceId=${src.id}`).set(admin)).body.items).toEqual([]);
      const ok = await t.http
        .post(`/api/ingestion/sources/${src.id}/uploads`)
        .set(admin)
        .set('Content-Type', 'text/csv')
        .send('id\n1\n')
        .expect(202);
      expect((await t.app.get(RunsService).waitFor(ok.body.id, 30_000)).status).toBe('succeeded');
    } finally {
      await t.close();
      files.remove();
    }
  });
});
