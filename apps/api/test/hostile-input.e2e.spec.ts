import { Client } from 'pg';
import { RunsService } from '@weir/ingestion';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, tempDataDir, until } from './support/files';

/** What a sweep of generated hostile requests answered with 500: each class is now a clear 4xx at the edge. */
describe('hostile input e2e: every class the first sweep found is refused with a clear 4xx', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let close: () => Promise<void>;
  const json = (method: 'post' | 'put' | 'patch', url: string, text: string) =>
    t.http[method](url).set(admin).set('Content-Type', 'application/json').send(text);
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

  beforeAll(async () => {
    ({ t, files, pg, close } = await startIngestionApp({ WEIR_ROLES: 'api,scheduler,worker' }));
    await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({
        name: 'orders',
        contract: {
          columns: [
            { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
            { name: 'amount', type: 'numeric(12,2)', nullable: true },
          ],
        },
      })
      .expect(201);
    await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({ name: 'orders_src', dataset: 'orders', format: 'csv', strategy: { kind: 'merge' } })
      .expect(201);
  });
  afterAll(() => close?.());

  it('a NUL character or a lone surrogate, in a body, a path or a query, is one global 400', async () => {
    for (const body of [
      '{"name":"a\\u0000b","role":"viewer"}',
      '{"name":"a\\ud800b","role":"viewer"}',
      '{"na\\u0000me":"x"}',
    ]) {
      const r = await json('post', '/api/platform/api-keys', body);
      expect([body, r.status, r.body.code]).toEqual([body, 400, 'PLATFORM.INVALID_STRING']);
    }
    expect((await t.http.get('/api/catalog/datasets/%00').set(admin).expect(400)).body.code).toBe(
      'PLATFORM.INVALID_STRING',
    );
    expect((await t.http.get('/api/catalog/datasets/%ED%A0%80').set(admin).expect(400)).body.code).toBe(
      'PLATFORM.INVALID_STRING',
    );
    expect((await t.http.get('/api/catalog/datasets?tag=%00').set(admin).expect(400)).body.code).toBe(
      'PLATFORM.INVALID_STRING',
    );
    const lineage = await json(
      'post',
      '/api/v1/lineage',
      JSON.stringify({
        eventTime: '2026-01-01T00:00:00Z',
        producer: 'https://x.io/\u0000',
        schemaURL: 'https://x.io/s',
        job: { namespace: 'n', name: 'j' },
      }),
    );
    expect([lineage.status, lineage.body.code]).toEqual([400, 'PLATFORM.INVALID_STRING']);
    expect((await pg.query(`SELECT count(*)::int AS n FROM platform.api_keys WHERE name LIKE 'a%b'`)).rows[0].n).toBe(
      0,
    );
  });

  it('JSON nested 10,000 levels deep is refused on every route with a body', async () => {
    for (const [m, url] of [
      ['post', '/api/catalog/datasets'],
      ['post', '/api/ingestion/sources'],
      ['post', '/api/quality/suites'],
      ['post', '/api/v1/lineage'],
      ['post', '/api/v1/lineage/batch'],
      ['patch', '/api/catalog/datasets/orders'],
      ['post', '/api/modeling/builds'],
    ] as const) {
      const r = await json(m, url, `{"a":${deep(10_000)}}`);
      expect([url, r.status, r.body.code]).toEqual([url, 400, 'PLATFORM.BODY_TOO_DEEP']);
    }
    await t.http.get('/health').expect(200);
  });

  it('page and offset beyond any integer are validation errors, not database errors', async () => {
    expect(
      (await t.http.get('/api/v1/events/lineage?offset=9223372036854775808').set(admin).expect(400)).body.code,
    ).toBe('PLATFORM.VALIDATION_FAILED');
    const run = '00000000-0000-4000-8000-000000000000';
    expect(
      (await t.http.get(`/api/ingestion/runs/${run}/dead-letters?page=99999999999999999999`).set(admin).expect(400))
        .body.code,
    ).toBe('PLATFORM.VALIDATION_FAILED');
  });

  it('a required nested object missing, or null where an object or string is expected, is a 400', async () => {
    const base = { name: 'x_src', dataset: 'orders', format: 'csv', strategy: { kind: 'append' } };
    for (const [what, body] of [
      ['no strategy', { ...base, strategy: undefined }],
      ['strategy null', { ...base, strategy: null }],
      ['location.path null', { ...base, location: { path: null } }],
      ['csv null', { ...base, csv: null }],
    ] as const) {
      const r = await t.http.post('/api/ingestion/sources').set(admin).send(body);
      expect([what, r.status, r.body.code]).toEqual([what, 400, 'PLATFORM.VALIDATION_FAILED']);
    }
    const tags = await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({ name: 'y', tags: null, contract: { columns: [{ name: 'id', type: 'text', nullable: true }] } });
    expect([tags.status, tags.body.code]).toEqual([400, 'PLATFORM.VALIDATION_FAILED']);
    const noContract = await t.http.post('/api/catalog/datasets').set(admin).send({ name: 'z' });
    expect([noContract.status, noContract.body.code]).toEqual([400, 'PLATFORM.VALIDATION_FAILED']);
    expect((await t.http.get('/api/ingestion/sources/x_src').set(admin)).status).toBe(404);
    // a GX suite import sent as text/plain: 415
    expect(
      (
        await t.http
          .post('/api/quality/suites/import?dataset=orders')
          .set(admin)
          .set('Content-Type', 'text/plain')
          .send('{"expectations":[]}')
          .expect(415)
      ).body.code,
    ).toBe('PLATFORM.UNSUPPORTED_MEDIA_TYPE');
  });

  it('a GX suite import with no body, or a body that is not an object, is a 400 (not a 500)', async () => {
    const none = await t.http.post('/api/quality/suites/import?dataset=orders&name=x').set(admin);
    expect([none.status, none.body.code]).toEqual([400, 'QUALITY.INVALID_SUITE']);
    const list = await json('post', '/api/quality/suites/import?dataset=orders&name=x', '[{"expectations":[]}]');
    expect([list.status, list.body.code]).toEqual([400, 'QUALITY.INVALID_SUITE']);
  });

  it('infer on garbage Parquet or on deeply nested JSON is a 400', async () => {
    files.write('garbage.parquet', Buffer.from('PAR1 this is not parquet at all PAR1'));
    expect((await t.http.post('/api/ingestion/infer?path=garbage.parquet').set(admin).expect(400)).body.code).toBe(
      'INGESTION.UNREADABLE_INPUT',
    );
    files.write('deep.ndjson', `{"a":${'{"b":'.repeat(5000)}1${'}'.repeat(5000)}}\n`);
    const d = await t.http.post('/api/ingestion/infer?path=deep.ndjson').set(admin);
    expect([d.status, d.body.code]).toEqual([400, 'INGESTION.UNREADABLE_INPUT']);
  });

  it('a cron that never fires within a year is refused (422) and nothing is stored; a stored one is disabled with its reason, never stopping a start', async () => {
    for (const cron of ['0 0 30 2 *', '0 0 31 4 *', '0 0 0 31 2 *']) {
      const r = await t.http
        .post('/api/ingestion/sources')
        .set(admin)
        .send({
          name: 'sched_src',
          dataset: 'orders',
          format: 'csv',
          strategy: { kind: 'append' },
          location: { inbox: 'in' },
          schedule: { cron },
        });
      expect([cron, r.status, r.body.code]).toEqual([cron, 422, 'INGESTION.INVALID_SCHEDULE']);
      expect(r.body.detail).toMatch(/never fires|does not fire within a year/);
    }
    expect((await t.http.get('/api/ingestion/sources/sched_src').set(admin)).status).toBe(404);
    // one stored by hand (or before the check existed): the scheduler disables it and says why
    await pg.query(
      `INSERT INTO ingestion.sources (name, dataset, format, location, strategy, drift, options, max_rejected_ratio, schedule) VALUES ('stored_bad', 'orders', 'csv', '{"inbox":"in"}', '{"kind":"append"}', 'freeze', '{}', 0, '{"cron":"0 0 30 2 *"}')`,
    );
    // the scheduler finds it on its next sync with the database (every 5 s), as it would at a start,
    // gives up arming it and records why on the source
    const s = await until('the schedule error on the source', async () => {
      const b = (await t.http.get('/api/ingestion/sources/stored_bad').set(admin).expect(200)).body;
      return b.scheduleError ? b : undefined;
    });
    expect(s.scheduleError).toMatch(/never fires/);
    await t.http.get('/health').expect(200);
    // changing the schedule arms it and clears the reason
    await t.http
      .patch('/api/ingestion/sources/stored_bad')
      .set(admin)
      .send({ schedule: { cron: '0 3 * * *' } })
      .expect(200);
    expect(
      (await t.http.get('/api/ingestion/sources/stored_bad').set(admin).expect(200)).body.scheduleError,
    ).toBeNull();
  });

  it('schedules that never fire, or fire more often than WEIR_MIN_SCHEDULE_INTERVAL_SECONDS (default 60), are refused with 422 at create and update', async () => {
    const pipeline = (schedule: unknown, extra: Record<string, unknown> = {}) => ({
      name: 'sched_pl',
      schedule,
      steps: [{ id: 'noop', kind: 'sql', sql: 'SELECT 1' }],
      ...extra,
    });
    const cases: [unknown, string, RegExp][] = [
      ['0 0 30 2 *', 'never_fires', /^schedule\.cron "0 0 30 2 \*" never fires/],
      [{ cron: '0 0 31 4 *', timezone: 'Europe/Paris' }, 'never_fires', /never fires/],
      [
        { cron: '* * * * * *' },
        'too_frequent',
        /fires every 1 s, more often than the minimum interval of 1 min \(WEIR_MIN_SCHEDULE_INTERVAL_SECONDS\)/,
      ],
      [{ cron: '*/30 * * * * *' }, 'too_frequent', /fires every 30 s, .*WEIR_MIN_SCHEDULE_INTERVAL_SECONDS/],
      [{ every: '5s' }, 'too_frequent', /^schedule\.every fires every 5 s, .*WEIR_MIN_SCHEDULE_INTERVAL_SECONDS/],
    ];
    for (const [schedule, reason, message] of cases) {
      const r = await t.http.post('/api/orchestration/pipelines').set(admin).send(pipeline(schedule));
      expect([schedule, r.status, r.headers['content-type'], r.body.code, r.body.reason]).toEqual([
        schedule,
        422,
        expect.stringMatching(/^application\/problem\+json/),
        'ORCHESTRATION.INVALID_SCHEDULE',
        reason,
      ]);
      expect(r.body.detail).toMatch(message);
    }
    expect((await t.http.get('/api/orchestration/pipelines/sched_pl').set(admin)).status).toBe(404);
    // with other problems, the schedule's is listed with them (400, every problem at once)
    const both = await t.http
      .post('/api/orchestration/pipelines')
      .set(admin)
      .send(pipeline('* * * * * *', { concurrency: 0 }));
    expect([both.status, both.body.code]).toEqual([400, 'ORCHESTRATION.INVALID_PIPELINE']);
    expect(both.body.problems).toEqual([
      expect.stringMatching(/^concurrency/),
      expect.stringMatching(/fires every 1 s/),
    ]);
    // every minute is the minimum: accepted; changing it to every second is refused, the stored version stays
    await t.http.post('/api/orchestration/pipelines').set(admin).send(pipeline('* * * * *')).expect(201);
    const put = await t.http.put('/api/orchestration/pipelines/sched_pl').set(admin).send(pipeline('*/5 * * * * *'));
    expect([put.status, put.body.code, put.body.reason]).toEqual([
      422,
      'ORCHESTRATION.INVALID_SCHEDULE',
      'too_frequent',
    ]);
    const kept = (await t.http.get('/api/orchestration/pipelines/sched_pl').set(admin).expect(200)).body;
    expect([kept.version, kept.spec.schedule.cron]).toEqual([1, '* * * * *']);
    await t.http.delete('/api/orchestration/pipelines/sched_pl?force=true').set(admin).expect(204);

    // a source's schedule the same way (its own code), at create and at change
    const src = {
      name: 'sched_often',
      dataset: 'orders',
      format: 'csv',
      strategy: { kind: 'append' },
      location: { inbox: 'in' },
    };
    const often = await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({ ...src, schedule: { cron: '*/10 * * * * *' } });
    expect([often.status, often.body.code, often.body.reason]).toEqual([
      422,
      'INGESTION.INVALID_SCHEDULE',
      'too_frequent',
    ]);
    expect(often.body.detail).toMatch(
      /fires every 10 s, more often than the minimum interval of 1 min \(WEIR_MIN_SCHEDULE_INTERVAL_SECONDS\)/,
    );
    await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({ ...src, schedule: { cron: '*/15 * * * *' } })
      .expect(201);
    const patch = await t.http
      .patch('/api/ingestion/sources/sched_often')
      .set(admin)
      .send({ schedule: { cron: '* * * * * *' } });
    expect([patch.status, patch.body.code, patch.body.reason]).toEqual([
      422,
      'INGESTION.INVALID_SCHEDULE',
      'too_frequent',
    ]);
    expect((await t.http.get('/api/ingestion/sources/sched_often').set(admin).expect(200)).body.schedule).toMatchObject(
      {
        cron: '*/15 * * * *',
      },
    );
    const never = await t.http
      .patch('/api/ingestion/sources/sched_often')
      .set(admin)
      .send({ schedule: { cron: '0 0 30 2 *' } });
    expect([never.status, never.body.reason]).toEqual([422, 'never_fires']);
    await t.http.delete('/api/ingestion/sources/sched_often').set(admin).expect(204);
  });

  it('a row_condition literal that does not fit its column is refused when the suite is saved; a failing warning never fails a load', async () => {
    const bad = await t.http
      .post('/api/quality/suites')
      .set(admin)
      .send({
        name: 'inf',
        dataset: 'orders',
        expectations: [
          {
            type: 'expect_column_values_to_not_be_null',
            kwargs: { column: 'id', row_condition: 'id > 1e999999' },
            severity: 'warn',
          },
        ],
      });
    expect([bad.status, bad.body.code]).toEqual([422, 'QUALITY.INVALID_ROW_CONDITION']);
    expect(bad.body.detail).toContain('1e999999');
    // a warning whose scan fails at run time (its column changed type after it was saved)
    await t.http
      .post('/api/quality/suites')
      .set(admin)
      .send({
        name: 'warn_only',
        dataset: 'orders',
        expectations: [
          {
            type: 'expect_column_values_to_not_be_null',
            kwargs: { column: 'id', row_condition: 'amount > 5' },
            severity: 'warn',
          },
          { type: 'expect_column_values_to_not_be_null', kwargs: { column: 'id' } },
        ],
      })
      .expect(201);
    await t.http
      .patch('/api/catalog/datasets/orders')
      .set(admin)
      .send({
        contract: {
          columns: [
            { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
            { name: 'amount', type: 'text', nullable: true },
          ],
        },
        allowBreaking: true,
      })
      .expect(200);
    files.write('o.csv', 'id,amount\n1,10\n2,x\n');
    const q = await t.http
      .post('/api/ingestion/sources/orders_src/runs')
      .set(admin)
      .send({ path: 'o.csv' })
      .expect(202);
    const run = await t.app.get(RunsService).waitFor(q.body.id, 30_000);
    expect([run.status, run.rowsLoaded, run.error]).toEqual(['succeeded', 2, null]);
  });

  it('a catastrophic pattern never blocks the event loop: /health answers within 100 ms while a hostile value is checked', async () => {
    await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({
        name: 'evil_pattern',
        contract: { columns: [{ name: 'v', type: 'text', nullable: false, pattern: '(a+)+$' }] },
      })
      .expect(201);
    const backref = await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({
        name: 'backref',
        contract: { columns: [{ name: 'v', type: 'text', nullable: false, pattern: '(a)\\1' }] },
      });
    expect([backref.status, backref.body.code, backref.body.detail]).toEqual([
      400,
      'CATALOG.INVALID_CONTRACT',
      expect.stringContaining('RE2'),
    ]);
    await t.http
      .post('/api/ingestion/sources')
      .set(admin)
      .send({
        name: 'evil_src',
        dataset: 'evil_pattern',
        format: 'csv',
        strategy: { kind: 'append' },
        maxRejectedRatio: 1,
      })
      .expect(201);
    const hostile = 'a'.repeat(50_000) + '!';
    files.write('evil.csv', `v\n${Array(20).fill(hostile).join('\n')}\naaa\n`);
    const q = await t.http
      .post('/api/ingestion/sources/evil_src/runs')
      .set(admin)
      .send({ path: 'evil.csv' })
      .expect(202);
    const latencies: number[] = [];
    const runs = t.app.get(RunsService);

    for (;;) {
      const t0 = Date.now();
      await t.http.get('/health').expect(200);
      latencies.push(Date.now() - t0);
      if ((await runs.get(q.body.id)).status !== 'queued' && (await runs.get(q.body.id)).status !== 'running') break;
    }
    const run = await runs.waitFor(q.body.id, 30_000);
    expect([run.status, run.rowsLoaded, run.rowsRejected]).toEqual(['succeeded', 1, 20]);
    expect(Math.max(...latencies)).toBeLessThan(100);
  });

  it('a hostile template is rendered off the event loop and bounded: the project is refused naming the model, /health answers throughout', async () => {
    const dir = require('node:path').join(files.dir, 'projects', 'loop');
    const fs = require('node:fs');
    fs.mkdirSync(require('node:path').join(dir, 'models'), { recursive: true });
    fs.writeFileSync(require('node:path').join(dir, 'dbt_project.yml'), 'name: loop\n');
    fs.writeFileSync(
      require('node:path').join(dir, 'models', 'spin.sql'),
      '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}select 1',
    );
    // a server of its own listening (supertest would start and stop one per request: a stop while
    // another request connects resets it), requests with fetch
    const server = t.app.getHttpServer() as import('node:http').Server;
    if (!server.listening) await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
    const registered = fetch(`${base}/api/modeling/projects`, {
      method: 'POST',
      headers: { ...admin, 'Content-Type': 'application/json' },
      body: JSON.stringify({ path: 'loop' }),
    });
    let done = false;
    void registered.then(() => (done = true));
    const latencies: number[] = [];
    while (!done) {
      const t0 = Date.now();
      expect((await fetch(`${base}/health`)).status).toBe(200);
      latencies.push(Date.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
    const res = await registered;
    const r = { status: res.status, body: (await res.json()) as { code: string; detail: string } };
    expect([r.status, r.body.code]).toEqual([400, 'MODELING.COMPILE_FAILED']);
    expect(r.body.detail).toMatch(/models\/spin\.sql.*more than 1000000 loop iterations/s);
    server.closeAllConnections();
    await new Promise<void>((r2) => server.close(() => r2()));
    expect(Math.max(...latencies)).toBeLessThan(100);
  });
});
