import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import request from 'supertest';
import { Client } from 'pg';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, tempDataDir } from './support/files';

/** A tar (gzip-compressed unless `gzip` is false) of the entries, built with tar-stream's packer. */
async function tarball(entries: { name: string; body: string | Buffer }[], gzip = true): Promise<Buffer> {
  const p = pack();
  for (const e of entries) p.entry({ name: e.name }, e.body);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  const tar = Buffer.concat(chunks);
  return gzip ? gzipSync(tar) : tar;
}

/** The answer is problem+json with this status and code; returns its body. */
function problem(res: request.Response, status: number, code: string): Record<string, unknown> {
  expect({ status: res.status, body: res.body }).toMatchObject({ status, body: { code } });
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(body).toMatchObject({ type: `urn:weir:problem:${code}`, status, code });
  return body;
}

const people = {
  name: 'people',
  contract: {
    columns: [
      { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
      { name: 'email', type: 'text', nullable: true, pii: true },
    ],
  },
};

// a bound every real statement of these tests stays far below, and pg_sleep(10) far above
const TIMEOUT_MS = 1000;

describe('limits e2e: body, upload, preview rows, quality samples, project archives, request statement timeout', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ t, files, pg, close } = await startIngestionApp({
      WEIR_BODY_MAX_BYTES: '4096',
      WEIR_UPLOAD_MAX_BYTES: '1000',
      WEIR_PREVIEW_MAX_ROWS: '5',
      WEIR_QUALITY_SAMPLE_MAX: '3',
      WEIR_PROJECT_ARCHIVE_MAX_EXTRACTED_BYTES: '65536',
      WEIR_PROJECT_ARCHIVE_MAX_FILES: '20',
      WEIR_REQUEST_STATEMENT_TIMEOUT_MS: String(TIMEOUT_MS),
    }));
    await pg.query(`CREATE SCHEMA IF NOT EXISTS raw`);
    await pg.query(`CREATE TABLE raw.people (id bigint PRIMARY KEY, email text)`);
    await pg.query(`INSERT INTO raw.people SELECT i, 'user' || i || '@x.io' FROM generate_series(1, 10) i`);
    // a relation whose every read outlasts the request's bound by far
    await pg.query(`CREATE VIEW raw.slow AS SELECT 1::bigint AS id, pg_sleep(10)::text AS s`);
    await t.http.post('/api/catalog/datasets').set(admin).send(people).expect(201);
    await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({
        name: 'slow',
        contract: {
          columns: [
            { name: 'id', type: 'bigint', nullable: false },
            { name: 's', type: 'text' },
          ],
        },
      })
      .expect(201);
  });
  afterAll(() => close?.());

  it('refuses a JSON body over WEIR_BODY_MAX_BYTES with 413, naming the limit and the setting', async () => {
    const big = { ...people, name: 'big', description: 'x'.repeat(5000) };
    const body = problem(
      await t.http.post('/api/catalog/datasets').set(admin).set('Content-Type', 'application/json').send(big),
      413,
      'PLATFORM.PAYLOAD_TOO_LARGE',
    );
    expect(body).toMatchObject({ limitBytes: 4096, setting: 'WEIR_BODY_MAX_BYTES' });
    expect(body['detail']).toBe(
      'The request body is larger than 4 KiB, the most WEIR_BODY_MAX_BYTES allows (4096 bytes)',
    );
    await t.http.get('/api/catalog/datasets/big').set(admin).expect(404);
    // under the limit: accepted
    await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({ ...big, description: 'x'.repeat(1000) })
      .expect(201);
  });

  it('refuses an upload over WEIR_UPLOAD_MAX_BYTES with 413, naming the limit and the setting', async () => {
    const src = (
      await t.http
        .post('/api/ingestion/sources')
        .set(admin)
        .send({ name: 'people_src', dataset: 'people', format: 'csv', strategy: { kind: 'merge' } })
        .expect(201)
    ).body;
    const body = problem(
      await t.http
        .post(`/api/ingestion/sources/${src.id}/uploads`)
        .set(admin)
        .set('Content-Type', 'text/csv')
        .send('id,email\n' + '1,a@x.io\n'.repeat(500)),
      413,
      'INGESTION.UPLOAD_TOO_LARGE',
    );
    expect(body).toMatchObject({ limitBytes: 1000, setting: 'WEIR_UPLOAD_MAX_BYTES' });
    expect(fs.readdirSync(path.join(files.dir, 'uploads'))).toEqual([]);
  });

  it('previews at most WEIR_PREVIEW_MAX_ROWS rows: a larger limit is refused, never cut', async () => {
    const five = (await t.http.get('/api/catalog/datasets/people/preview?limit=5').set(admin).expect(200)).body;
    expect(five.rows).toHaveLength(5);
    // no limit: the default 20, lowered to the maximum
    expect((await t.http.get('/api/catalog/datasets/people/preview').set(admin).expect(200)).body.rows).toHaveLength(5);
    const body = problem(
      await t.http.get('/api/catalog/datasets/people/preview?limit=6').set(admin),
      400,
      'CATALOG.PREVIEW_LIMIT_TOO_LARGE',
    );
    expect(body).toMatchObject({ limit: 6, maxRows: 5, setting: 'WEIR_PREVIEW_MAX_ROWS' });
    expect(body['detail']).toMatch(/WEIR_PREVIEW_MAX_ROWS/);
    problem(
      await t.http.get('/api/catalog/datasets/people/preview?limit=0').set(admin),
      400,
      'PLATFORM.VALIDATION_FAILED',
    );
    // the maximum is announced in the OpenAPI description of the parameter
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    const param = doc.paths['/api/catalog/datasets/{name}/preview'].get.parameters.find(
      (p: { name: string }) => p.name === 'limit',
    );
    expect(param.description).toMatch(/WEIR_PREVIEW_MAX_ROWS/);
  });

  it('keeps at most WEIR_QUALITY_SAMPLE_MAX unexpected values per check, whatever the result format asks', async () => {
    const suite = (
      await t.http
        .post('/api/quality/suites')
        .set(admin)
        .send({
          name: 'people_samples',
          dataset: 'people',
          expectations: [
            { type: 'expect_column_values_to_match_regex', kwargs: { column: 'email', regex: '^z' } },
            {
              type: 'expect_column_values_to_be_between',
              kwargs: {
                column: 'id',
                min_value: 100,
                result_format: { result_format: 'COMPLETE', partial_unexpected_count: 50 },
              },
            },
          ],
        })
        .expect(201)
    ).body;
    const run = (await t.http.post(`/api/quality/suites/${suite.id}/runs`).set(admin).send({}).expect(201)).body;
    expect(run.results.map((r: { unexpectedCount: number }) => r.unexpectedCount)).toEqual([10, 10]);
    expect(run.results[0].sampleUnexpected).toEqual(['***', '***', '***']); // PII, masked
    expect(run.results[1].sampleUnexpected).toEqual([1, 2, 3]);
    // the stored evidence of the COMPLETE check: its full list cut too, and said to be cut
    const stored = (
      await pg.query(`SELECT evidence FROM quality.results WHERE run_id = $1 AND expectation_index = 1`, [run.id])
    ).rows[0].evidence;
    expect(stored).toMatchObject({
      unexpected_count: 10,
      unexpected_list: [1, 2, 3],
      partial_unexpected_list: [1, 2, 3],
      details: { unexpected_list_limit: 3 },
    });
  });

  it('refuses archive bombs: inflating or extracting past the limit (413), too many files (422); nothing is left', async () => {
    const send = (archive: Buffer) =>
      t.http.post('/api/modeling/projects').set(admin).set('Content-Type', 'application/gzip').send(archive);
    // 64 MiB of zeros: about 64 KiB on the wire
    const bomb = await tarball([
      { name: 'dbt_project.yml', body: 'name: bomb\n' },
      { name: 'seeds/zeros.csv', body: Buffer.alloc(64 * 1024 * 1024) },
    ]);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expect(problem(await send(bomb), 413, 'MODELING.ARCHIVE_EXTRACTS_TOO_LARGE')).toMatchObject({
      limitBytes: 65536,
      setting: 'WEIR_PROJECT_ARCHIVE_MAX_EXTRACTED_BYTES',
    });
    // the same files, uncompressed past the limit one by one
    const big = await tarball(
      [
        { name: 'dbt_project.yml', body: 'name: big\n' },
        { name: 'seeds/a.csv', body: Buffer.alloc(40_000, 97) },
        { name: 'seeds/b.csv', body: Buffer.alloc(40_000, 98) },
      ],
      false,
    );
    problem(await send(big), 413, 'MODELING.ARCHIVE_EXTRACTS_TOO_LARGE');
    const many = await tarball([
      { name: 'dbt_project.yml', body: 'name: many\n' },
      ...Array.from({ length: 25 }, (_, i) => ({ name: `models/m${i}.sql`, body: 'select 1' })),
    ]);
    expect(problem(await send(many), 422, 'MODELING.ARCHIVE_TOO_MANY_FILES')).toMatchObject({
      limit: 20,
      setting: 'WEIR_PROJECT_ARCHIVE_MAX_FILES',
    });
    expect(fs.readdirSync(path.join(files.dir, 'projects', '.uploads'))).toEqual([]);
    expect((await t.http.get('/api/modeling/projects').set(admin).expect(200)).body.items).toEqual([]);
  });

  it('cancels a request’s warehouse statement past WEIR_REQUEST_STATEMENT_TIMEOUT_MS: 503 with its code, and the API still answers', async () => {
    const t0 = Date.now();
    const body = problem(
      await t.http.get('/api/catalog/datasets/slow/preview').set(admin),
      503,
      'PLATFORM.STATEMENT_TIMEOUT',
    );
    expect(Date.now() - t0).toBeLessThan(9000); // well before the view's 10 s
    expect(body).toMatchObject({ timeoutMs: TIMEOUT_MS, setting: 'WEIR_REQUEST_STATEMENT_TIMEOUT_MS' });
    expect(body['detail']).toMatch(/WEIR_REQUEST_STATEMENT_TIMEOUT_MS/);
    expect(body['errorId']).toBeUndefined();
    // cancelled in the database, not only abandoned by the API
    expect(
      (
        await pg.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = current_database()`,
        )
      ).rows[0].n,
    ).toBe(0);

    // a suite run asked for over HTTP is bounded too; no run is recorded
    const suite = (
      await t.http
        .post('/api/quality/suites')
        .set(admin)
        .send({
          name: 'slow_checks',
          dataset: 'slow',
          expectations: [{ type: 'expect_column_values_to_not_be_null', kwargs: { column: 'id' } }],
        })
        .expect(201)
    ).body;
    problem(
      await t.http.post(`/api/quality/suites/${suite.id}/runs`).set(admin).send({}),
      503,
      'PLATFORM.STATEMENT_TIMEOUT',
    );
    expect((await t.http.get(`/api/quality/runs?suite=${suite.id}`).set(admin).expect(200)).body.items).toEqual([]);

    // an export asked for over HTTP: its read is bounded too (a pipeline's export step is not)
    problem(
      await t.http.post('/api/catalog/datasets/slow/exports').set(admin).send({ target: 'lake/slow' }),
      503,
      'PLATFORM.STATEMENT_TIMEOUT',
    );

    // the dataset's page: the exact count gives up at the bound and the estimate is shown
    expect((await t.http.get('/api/catalog/datasets/slow').set(admin).expect(200)).body).toMatchObject({
      tableExists: true,
      rowCountExact: false,
    });

    // and the API, its pool and the warehouse answer as before
    await t.http.get('/health').expect(200);
    for (let i = 0; i < 12; i++)
      expect(
        (await t.http.get('/api/catalog/datasets/people/preview?limit=2').set(admin).expect(200)).body.rows,
      ).toHaveLength(2);
    expect((await t.http.get('/api/catalog/datasets/people').set(admin).expect(200)).body).toMatchObject({
      rowCount: 10,
      rowCountExact: true,
    });
  });
});
