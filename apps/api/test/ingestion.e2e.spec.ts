import * as path from 'node:path';
import * as fs from 'node:fs';
import { Client } from 'pg';
import { gzipSync } from 'node:zlib';
import { RunsService } from '@weir/ingestion';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, tempDataDir } from './support/files';

const contract = {
  columns: [
    { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
    { name: 'status', type: 'text', nullable: false, allowed: ['new', 'paid', 'shipped'] },
    { name: 'amount', type: 'numeric(12,2)', nullable: true },
    { name: 'currency', type: 'text', nullable: true, pattern: '^[A-Z]{3}$', maxLength: 3 },
    { name: 'email', type: 'text', nullable: true, pii: true },
    { name: 'updated_at', type: 'timestamptz', nullable: false },
  ],
};

const HEADER = 'id,status,amount,currency,email,updated_at';

/** Every kind of bad row, plus good ones. */
const MIXED = [
  HEADER,
  '1,new,10.50,EUR,a@x.io,2026-01-01T00:00:00Z',
  '2,paid,"1,5",EUR,b@x.io,2026-01-01T00:00:00Z', // TYPE_MISMATCH amount
  ',new,1,EUR,c@x.io,2026-01-01T00:00:00Z', // NULL_IN_REQUIRED id
  '4,lost,1,EUR,d@x.io,2026-01-01T00:00:00Z', // NOT_ALLOWED
  '5,new,1,eur,e@x.io,2026-01-01T00:00:00Z', // PATTERN
  '6,new,1,EURO,f@x.io,2026-01-01T00:00:00Z', // TOO_LONG
  '7,new,1,EUR', // COLUMN_COUNT
  '8,shipped,"2.25",USD,"quoted, ""email""",2026-01-02 10:00:00+02', // good, quotes
  '9,new,3,GBP,"multi\nline",2026-01-03T00:00:00Z', // good, embedded newline
  '1,paid,99,EUR,dup@x.io,2026-01-04T00:00:00Z', // DUPLICATE_KEY_IN_BATCH (replace)
].join('\n');

describe('ingestion e2e: sources, runs, accounting, dead letters', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ t, files, pg, close } = await startIngestionApp());
    await t.http.post('/api/catalog/datasets').set(admin).send({ name: 'orders', contract }).expect(201);
  });
  afterAll(() => close?.());

  const waitRun = (id: string) => t.app.get(RunsService).waitFor(id, 60_000);
  const source = async (name: string, body: Record<string, unknown>) =>
    (
      await t.http
        .post('/api/ingestion/sources')
        .set(admin)
        .send({ name, dataset: 'orders', format: 'csv', ...body })
        .expect(201)
    ).body;

  it('replace: every row loaded, rejected with a reason, or deduplicated — and the counts prove it', async () => {
    files.write('mixed.csv', MIXED);
    const src = await source('orders_replace', {
      strategy: { kind: 'replace' },
      maxRejectedRatio: 0.9,
      location: { path: 'mixed.csv' },
    });
    const trig = await t.http.post(`/api/ingestion/sources/${src.id}/runs`).set(admin).send({}).expect(202);
    expect(trig.body.status).toBe('queued');
    const run = await waitRun(trig.body.id);
    expect(run).toMatchObject({
      status: 'succeeded',
      rowsRead: 10,
      rowsLoaded: 3,
      rowsRejected: 7,
      rowsDeduplicated: 0,
    });
    expect(run.rowsRead).toBe(run.rowsLoaded + run.rowsRejected + run.rowsDeduplicated);
    const rows = (await pg.query(`SELECT id::int, status, amount::text, email, updated_at FROM raw.orders ORDER BY id`))
      .rows;
    expect(rows.map((r) => r.id)).toEqual([1, 8, 9]);
    expect(rows[0]).toMatchObject({ status: 'new', amount: '10.50' });
    expect(rows[1].email).toBe('quoted, "email"');
    expect(rows[2].email).toBe('multi\nline');
    expect(new Date(rows[1].updated_at).toISOString()).toBe('2026-01-02T08:00:00.000Z');

    const dl = (await t.http.get(`/api/ingestion/runs/${run.id}/dead-letters`).set(admin).expect(200)).body;
    expect(dl.total).toBe(7);
    expect(dl.byReason).toEqual({
      TYPE_MISMATCH: 1,
      NULL_IN_REQUIRED: 1,
      NOT_ALLOWED: 1,
      PATTERN: 1,
      TOO_LONG: 1,
      COLUMN_COUNT: 1,
      DUPLICATE_KEY_IN_BATCH: 1,
    });
    const byReason = Object.fromEntries(dl.items.map((d: { reason: string }) => [d.reason, d]));
    expect(byReason.TYPE_MISMATCH).toMatchObject({ recordNumber: 2, column: 'amount', value: '1,5' });
    expect(byReason.DUPLICATE_KEY_IN_BATCH).toMatchObject({ recordNumber: 10, column: 'id', value: '1' });
    // an admin key sees PII in clear; a viewer (or editor) key gets it masked
    expect(byReason.NOT_ALLOWED.rawRecord).toMatchObject({ id: '4', status: 'lost', email: 'd@x.io' });
    const viewer = {
      Authorization: `Bearer ${(await t.http.post('/api/platform/api-keys').set(admin).send({ name: 'dl-viewer', role: 'viewer' }).expect(201)).body.key}`,
    };
    const masked = (await t.http.get(`/api/ingestion/runs/${run.id}/dead-letters`).set(viewer).expect(200)).body;
    const maskedByReason = Object.fromEntries(masked.items.map((d: { reason: string }) => [d.reason, d]));
    expect(maskedByReason.NOT_ALLOWED.rawRecord).toMatchObject({ id: '4', status: 'lost', email: '***' });
    const page = (
      await t.http.get(`/api/ingestion/runs/${run.id}/dead-letters?reason=PATTERN&pageSize=5`).set(admin).expect(200)
    ).body;
    expect(page.items).toHaveLength(1);
    const csv = await t.http.get(`/api/ingestion/runs/${run.id}/dead-letters.csv`).set(admin).expect(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.text.split('\r\n')[0]).toBe('record_number,reason,column,value,message,raw_record,raw_text');
    expect(csv.text).toContain('d@x.io');
    const maskedCsv = await t.http.get(`/api/ingestion/runs/${run.id}/dead-letters.csv`).set(viewer).expect(200);
    expect(maskedCsv.text).toContain('***');
    expect(maskedCsv.text).not.toContain('d@x.io');

    const ds = (await t.http.get('/api/catalog/datasets/orders').set(admin).expect(200)).body;
    expect(ds).toMatchObject({ rowCount: 3, lastLoad: { runId: run.id, rows: 3 } });
  });

  it('is idempotent: the same file again returns the existing run and loads nothing twice', async () => {
    const src = (await t.http.get('/api/ingestion/sources/orders_replace').set(admin).expect(200)).body;
    const again = await t.http.post(`/api/ingestion/sources/${src.id}/runs`).set(admin).send({}).expect(200);
    const runs = (await t.http.get(`/api/ingestion/runs?sourceId=${src.id}`).set(admin).expect(200)).body.items;
    expect(runs).toHaveLength(1);
    expect(again.body.id).toBe(runs[0].id);
    const keyed1 = await t.http
      .post(`/api/ingestion/sources/${src.id}/runs`)
      .set(admin)
      .send({ idempotencyKey: 'batch-42' })
      .expect(202);
    await waitRun(keyed1.body.id);
    const keyed2 = await t.http
      .post(`/api/ingestion/sources/${src.id}/runs`)
      .set(admin)
      .send({ idempotencyKey: 'batch-42' })
      .expect(200);
    expect(keyed2.body.id).toBe(keyed1.body.id);
  });

  it('fails without publishing when the rejected fraction is above maxRejectedRatio', async () => {
    const before = (await pg.query(`SELECT count(*)::int AS n FROM raw.orders`)).rows[0].n;
    const src = await source('orders_strict', { strategy: { kind: 'replace' }, location: { path: 'mixed.csv' } });
    const r = await t.http.post(`/api/ingestion/sources/${src.id}/runs`).set(admin).send({}).expect(202);
    const run = await waitRun(r.body.id);
    expect(run).toMatchObject({
      status: 'failed',
      rowsRead: 10,
      rowsRejected: 7,
      error: { code: 'INGESTION.TOO_MANY_REJECTED' },
    });
    expect((await pg.query(`SELECT count(*)::int AS n FROM raw.orders`)).rows[0].n).toBe(before);
    expect(
      (await pg.query(`SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE '__weir_stage%'`)).rows[0].n,
    ).toBe(0);
  });

  it('merge: upserts on the key; duplicates in one input keep the last by orderBy, counted as deduplicated', async () => {
    files.write(
      'merge.csv',
      [
        HEADER,
        '1,paid,11,EUR,,2026-02-01T00:00:00Z',
        '100,new,1,EUR,,2026-02-01T00:00:00Z',
        '100,paid,2,EUR,,2026-02-03T00:00:00Z',
        '100,shipped,3,EUR,,2026-02-02T00:00:00Z',
      ].join('\r\n') + '\r\n',
    );
    const src = await source('orders_merge', {
      strategy: { kind: 'merge', orderBy: 'updated_at' },
      location: { path: 'merge.csv' },
    });
    const run = await waitRun(
      (await t.http.post(`/api/ingestion/sources/${src.id}/runs`).set(admin).send({}).expect(202)).body.id,
    );
    expect(run).toMatchObject({
      status: 'succeeded',
      rowsRead: 4,
      rowsLoaded: 2,
      rowsRejected: 0,
      rowsDeduplicated: 2,
    });
    const rows = (
      await pg.query(`SELECT id::int, status, amount::text FROM raw.orders WHERE id IN (1, 100) ORDER BY id`)
    ).rows;
    expect(rows).toEqual([
      { id: 1, status: 'paid', amount: '11.00' },
      { id: 100, status: 'paid', amount: '2.00' },
    ]);
  });

  it('append: keys already in the target are rejected as DUPLICATE_KEY', async () => {
    files.write(
      'append.csv',
      [HEADER, '100,new,5,EUR,,2026-03-01T00:00:00Z', '200,new,5,EUR,,2026-03-01T00:00:00Z'].join('\n'),
    );
    const src = await source('orders_append', {
      strategy: { kind: 'append' },
      location: { path: 'append.csv' },
      maxRejectedRatio: 0.5,
    });
    const run = await waitRun(
      (await t.http.post(`/api/ingestion/sources/${src.id}/runs`).set(admin).send({}).expect(202)).body.id,
    );
    expect(run).toMatchObject({ status: 'succeeded', rowsRead: 2, rowsLoaded: 1, rowsRejected: 1 });
    expect((await t.http.get(`/api/ingestion/runs/${run.id}/dead-letters`).set(admin)).body.byReason).toEqual({
      DUPLICATE_KEY: 1,
    });
  });

  it('incremental: only rows above the watermark minus lookback; the watermark advances with the data', async () => {
    const src = await source('orders_incr', {
      strategy: { kind: 'incremental', cursor: 'updated_at', lookback: '1 day' },
    });
    files.write(
      'incr1.csv',
      [HEADER, '300,new,1,EUR,,2026-04-01T00:00:00Z', '301,new,1,EUR,,2026-04-05T00:00:00Z'].join('\n'),
    );
    const r1 = await waitRun(
      (await t.http.post(`/api/ingestion/sources/${src.id}/runs`).set(admin).send({ path: 'incr1.csv' }).expect(202))
        .body.id,
    );
    expect(r1).toMatchObject({ status: 'succeeded', rowsLoaded: 2, watermarkBefore: null });
    expect(new Date(r1.watermarkAfter!).toISOString()).toBe('2026-04-05T00:00:00.000Z');
    files.write(
      'incr2.csv',
      [
        HEADER,
        '300,paid,9,EUR,,2026-04-01T00:00:00Z',
        '301,paid,9,EUR,,2026-04-04T12:00:00Z',
        '302,new,1,EUR,,2026-04-06T00:00:00Z',
      ].join('\n'),
    );
    const r2 = await waitRun(
      (await t.http.post(`/api/ingestion/sources/${src.id}/runs`).set(admin).send({ path: 'incr2.csv' }).expect(202))
        .body.id,
    );
    // 300 is below watermark - 1 day (skipped, deduplicated); 301 is inside the lookback (re-read, upserted); 302 is new
    expect(r2).toMatchObject({ status: 'succeeded', rowsRead: 3, rowsLoaded: 2, rowsDeduplicated: 1 });
    expect(new Date(r2.watermarkAfter!).toISOString()).toBe('2026-04-06T00:00:00.000Z');
    const rows = (await pg.query(`SELECT id::int, status FROM raw.orders WHERE id >= 300 ORDER BY id`)).rows;
    expect(rows).toEqual([
      { id: 300, status: 'new' },
      { id: 301, status: 'paid' },
      { id: 302, status: 'new' },
    ]);
    expect((await t.http.get(`/api/ingestion/sources/${src.id}`).set(admin)).body.watermark).toBeTruthy();
  });

  it('drift policies: freeze rejects, discard_columns drops and counts, evolve adds a recorded nullable column', async () => {
    await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({
        name: 'people',
        contract: {
          columns: [
            { name: 'id', type: 'integer', nullable: false, primaryKey: true },
            { name: 'name', type: 'text', nullable: true },
          ],
        },
      })
      .expect(201);
    files.write('people.csv', 'id,name,Nick Name\n1,Ann,annie\n2,Bob,bobby\n');
    const mk = (name: string, drift: string) =>
      t.http
        .post('/api/ingestion/sources')
        .set(admin)
        .send({
          name,
          dataset: 'people',
          format: 'csv',
          drift,
          strategy: { kind: 'replace' },
          location: { path: 'people.csv' },
          maxRejectedRatio: 1,
        })
        .expect(201);
    const freeze = (await mk('people_freeze', 'freeze')).body;
    const f = await waitRun(
      (
        await t.http
          .post(`/api/ingestion/sources/${freeze.id}/runs`)
          .set(admin)
          .send({ idempotencyKey: 'f' })
          .expect(202)
      ).body.id,
    );
    expect(f).toMatchObject({
      status: 'failed',
      rowsRead: 2,
      rowsRejected: 2,
      error: { code: 'INGESTION.NOTHING_TO_PUBLISH' },
    });
    expect((await t.http.get(`/api/ingestion/runs/${f.id}/dead-letters`).set(admin)).body).toMatchObject({
      total: 2,
      byReason: { SCHEMA_DRIFT: 2 },
    });

    const discard = (await mk('people_discard', 'discard_columns')).body;
    const d = await waitRun(
      (
        await t.http
          .post(`/api/ingestion/sources/${discard.id}/runs`)
          .set(admin)
          .send({ idempotencyKey: 'd' })
          .expect(202)
      ).body.id,
    );
    expect(d).toMatchObject({ status: 'succeeded', rowsLoaded: 2, columnsDiscarded: { 'Nick Name': 2 } });

    const evolve = (await mk('people_evolve', 'evolve')).body;
    const e = await waitRun(
      (
        await t.http
          .post(`/api/ingestion/sources/${evolve.id}/runs`)
          .set(admin)
          .send({ idempotencyKey: 'e' })
          .expect(202)
      ).body.id,
    );
    expect(e).toMatchObject({ status: 'succeeded', rowsLoaded: 2 });
    expect((await pg.query(`SELECT id, name, nick_name FROM raw.people ORDER BY id`)).rows).toEqual([
      { id: 1, name: 'Ann', nick_name: 'annie' },
      { id: 2, name: 'Bob', nick_name: 'bobby' },
    ]);
    const people = (await t.http.get('/api/catalog/datasets/people').set(admin)).body;
    expect(people.versions[0]).toMatchObject({ version: 2, kind: 'additive', changedBy: 'drift:evolve:people_evolve' });
  });

  it('upload (raw gzip body and multipart), then replay dead letters after a contract fix', async () => {
    const src = await source('orders_upload', { strategy: { kind: 'merge' }, maxRejectedRatio: 1 });
    const body = gzipSync(
      Buffer.from(
        [HEADER, '500,new,1,EUR,,2026-05-01T00:00:00Z', '501,refunded,1,EUR,,2026-05-01T00:00:00Z'].join('\n'),
      ),
    );
    const up = await t.http
      .post(`/api/ingestion/sources/${src.id}/uploads`)
      .set(admin)
      .set('Content-Type', 'application/gzip')
      .send(body)
      .expect(202);
    const run = await waitRun(up.body.id);
    expect(run).toMatchObject({ status: 'succeeded', trigger: 'upload', rowsRead: 2, rowsLoaded: 1, rowsRejected: 1 });
    const multi = await t.http
      .post(`/api/ingestion/sources/${src.id}/uploads`)
      .set(admin)
      .attach('file', Buffer.from([HEADER, '502,new,1,EUR,,2026-05-01T00:00:00Z'].join('\n')), 'more.csv')
      .expect(202);
    expect((await waitRun(multi.body.id)).rowsLoaded).toBe(1);
    // a multipart body cut off inside the file part: 400, and nothing kept
    // (files of ended runs may be removed meanwhile: what counts is that no new file stays)
    const uploads = () =>
      fs.existsSync(path.join(files.dir, 'uploads')) ? fs.readdirSync(path.join(files.dir, 'uploads')) : [];
    const before = new Set(uploads());
    const cut = await t.http
      .post(`/api/ingestion/sources/${src.id}/uploads`)
      .set(admin)
      .set('Content-Type', 'multipart/form-data; boundary=XyZ')
      .send('--XyZ\r\nContent-Disposition: form-data; name="file"; filename="cut.csv"\r\n\r\nid,sta')
      .expect(400);
    expect(cut.body.code).toBe('INGESTION.BAD_UPLOAD');
    expect(uploads().filter((f) => !before.has(f))).toEqual([]);

    const fixed = {
      columns: contract.columns.map((c) => (c.name === 'status' ? { ...c, allowed: [...c.allowed!, 'refunded'] } : c)),
    };
    await t.http.patch('/api/catalog/datasets/orders').set(admin).send({ contract: fixed }).expect(200);
    const replay = await t.http.post(`/api/ingestion/runs/${run.id}/replay`).set(admin).expect(202);
    const rr = await waitRun(replay.body.id);
    expect(rr).toMatchObject({ status: 'succeeded', trigger: 'replay', rowsRead: 1, rowsLoaded: 1, rowsRejected: 0 });
    expect((await pg.query(`SELECT status FROM raw.orders WHERE id = 501`)).rows).toEqual([{ status: 'refunded' }]);
    await t.http.post(`/api/ingestion/runs/${run.id}/replay`).set(admin).expect(200);
  });

  it('exposes row counters and run durations by source in /metrics (orders_replace ran twice: 2 × 10 read, 2 × 7 rejected)', async () => {
    const text = (await t.http.get('/metrics').set(admin).expect(200)).text;
    expect(text).toMatch(/weir_ingest_rows_read_total\{source="orders_replace"\} 20\b/);
    expect(text).toMatch(/weir_ingest_rows_rejected_total\{source="orders_replace"\} 14\b/);
    expect(text).toMatch(/weir_ingest_rows_deduplicated_total\{source="orders_merge"\} 2\b/);
    expect(text).toMatch(/weir_ingest_runs_total\{source="orders_strict",status="failed"\} 1\b/);
    expect(text).toMatch(/weir_ingest_run_duration_seconds_count\{source="orders_replace"\} \d+/);
  });

  it('PATCH changes a source; DELETE with force removes it with its runs', async () => {
    const patched = await t.http
      .patch('/api/ingestion/sources/orders_strict')
      .set(admin)
      .send({ maxRejectedRatio: 0.9, drift: 'discard_columns' })
      .expect(200);
    expect(patched.body).toMatchObject({ maxRejectedRatio: 0.9, drift: 'discard_columns' });
    expect(
      (
        await t.http
          .patch('/api/ingestion/sources/orders_strict')
          .set(admin)
          .send({ strategy: { kind: 'incremental' } })
          .expect(400)
      ).body.code,
    ).toBe('INGESTION.INVALID_SOURCE');
    // deleted softly: gone by name, its finished runs stay readable by the source's id
    const strict = (await t.http.get('/api/ingestion/sources/orders_strict').set(admin).expect(200)).body;
    const before = (await t.http.get(`/api/ingestion/runs?sourceId=${strict.id}`).set(admin).expect(200)).body.items;
    expect(before.length).toBeGreaterThan(0);
    await t.http.delete('/api/ingestion/sources/orders_strict').set(admin).expect(204);
    await t.http.get('/api/ingestion/sources/orders_strict').set(admin).expect(404);
    expect((await t.http.get(`/api/ingestion/runs?sourceId=${strict.id}`).set(admin).expect(200)).body.items).toEqual(
      before,
    );
  });

  it('refuses paths outside the ingest root and invalid sources with clear problems', async () => {
    const src = (await t.http.get('/api/ingestion/sources/orders_merge').set(admin)).body;
    expect(
      (
        await t.http
          .post(`/api/ingestion/sources/${src.id}/runs`)
          .set(admin)
          .send({ path: '../../etc/passwd' })
          .expect(400)
      ).body.code,
    ).toBe('INGESTION.PATH_OUTSIDE_ROOT');
    require('node:fs').symlinkSync('/etc/hostname', `${files.inbox}/link.csv`);
    expect(
      (await t.http.post(`/api/ingestion/sources/${src.id}/runs`).set(admin).send({ path: 'link.csv' }).expect(400))
        .body.code,
    ).toBe('INGESTION.PATH_OUTSIDE_ROOT');
    expect(
      (await t.http.post(`/api/ingestion/sources/${src.id}/runs`).set(admin).send({ path: 'nope.csv' }).expect(404))
        .body.code,
    ).toBe('INGESTION.FILE_NOT_FOUND');
    const bad = await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({
        name: 'bad_src',
        dataset: 'orders',
        format: 'csv',
        strategy: { kind: 'incremental', orderBy: 'nope' },
        csv: { delimiter: ';;' },
        schedule: { cron: 'every minute' },
      })
      .expect(400);
    expect(bad.body.code).toBe('INGESTION.INVALID_SOURCE');
    expect(bad.body.errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/needs strategy.cursor/),
        expect.stringMatching(/orderBy "nope"/),
        expect.stringMatching(/csv.delimiter/),
        expect.stringMatching(/schedule.cron/),
      ]),
    );
  });
});
