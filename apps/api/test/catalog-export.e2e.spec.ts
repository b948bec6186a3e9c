import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { DuckDBInstance } from '@duckdb/node-api';
import { admin, startTestApp, TestApp } from './support/test-app';

/** Every column kind an export maps, with NULLs; partitioned by order_date. */
const events = {
  name: 'lake_orders',
  contract: {
    columns: [
      { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
      { name: 'order_date', type: 'date', nullable: false },
      { name: 'amount', type: 'numeric(12,2)', nullable: true },
      { name: 'big', type: 'numeric(30,4)', nullable: true },
      { name: 'small', type: 'numeric(6,3)', nullable: true },
      { name: 'qty', type: 'integer', nullable: true },
      { name: 'paid', type: 'boolean', nullable: true },
      { name: 'at', type: 'timestamptz', nullable: true },
      { name: 'local_at', type: 'timestamp', nullable: true },
      { name: 'uid', type: 'uuid', nullable: true },
      { name: 'payload', type: 'jsonb', nullable: true },
      { name: 'note', type: 'text', nullable: true },
      { name: 'tag', type: 'text', nullable: true },
    ],
  },
};

const insert = (from: number, to: number, day: string) => `
  INSERT INTO raw.lake_orders
  SELECT g, DATE '${day}' + (g % 3),
         CASE WHEN g % 11 = 0 THEN NULL ELSE round((g % 1000) * 1.37 - 400, 2) END,
         CASE WHEN g % 13 = 0 THEN NULL ELSE 12345678901234567890.1234 * (g % 5 - 2) END,
         CASE WHEN g % 17 = 0 THEN NULL ELSE (g % 1999 - 999) * 1.001 END,
         CASE WHEN g % 7 = 0 THEN NULL ELSE g % 500 END,
         CASE WHEN g % 5 = 0 THEN NULL ELSE g % 2 = 0 END,
         CASE WHEN g % 9 = 0 THEN NULL ELSE timestamptz '2026-11-21 10:00:00.123456+02' + g * interval '37 seconds 1 microsecond' END,
         CASE WHEN g % 10 = 0 THEN NULL ELSE timestamp '2026-01-01 00:00:00' + g * interval '1 minute' END,
         CASE WHEN g % 6 = 0 THEN NULL ELSE md5(g::text)::uuid END,
         CASE WHEN g % 4 = 0 THEN NULL ELSE jsonb_build_object('g', g, 's', 'x"y', 'a', jsonb_build_array(1, 2.5)) END,
         CASE WHEN g % 3 = 0 THEN NULL WHEN g % 8 = 0 THEN '' ELSE 'note ' || g || E' tab\\t nl\\n é ' || repeat('z', g % 20) END,
         CASE WHEN g % 19 = 0 THEN NULL ELSE (ARRAY['b', 'é', '\uffff', '𝄞', 'a'])[1 + g % 5] END
    FROM generate_series(${from}, ${to}) g`;

/** The same per-row fingerprint in PostgreSQL and DuckDB. */
const PG_FINGERPRINT = `SELECT count(*)::int AS n, coalesce(sum(amount), 0)::text AS amount,
  md5(string_agg(concat_ws('|', id, order_date, coalesce(amount::text, '~'), coalesce(big::text, '~'), coalesce(small::text, '~'), coalesce(qty::text, '~'),
     coalesce(paid::text, '~'), coalesce(((extract(epoch FROM at) * 1000000)::bigint)::text, '~'),
     coalesce(((extract(epoch FROM local_at) * 1000000)::bigint)::text, '~'), coalesce(uid::text, '~'),
     coalesce(payload::text, '~'), coalesce(note, '~'), coalesce(tag, '~')), ',' ORDER BY id)) AS md5
  FROM raw.lake_orders`;
const duckFingerprint = (glob: string) => `SELECT count(*)::INT AS n, coalesce(sum(amount), 0)::VARCHAR AS amount,
  md5(string_agg(concat_ws('|', id, strftime(order_date, '%Y-%m-%d'), coalesce(amount::VARCHAR, '~'), coalesce(big::VARCHAR, '~'),
     coalesce(small::VARCHAR, '~'), coalesce(qty::VARCHAR, '~'), coalesce(paid::VARCHAR, '~'), coalesce(epoch_us("at")::VARCHAR, '~'),
     coalesce(epoch_us(local_at)::VARCHAR, '~'), coalesce(uid::VARCHAR, '~'), coalesce(payload, '~'), coalesce(note, '~'), coalesce(tag, '~')), ',' ORDER BY id)) AS md5
  FROM read_parquet('${glob}', hive_partitioning = true)`;

describe('catalog: Parquet lake export e2e', () => {
  let t: TestApp;
  let pg: Client;
  let root: string;
  let duck: Awaited<ReturnType<DuckDBInstance['connect']>>;
  const duckRows = async (sql: string) => (await duck.runAndReadAll(sql)).getRowObjectsJS();

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-export-e2e-'));
    t = await startTestApp({ WEIR_EXPORT_ROOT: root });
    pg = new Client({ connectionString: t.db.url });
    await pg.connect();
    await t.http.post('/api/catalog/datasets').set(admin).send(events).expect(201);
    await pg.query(`CREATE SCHEMA IF NOT EXISTS raw`);
    await pg.query(`CREATE TABLE raw.lake_orders (id bigint PRIMARY KEY, order_date date NOT NULL, amount numeric(12,2),
      big numeric(30,4), small numeric(6,3), qty integer, paid boolean, at timestamptz, local_at timestamp, uid uuid, payload jsonb, note text, tag text)`);
    await pg.query(insert(1, 3000, '2026-11-21'));
    duck = await (await DuckDBInstance.create(':memory:')).connect();
  });
  afterAll(async () => {
    await pg?.end();
    await t?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('writes Hive partitions that DuckDB reads back with the same count and checksums as PostgreSQL; the manifest matches the files', async () => {
    const r = await t.http
      .post('/api/catalog/datasets/lake_orders/exports')
      .set(admin)
      .send({
        target: 'lake/orders',
        partitionBy: ['order_date'],
        compression: 'zstd',
        rowGroupSize: 300,
        maxRowsPerFile: 700,
      })
      .expect(201);
    expect(r.body).toMatchObject({ dataset: 'lake_orders', rows: 3000, skipped: 0 });
    expect(r.body.written.map((p: { partition: string }) => p.partition)).toEqual([
      'order_date=2026-11-21',
      'order_date=2026-11-22',
      'order_date=2026-11-23',
    ]);
    const dir = path.join(root, 'lake/orders');
    // 1000 rows per partition, 700 per file: two files each
    expect(fs.existsSync(path.join(dir, 'order_date=2026-11-21/part-00001.parquet'))).toBe(true);
    expect(r.body.files).toBe(6);

    const want = (await pg.query(PG_FINGERPRINT)).rows[0];
    const got = (await duckRows(duckFingerprint(`${dir}/**/*.parquet`)))[0];
    expect(got).toEqual(want);

    // the Parquet types DuckDB sees
    const types = Object.fromEntries(
      (await duckRows(`DESCRIBE SELECT * FROM read_parquet('${dir}/**/*.parquet', hive_partitioning = true)`)).map(
        (x) => [x['column_name'], x['column_type']],
      ),
    );
    expect(types).toMatchObject({
      id: 'BIGINT',
      amount: 'DECIMAL(12,2)',
      big: 'DECIMAL(30,4)',
      small: 'DECIMAL(6,3)',
      qty: 'INTEGER',
      paid: 'BOOLEAN',
      at: 'TIMESTAMP WITH TIME ZONE',
      local_at: 'TIMESTAMP',
      uid: 'UUID',
      payload: 'VARCHAR',
      note: 'VARCHAR',
      order_date: 'DATE',
    });
    // row groups as asked
    const groups = await duckRows(
      `SELECT max(row_group_num_rows)::INT AS m, list_distinct(list(compression))::VARCHAR AS codecs
         FROM parquet_metadata('${dir}/order_date=2026-11-21/part-00000.parquet')`,
    );
    expect(groups[0]).toEqual({ m: 300, codecs: '[ZSTD]' });
    // a few distinct strings: a dictionary; mostly distinct ones: plain
    const enc = await duckRows(
      `SELECT path_in_schema AS col, min(encodings) AS e FROM parquet_metadata('${dir}/order_date=2026-11-22/part-00000.parquet')
        WHERE path_in_schema IN ('tag', 'note') GROUP BY 1 ORDER BY 1`,
    );
    expect(enc).toEqual([
      { col: 'note', e: 'PLAIN' },
      { col: 'tag', e: 'PLAIN, RLE_DICTIONARY' },
    ]);
    // each row group's statistics (min, max, null count) are those of its rows (long strings' bounds
    // truncated to 16 bytes, the max rounded up: they still bound the values in UTF-8 byte order)
    const file = `${dir}/order_date=2026-11-22/part-00000.parquet`;
    const bounds = (x: Record<string, unknown>, y: Record<string, unknown>) =>
      x['g'] === y['g'] &&
      x['nulls'] === y['nulls'] &&
      Buffer.compare(Buffer.from(String(x['min'])), Buffer.from(String(y['min']))) <= 0 &&
      Buffer.compare(Buffer.from(String(x['max'])), Buffer.from(String(y['max']))) >= 0;
    for (const col of ['id', 'qty', 'amount', 'big', 'small', 'at', 'local_at', 'uid', 'note', 'tag']) {
      const stated = await duckRows(
        `SELECT row_group_id::INT AS g, stats_min_value AS min, stats_max_value AS max, stats_null_count::INT AS nulls
           FROM parquet_metadata('${file}') WHERE path_in_schema = '${col}' ORDER BY 1`,
      );
      const actual = await duckRows(
        `SELECT (file_row_number // 300)::INT AS g, min("${col}")::VARCHAR AS min, max("${col}")::VARCHAR AS max,
                (count(*) - count("${col}"))::INT AS nulls
           FROM read_parquet('${file}', file_row_number = true) GROUP BY 1 ORDER BY 1`,
      );
      if (col === 'note') {
        expect(stated).toHaveLength(actual.length);
        stated.forEach((x, i) =>
          expect({ col, x, y: actual[i], bounds: bounds(x, actual[i]) }).toMatchObject({ bounds: true }),
        );
      } else expect({ col, stats: stated }).toEqual({ col, stats: actual });
    }

    const manifest = JSON.parse(fs.readFileSync(path.join(dir, '_manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      dataset: 'lake_orders',
      datasetVersion: 1,
      rows: 3000,
      partitionBy: ['order_date'],
    });
    expect(manifest.files).toHaveLength(6);
    for (const f of manifest.files) {
      const bytes = fs.readFileSync(path.join(dir, f.path));
      expect(bytes.length).toBe(f.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
      const n = (await duckRows(`SELECT count(*)::INT AS n FROM read_parquet('${path.join(dir, f.path)}')`))[0]['n'];
      expect(n).toBe(f.rows);
      expect(f.path.startsWith(`order_date=${f.partition.order_date}/`)).toBe(true);
    }
  });

  it('an incremental export writes only the new partition and lists every file in the manifest', async () => {
    const dir = path.join(root, 'lake/orders');
    const before = fs.statSync(path.join(dir, 'order_date=2026-11-21/part-00000.parquet')).mtimeMs;
    await pg.query(insert(3001, 3500, '2026-11-24').replace(`DATE '2026-11-24' + (g % 3)`, `DATE '2026-11-24'`));
    const r = await t.http
      .post('/api/catalog/datasets/lake_orders/exports')
      .set(admin)
      .send({
        target: 'lake/orders',
        partitionBy: ['order_date'],
        incremental: true,
        rowGroupSize: 300,
        maxRowsPerFile: 700,
      })
      .expect(201);
    expect(r.body).toMatchObject({ rows: 500, files: 1, skipped: 3 });
    expect(r.body.written.map((p: { partition: string }) => p.partition)).toEqual(['order_date=2026-11-24']);
    expect(fs.statSync(path.join(dir, 'order_date=2026-11-21/part-00000.parquet')).mtimeMs).toBe(before);
    const want = (await pg.query(PG_FINGERPRINT)).rows[0];
    expect((await duckRows(duckFingerprint(`${dir}/**/*.parquet`)))[0]).toEqual(want);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, '_manifest.json'), 'utf8'));
    expect(manifest.rows).toBe(3500);
    expect(manifest.files).toHaveLength(7);

    // nothing new: nothing written
    const again = await t.http
      .post('/api/catalog/datasets/lake_orders/exports')
      .set(admin)
      .send({ target: 'lake/orders', partitionBy: ['order_date'], incremental: true })
      .expect(201);
    expect(again.body).toMatchObject({ rows: 0, files: 0, skipped: 4 });
  });

  it('refuses targets outside the export root and bad requests with every problem', async () => {
    for (const target of ['../escape', '/etc/weir', 'lake/../../x', 'file:///tmp/x']) {
      const r = await t.http.post('/api/catalog/datasets/lake_orders/exports').set(admin).send({ target }).expect(403);
      expect(r.body.code).toBe('CATALOG.EXPORT_TARGET_REFUSED');
    }
    expect(fs.existsSync(path.join(root, '..', 'escape'))).toBe(false);
    fs.symlinkSync(os.tmpdir(), path.join(root, 'out'));
    const sym = await t.http
      .post('/api/catalog/datasets/lake_orders/exports')
      .set(admin)
      .send({ target: 'out/x' })
      .expect(403);
    expect(sym.body.code).toBe('CATALOG.EXPORT_TARGET_REFUSED');

    const bad = await t.http
      .post('/api/catalog/datasets/lake_orders/exports')
      .set(admin)
      .send({
        target: 'x',
        partitionBy: ['nope'],
        compression: 'lzo',
        rowGroupSize: 0,
        incremental: true,
        s3: { accessKeyId: 'AKIA' },
      })
      .expect(400);
    expect(bad.body.code).toBe('CATALOG.INVALID_EXPORT');
    expect(bad.body.errors).toEqual(
      expect.arrayContaining([
        'partitionBy[0]: not a column of the dataset',
        'compression: one of snappy, zstd, gzip, brotli, none',
        'rowGroupSize: an integer from 1 to 10000000',
        's3.accessKeyId: a secret is given as {"env": "VARIABLE_NAME"}, never in clear',
        's3: only for an s3:// target',
      ]),
    );
  });

  it('unpartitioned snappy, zstd, gzip, brotli and uncompressed files read back the same', async () => {
    const want = (await pg.query(PG_FINGERPRINT)).rows[0];
    for (const compression of ['snappy', 'zstd', 'gzip', 'brotli', 'none']) {
      await t.http
        .post('/api/catalog/datasets/lake_orders/exports')
        .set(admin)
        .send({ target: `flat/${compression}`, compression })
        .expect(201);
      const dir = path.join(root, 'flat', compression);
      const q = duckFingerprint(`${dir}/*.parquet`).replace("strftime(order_date, '%Y-%m-%d')", 'order_date::VARCHAR');
      expect((await duckRows(q))[0]).toEqual(want);
    }
  });

  it('the newer contract types: smallint INT32, real FLOAT, double DOUBLE, bytea binary, arrays as JSON, the rest as strings', async () => {
    const columns = [
      { name: 'id', type: 'bigint', primaryKey: true },
      { name: 's', type: 'smallint' },
      { name: 'r', type: 'real' },
      { name: 'd', type: 'double precision' },
      { name: 'vc', type: 'varchar(5)' },
      { name: 'ch', type: 'char(3)' },
      { name: 'tm', type: 'time' },
      { name: 'iv', type: 'interval' },
      { name: 'by', type: 'bytea' },
      { name: 'js', type: 'json' },
      { name: 'ta', type: 'text[]' },
      { name: 'ba', type: 'bigint[]' },
    ];
    await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({ name: 'lake_types', contract: { columns } })
      .expect(201);
    await pg.query(`CREATE TABLE raw.lake_types (id bigint PRIMARY KEY, s smallint, r real, d double precision, vc varchar(5),
      ch char(3), tm time, iv interval, by bytea, js json, ta text[], ba bigint[])`);
    await pg.query(`INSERT INTO raw.lake_types VALUES
      (1, -32768, 1.5, 'Infinity', 'abc', 'xy', '13:45:06.5', '1 day 02:00:00', '\\xdeadbeef', '{"a": [1, 2]}', '{a,"b c",NULL}', '{1,2}'),
      (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`);
    await t.http.post('/api/catalog/datasets/lake_types/exports').set(admin).send({ target: 'types' }).expect(201);
    const glob = `${path.join(root, 'types')}/*.parquet`;
    const types = Object.fromEntries(
      (await duckRows(`DESCRIBE SELECT * FROM read_parquet('${glob}')`)).map((r) => [
        r['column_name'],
        r['column_type'],
      ]),
    );
    expect(types).toEqual({
      id: 'BIGINT',
      s: 'INTEGER',
      r: 'FLOAT',
      d: 'DOUBLE',
      vc: 'VARCHAR',
      ch: 'VARCHAR',
      tm: 'VARCHAR',
      iv: 'VARCHAR',
      by: 'BLOB',
      js: 'VARCHAR',
      ta: 'VARCHAR',
      ba: 'VARCHAR',
    });
    const rows = await duckRows(
      `SELECT id::INT AS id, s, r::VARCHAR AS r, d::VARCHAR AS d, vc, ch, tm, iv, hex("by") AS "by", js, ta, ba FROM read_parquet('${glob}') ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        id: 1,
        s: -32768,
        r: '1.5',
        d: 'inf',
        vc: 'abc',
        ch: 'xy', // char(n) as PostgreSQL's text: trailing blanks dropped
        tm: '13:45:06.5',
        iv: '1 day 02:00:00',
        by: 'DEADBEEF',
        js: '{"a": [1, 2]}',
        ta: '["a","b c",null]',
        ba: '[1,2]',
      },
      {
        id: 2,
        s: null,
        r: null,
        d: null,
        vc: null,
        ch: null,
        tm: null,
        iv: null,
        by: null,
        js: null,
        ta: null,
        ba: null,
      },
    ]);
  });

  it('a view (whose query may call user functions) is read as the reader role; a plain table directly, read-only', async () => {
    await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({
        name: 'lake_who',
        contract: {
          columns: [
            { name: 'id', type: 'bigint', nullable: false },
            { name: 'who', type: 'text', nullable: true },
            { name: 'ro', type: 'text', nullable: true },
          ],
        },
      })
      .expect(201);
    await pg.query(`CREATE VIEW raw.lake_who AS SELECT id, current_user::text AS who,
      current_setting('transaction_read_only') AS ro FROM raw.lake_orders WHERE id <= 10`);
    await t.http.post('/api/catalog/datasets/lake_who/exports').set(admin).send({ target: 'who' }).expect(201);
    const rows = await duckRows(
      `SELECT count(*)::INT AS n, min(who) AS who, min(ro) AS ro FROM read_parquet('${root}/who/*.parquet')`,
    );
    const reader = (await pg.query(`SELECT to_regrole('weir_reader') IS NOT NULL AS ok`)).rows[0].ok;
    expect(rows[0]).toEqual({ n: 10, who: reader ? 'weir_reader' : expect.any(String), ro: 'on' });
  });

  it('a pipeline step of kind export writes the dataset to the lake ({partition} in the target)', async () => {
    await t.http
      .post('/api/orchestration/pipelines')
      .set(admin)
      .send({
        name: 'lake_nightly',
        partitions: { kind: 'static', values: ['p1'] },
        steps: [
          {
            id: 'to_lake',
            kind: 'export',
            dataset: 'lake_orders',
            target: 'nightly/{partition}',
            partition_by: ['order_date'],
            compression: 'snappy',
          },
        ],
      })
      .expect(201);
    const run = (
      await t.http
        .post('/api/orchestration/pipelines/lake_nightly/runs')
        .set(admin)
        .send({ partition: 'p1' })
        .expect(201)
    ).body;
    let r = run;
    for (let i = 0; i < 600 && !['succeeded', 'failed', 'cancelled'].includes(r.status); i++) {
      await new Promise((res) => setTimeout(res, 100));
      r = (await t.http.get(`/api/orchestration/runs/${run.id}`).set(admin).expect(200)).body;
    }
    expect(r.status).toBe('succeeded');
    const total = Number((await pg.query(`SELECT count(*)::int AS n FROM raw.lake_orders`)).rows[0].n);
    expect(r.steps[0].output).toMatchObject({ rows: total });
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'nightly', 'p1', '_manifest.json'), 'utf8'));
    expect(manifest.files.reduce((n: number, f: { rows: number }) => n + f.rows, 0)).toBe(total);
    expect(
      (await duckRows(`SELECT count(*)::INTEGER AS n FROM read_parquet('${root}/nightly/p1/**/*.parquet')`))[0],
    ).toEqual({
      n: total,
    });
  });
});
