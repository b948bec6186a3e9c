import { ChildProcess, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { admin, startTestApp, TestApp } from './support/test-app';

/**
 * Parquet lake exports to an `s3://bucket/prefix` target against a local S3-compatible server
 * (s3rver) the test starts: the objects listed, the manifest (rows, bytes, sha256 of each object),
 * an object's bytes read back by DuckDB, a full re-export dropping a vanished partition's objects,
 * an incremental one adding only the new partition, and credentials as environment references
 * (an unset variable named, a wrong key refused without leaking it).
 */
const ROOT = path.resolve(__dirname, '../../..');
const BUCKET = 'weir-lake';

const dataset = {
  name: 's3_orders',
  contract: {
    columns: [
      { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
      { name: 'region', type: 'text', nullable: false },
      { name: 'amount', type: 'numeric(12,2)', nullable: true },
      { name: 'at', type: 'timestamptz', nullable: true },
      { name: 'day', type: 'date', nullable: true },
      { name: 'uid', type: 'uuid', nullable: true },
      { name: 'payload', type: 'jsonb', nullable: true },
    ],
  },
};

const insert = (from: number, to: number, regions: string) => `
  INSERT INTO raw.s3_orders
  SELECT g, (ARRAY[${regions}])[1 + g % ${regions.split(',').length}],
         CASE WHEN g % 11 = 0 THEN NULL ELSE round((g % 1000) * 1.37 - 400, 2) END,
         CASE WHEN g % 9 = 0 THEN NULL ELSE timestamptz '2026-11-21 10:00:00.123456+02' + g * interval '37 seconds 1 microsecond' END,
         DATE '2026-01-01' + g % 400,
         CASE WHEN g % 6 = 0 THEN NULL ELSE md5(g::text)::uuid END,
         CASE WHEN g % 4 = 0 THEN NULL ELSE jsonb_build_object('g', g, 's', 'x"y') END
    FROM generate_series(${from}, ${to}) g`;

const PG_FINGERPRINT = `SELECT count(*)::int AS n, coalesce(sum(amount), 0)::text AS amount,
  md5(string_agg(concat_ws('|', id, region, coalesce(amount::text, '~'),
     coalesce(((extract(epoch FROM at) * 1000000)::bigint)::text, '~'), coalesce(day::text, '~'),
     coalesce(uid::text, '~'), coalesce(payload::text, '~')), ',' ORDER BY id)) AS md5
  FROM raw.s3_orders`;
const duckFingerprint = (glob: string) => `SELECT count(*)::INT AS n, coalesce(sum(amount), 0)::VARCHAR AS amount,
  md5(string_agg(concat_ws('|', id, region, coalesce(amount::VARCHAR, '~'), coalesce(epoch_us("at")::VARCHAR, '~'),
     coalesce(strftime(day, '%Y-%m-%d'), '~'), coalesce(uid::VARCHAR, '~'), coalesce(payload, '~')), ',' ORDER BY id)) AS md5
  FROM read_parquet('${glob}', hive_partitioning = true)`;

interface ManifestFile {
  path: string;
  rows: number;
  bytes: number;
  sha256: string;
  partition: Record<string, string | null>;
}

describe('catalog: Parquet lake export to S3 e2e', () => {
  let t: TestApp;
  let pg: Client;
  let server: ChildProcess;
  let store: string;
  let work: string;
  let s3: S3Client;
  let endpoint: string;
  let duck: Awaited<ReturnType<DuckDBInstance['connect']>>;
  const tag = randomUUID().slice(0, 8).toUpperCase();
  const KEY = `LAKE_KEY_${tag}`;
  const SECRET = `LAKE_SECRET_${tag}`;
  const WRONG = `LAKE_WRONG_${tag}`;
  const duckRows = async (sql: string) => (await duck.runAndReadAll(sql)).getRowObjectsJS();

  beforeAll(async () => {
    store = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-s3rver-'));
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-export-s3-'));
    // s3rver signs ListObjectsV2 continuation tokens with DES (OpenSSL 3's legacy provider): its own process
    const script = `const S3rver = require('s3rver');
      new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: ${JSON.stringify(store)},
        configureBuckets: [{ name: ${JSON.stringify(BUCKET)} }] }).run().then(({ port }) => console.log('PORT ' + port));`;
    server = spawn(process.execPath, ['--openssl-legacy-provider', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      server.stdout!.on('data', (d) => {
        out += String(d);
        const m = /PORT (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      server.on('exit', (code) => reject(new Error(`s3rver exited (${code})`)));
    });
    endpoint = `http://127.0.0.1:${port}`;
    process.env[KEY] = 'S3RVER';
    process.env[SECRET] = 'S3RVER';
    process.env[WRONG] = 'NOT-A-KEY-0xC0FFEE';
    s3 = new S3Client({
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });

    t = await startTestApp({ WEIR_EXPORT_ROOT: path.join(work, 'root') });
    pg = new Client({ connectionString: t.db.url });
    await pg.connect();
    await t.http.post('/api/catalog/datasets').set(admin).send(dataset).expect(201);
    await pg.query(`CREATE SCHEMA IF NOT EXISTS raw`);
    await pg.query(`CREATE TABLE raw.s3_orders (id bigint PRIMARY KEY, region text NOT NULL, amount numeric(12,2),
      at timestamptz, day date, uid uuid, payload jsonb)`);
    await pg.query(insert(1, 2500, `'EU','US','APAC'`));
    duck = await (await DuckDBInstance.create(':memory:')).connect();
  });
  afterAll(async () => {
    for (const v of [KEY, SECRET, WRONG]) delete process.env[v];
    await pg?.end();
    await t?.close();
    s3?.destroy();
    server?.kill('SIGTERM');
    fs.rmSync(store, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });

  const s3Options = (key = KEY, secret = SECRET) => ({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    accessKeyId: { env: key },
    secretAccessKey: { env: secret },
  });
  const exportTo = (body: Record<string, unknown>) =>
    t.http
      .post('/api/catalog/datasets/s3_orders/exports')
      .set(admin)
      .send({ target: `s3://${BUCKET}/lake/orders/`, s3: s3Options(), ...body });
  const keys = async (prefix: string) => {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const r = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }));
      out.push(...(r.Contents ?? []).map((o) => o.Key as string));
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  };
  const object = async (key: string) =>
    Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());
  /** Every object under the prefix, downloaded into a fresh folder (keys as paths). */
  const download = async (prefix: string) => {
    const dir = fs.mkdtempSync(path.join(work, 'dl-'));
    for (const k of await keys(prefix)) {
      const file = path.join(dir, k.slice(prefix.length));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, await object(k));
    }
    return dir;
  };

  it('writes partitioned zstd files under the prefix; the manifest lists every object with its rows, size and sha256; DuckDB reads the bytes back', async () => {
    const r = await exportTo({
      partitionBy: ['region'],
      compression: 'zstd',
      rowGroupSize: 200,
      maxRowsPerFile: 500,
    }).expect(201);
    expect(r.body).toMatchObject({
      dataset: 's3_orders',
      target: `s3://${BUCKET}/lake/orders`,
      manifest: '_manifest.json',
      rows: 2500,
      skipped: 0,
    });
    expect(r.body.written.map((p: { partition: string }) => p.partition)).toEqual([
      'region=APAC',
      'region=EU',
      'region=US',
    ]);
    // 833 or 834 rows per region, 500 per file: two files each
    const listed = await keys('lake/orders/');
    expect(listed).toEqual(
      [
        'lake/orders/_manifest.json',
        ...['APAC', 'EU', 'US'].flatMap((g) => [0, 1].map((i) => `lake/orders/region=${g}/part-0000${i}.parquet`)),
      ].sort(),
    );

    const manifest = JSON.parse((await object('lake/orders/_manifest.json')).toString('utf8'));
    expect(manifest).toMatchObject({
      format: 'parquet',
      dataset: 's3_orders',
      rows: 2500,
      compression: 'zstd',
      partitionBy: ['region'],
    });
    expect(manifest.files.map((f: ManifestFile) => `lake/orders/${f.path}`).sort()).toEqual(
      listed.filter((k) => k.endsWith('.parquet')),
    );
    expect(manifest.files.reduce((n: number, f: ManifestFile) => n + f.rows, 0)).toBe(2500);
    for (const f of manifest.files as ManifestFile[]) {
      const bytes = await object(`lake/orders/${f.path}`);
      expect(bytes.length).toBe(f.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
      expect(f.path.startsWith(`region=${f.partition['region']}/`)).toBe(true);
    }

    // one object's bytes, downloaded, as DuckDB reads them
    const one = manifest.files.find((f: ManifestFile) => f.path === 'region=EU/part-00000.parquet') as ManifestFile;
    const file = path.join(work, 'one.parquet');
    fs.writeFileSync(file, await object('lake/orders/region=EU/part-00000.parquet'));
    const meta = await duckRows(
      `SELECT count(DISTINCT row_group_id)::INT AS groups, max(row_group_num_rows)::INT AS m,
              list_distinct(list(compression))::VARCHAR AS codecs FROM parquet_metadata('${file}')`,
    );
    expect(meta[0]).toEqual({ groups: 3, m: 200, codecs: '[ZSTD]' });
    expect((await duckRows(`SELECT count(*)::INT AS n FROM read_parquet('${file}')`))[0]['n']).toBe(one.rows);
    const types = Object.fromEntries(
      (await duckRows(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).map((x) => [
        x['column_name'],
        x['column_type'],
      ]),
    );
    expect(types).toEqual({
      id: 'BIGINT',
      amount: 'DECIMAL(12,2)',
      at: 'TIMESTAMP WITH TIME ZONE',
      day: 'DATE',
      uid: 'UUID',
      payload: 'VARCHAR',
    });

    // every object together: the same rows as PostgreSQL's
    const dir = await download('lake/orders/');
    const want = (await pg.query(PG_FINGERPRINT)).rows[0];
    expect((await duckRows(duckFingerprint(`${dir}/**/*.parquet`)))[0]).toEqual(want);
  });

  it('a full export removes a vanished partition and earlier files; an incremental one adds only the new partition', async () => {
    await pg.query(`DELETE FROM raw.s3_orders WHERE region = 'APAC'`);
    await exportTo({ partitionBy: ['region'], maxRowsPerFile: 10_000 }).expect(201);
    expect(await keys('lake/orders/')).toEqual([
      'lake/orders/_manifest.json',
      'lake/orders/region=EU/part-00000.parquet',
      'lake/orders/region=US/part-00000.parquet',
    ]);

    await pg.query(insert(3001, 3300, `'LATAM'`));
    const r = await exportTo({ partitionBy: ['region'], incremental: true }).expect(201);
    expect(r.body).toMatchObject({ rows: 300, files: 1, skipped: 2 });
    expect(await keys('lake/orders/')).toEqual([
      'lake/orders/_manifest.json',
      'lake/orders/region=EU/part-00000.parquet',
      'lake/orders/region=LATAM/part-00000.parquet',
      'lake/orders/region=US/part-00000.parquet',
    ]);
    const manifest = JSON.parse((await object('lake/orders/_manifest.json')).toString('utf8'));
    const total = Number((await pg.query(`SELECT count(*)::int AS n FROM raw.s3_orders`)).rows[0].n);
    expect(manifest.rows).toBe(total);
    expect(manifest.files).toHaveLength(3);
    const dir = await download('lake/orders/');
    expect((await duckRows(duckFingerprint(`${dir}/**/*.parquet`)))[0]).toEqual(
      (await pg.query(PG_FINGERPRINT)).rows[0],
    );
  });

  it('an unpartitioned export to the bucket root writes part files and the manifest there', async () => {
    await exportTo({ target: `s3://${BUCKET}`, compression: 'snappy' }).expect(201);
    const root = (await keys('')).filter((k) => !k.startsWith('lake/'));
    expect(root).toEqual(['_manifest.json', 'part-00000.parquet']);
  });

  it('credentials are environment references: an unset variable is named, a wrong key refused without leaking it', async () => {
    const unset = await exportTo({ target: `s3://${BUCKET}/other`, s3: s3Options(KEY, `LAKE_UNSET_${tag}`) });
    expect(unset.status).toBe(503);
    expect(unset.body.code).toBe('CATALOG.EXPORT_TARGET_FAILED');
    expect(unset.body.detail).toContain(`LAKE_UNSET_${tag}`);

    for (const body of [{}, { partitionBy: ['region'] }]) {
      const wrong = await exportTo({ target: `s3://${BUCKET}/other`, s3: s3Options(WRONG), ...body });
      expect(wrong.body.detail).toContain('other');
      expect(wrong.status).toBe(503);
      expect(wrong.body.code).toBe('CATALOG.EXPORT_TARGET_FAILED');
      expect(JSON.stringify(wrong.body)).not.toContain('NOT-A-KEY');
    }
    expect(await keys('other/')).toEqual([]);
  });
});
