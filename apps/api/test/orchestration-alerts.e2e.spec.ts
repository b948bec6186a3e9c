import type { AddressInfo } from 'node:net';
import { createServer, Server } from 'node:http';
import { Client } from 'pg';
import { SchedulerService, SlaService } from '@weir/orchestration';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, until } from './support/files';

interface Received {
  path: string;
  body: Record<string, any>;
}

/**
 * Alerts and SLAs on the real app, with a local webhook receiver: destinations over REST (URL
 * masked), a failing step's retries_exhausted and run_failed alerts in both formats, a receiver
 * answering 500 then 200 (each attempt recorded), an SLA miss recorded and alerted once while its
 * run is still going, and a failed quality suite's alert through the same destinations.
 */
describe('orchestration alerts and SLAs e2e', () => {
  let t: TestApp;
  let pg: Client;
  let close: () => Promise<void>;
  let server: Server;
  let base: string;
  const received: Received[] = [];
  let flakyHits = 0;
  const at = (path: string, type?: string) =>
    received.filter((r) => r.path === path && (type === undefined || (r.body.type ?? r.body.text) === type));

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const path = (req.url ?? '').split('?')[0]!.replace(/\/secret-[a-z0-9]+$/, '');
        if (path === '/flaky' && ++flakyHits === 1) {
          res.statusCode = 500;
          res.end('try later');
          return;
        }
        received.push({ path, body: JSON.parse(body) });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    ({ t, pg, close } = await startIngestionApp({
      WEIR_STEP_POLL_MS: '50',
      WEIR_SCHEDULER_TICK_MS: '100',
      WEIR_ALERT_RETRY_BASE_MS: '50',
    }));
    await pg.query(`CREATE SCHEMA IF NOT EXISTS mart; GRANT USAGE, CREATE ON SCHEMA mart TO weir_writer`);
  });
  afterAll(async () => {
    await close?.();
    server?.closeAllConnections();
    server?.close();
  });

  it('manages destinations: validated, names unique, URL masked in every answer, a test alert on demand', async () => {
    const json = await t.http
      .post('/api/orchestration/alert-destinations')
      .set(admin)
      .send({ name: 'ops_json', url: `${base}/json/secret-abc123`, format: 'json' })
      .expect(201);
    expect(json.body).toMatchObject({
      name: 'ops_json',
      url: `${base}/…`,
      format: 'json',
      events: ['run_failed', 'retries_exhausted', 'sla_missed', 'quality_failed', 'quality_warned'],
      pipelines: null,
    });
    expect(JSON.stringify(json.body)).not.toContain('secret');
    await t.http
      .post('/api/orchestration/alert-destinations')
      .set(admin)
      .send({ name: 'ops_slack', url: `${base}/slack`, format: 'slack', events: ['run_failed', 'retries_exhausted'] })
      .expect(201);
    const dup = await t.http
      .post('/api/orchestration/alert-destinations')
      .set(admin)
      .send({ name: 'ops_json', url: `${base}/other` })
      .expect(409);
    expect(dup.body.code).toBe('ORCHESTRATION.ALERT_DESTINATION_EXISTS');
    const bad = await t.http
      .post('/api/orchestration/alert-destinations')
      .set(admin)
      .send({ name: 'x', url: 'mailto:a@b.c', format: 'teams', events: ['everything'] })
      .expect(400);
    expect(bad.body.code).toBe('ORCHESTRATION.INVALID_ALERT_DESTINATION');
    expect(bad.body.problems).toHaveLength(3);
    const missing = await t.http.get('/api/orchestration/alert-destinations/nope').set(admin).expect(404);
    expect(missing.body.code).toBe('ORCHESTRATION.ALERT_DESTINATION_NOT_FOUND');
    const list = (await t.http.get('/api/orchestration/alert-destinations').set(admin).expect(200)).body.items;
    expect(list.map((d: { name: string }) => d.name)).toEqual(['ops_json', 'ops_slack']);

    const test = (await t.http.post('/api/orchestration/alert-destinations/ops_json/test').set(admin).expect(200)).body;
    expect(test).toMatchObject({ destination: 'ops_json', type: 'test', status: 'delivered', responseStatus: 200 });
    expect(at('/json', 'test')).toHaveLength(1);
    expect(at('/json', 'test')[0]!.body).toMatchObject({ version: 1, type: 'test', pipeline: null });
  });

  it('retries a delivery with backoff when the receiver answers 500, recording every attempt', async () => {
    await t.http
      .post('/api/orchestration/alert-destinations')
      .set(admin)
      // a filter naming no real pipeline: only its test alert reaches it
      .send({ name: 'flaky', url: `${base}/flaky`, format: 'slack', pipelines: ['nobody'] })
      .expect(201);
    const first = (await t.http.post('/api/orchestration/alert-destinations/flaky/test').set(admin).expect(200)).body;
    expect(first).toMatchObject({ status: 'pending', attempts: 1, responseStatus: 500 });
    expect(first.lastError).toMatch(/^HTTP 500: try later/);
    const done = await until('the retried delivery', async () => {
      const items = (await t.http.get('/api/orchestration/alert-deliveries?destination=flaky').set(admin).expect(200))
        .body.items;
      return items.find((d: { id: string; status: string }) => d.id === first.id && d.status === 'delivered');
    });
    expect(done.attempts).toBe(2);
    expect(done.attemptLog.map((a: { attempt: number; status: number }) => [a.attempt, a.status])).toEqual([
      [1, 500],
      [2, 200],
    ]);
    expect(at('/flaky')).toHaveLength(1);
    expect(at('/flaky')[0]!.body).toMatchObject({ text: expect.stringMatching(/Test alert from Weir/) });
  });

  it("a delivery a process recorded but never posted (it died) is posted by the workers' poll", async () => {
    await pg.query(
      `INSERT INTO orchestration.alert_deliveries (destination_id, alert_type, dedupe_key, payload, max_attempts, attempts)
       SELECT id, 'test', 'left-over', '{"type": "left_over"}', 5, 1 FROM orchestration.alert_destinations WHERE name = 'ops_json'`,
    );
    await until('the left-over delivery', async () => at('/json', 'left_over').length);
    const row = await until('its record', async () => {
      const { rows } = await pg.query(
        `SELECT status, attempts FROM orchestration.alert_deliveries WHERE dedupe_key = 'left-over' AND status = 'delivered'`,
      );
      return rows[0];
    });
    expect(row).toEqual({ status: 'delivered', attempts: 2 });
  });

  it('a step failing every attempt: retries_exhausted then run_failed, in json and Slack format, each recorded', async () => {
    await t.http
      .post('/api/orchestration/pipelines')
      .set(admin)
      .send({
        name: 'breaks',
        steps: [
          {
            id: 'bad',
            kind: 'sql',
            sql: 'SELECT * FROM mart.no_such_table',
            retries: { max_attempts: 3, base_delay: '20ms' },
          },
        ],
      })
      .expect(201);
    const run = (await t.http.post('/api/orchestration/pipelines/breaks/runs').set(admin).send({}).expect(201)).body;
    await until('the run_failed alerts', async () => at('/json', 'run_failed').length && at('/slack').length >= 2);

    const [exhausted] = at('/json', 'retries_exhausted');
    expect(exhausted!.body).toMatchObject({
      version: 1,
      type: 'retries_exhausted',
      pipeline: 'breaks',
      runId: run.id,
      step: 'bad',
      details: { kind: 'sql', attempts: 3, maxAttempts: 3 },
      links: { run: `/api/orchestration/runs/${run.id}`, pipeline: '/api/orchestration/pipelines/breaks' },
    });
    expect(exhausted!.body.error.message).toMatch(/no_such_table/);
    const [failed] = at('/json', 'run_failed');
    expect(failed!.body).toMatchObject({ type: 'run_failed', pipeline: 'breaks', runId: run.id, step: 'bad' });
    expect(failed!.body.details.failedSteps).toEqual([
      expect.objectContaining({ step: 'bad', attempts: 3, code: expect.any(String) }),
    ]);
    // Slack: the notification text and blocks (a mrkdwn section with the error, a context line)
    const slack = at('/slack').map((r) => r.body);
    expect(slack.map((b) => b.text).sort()).toEqual([
      expect.stringMatching(/^:red_circle: Pipeline breaks run failed/),
      expect.stringMatching(/^:repeat: Pipeline breaks: step bad failed after 3 attempts/),
    ]);
    for (const b of slack) {
      expect(b.blocks.map((x: { type: string }) => x.type)).toEqual(['section', 'context']);
      expect(b.blocks[0].text).toMatchObject({ type: 'mrkdwn', text: expect.stringMatching(/no_such_table/) });
      expect(b.blocks[1].elements[0].text).toContain(`run \`${run.id}\``);
    }

    // every delivery recorded (as delivered just after the receiver answered), once per destination
    const deliveries = await until('the deliveries recorded', async () => {
      const items = (await t.http.get('/api/orchestration/alert-deliveries').set(admin).expect(200)).body.items as {
        destination: string;
        type: string;
        pipeline: string;
        attempts: number;
        status: string;
      }[];
      const mine = items.filter((d) => d.pipeline === 'breaks');
      return mine.length === 4 && mine.every((d) => d.status === 'delivered') && mine;
    });
    const ofRun = deliveries
      .filter((d) => d.pipeline === 'breaks')
      .map((d) => `${d.destination}:${d.type}:${d.attempts}`);
    expect(ofRun.sort()).toEqual([
      'ops_json:retries_exhausted:1',
      'ops_json:run_failed:1',
      'ops_slack:retries_exhausted:1',
      'ops_slack:run_failed:1',
    ]);
    expect(at('/json', 'run_failed')).toHaveLength(1);
  });

  it('an SLA miss is recorded and alerted once, while the run is still going, to the destinations the pipeline names', async () => {
    await t.http
      .post('/api/orchestration/alert-destinations')
      .set(admin)
      .send({ name: 'oncall', url: `${base}/oncall`, pipelines: ['somebody_else'] })
      .expect(201);
    const unknown = await t.http
      .post('/api/orchestration/pipelines')
      .set(admin)
      .send({
        name: 'slow_nightly',
        schedule: { every: '1h' },
        sla: '1s',
        alerts: ['nope'],
        steps: [{ id: 's', kind: 'sql', sql: 'SELECT 1' }],
      })
      .expect(400);
    expect(unknown.body.problems).toEqual(['alerts[0]: unknown alert destination "nope"']);
    const created = await t.http
      .post('/api/orchestration/pipelines')
      .set(admin)
      .send({
        name: 'slow_nightly',
        schedule: { every: '1h' },
        sla: '1s',
        alerts: ['oncall'],
        steps: [{ id: 'sleep', kind: 'sql', sql: 'SELECT pg_sleep(3)' }],
      })
      .expect(201);
    expect([created.body.spec.sla, created.body.spec.alerts]).toEqual([1000, ['oncall']]);

    // the next hourly tick, fired now by a scheduler pass (as if it were that time): its run starts
    const tick = Math.ceil((Date.now() + 10_000) / 3_600_000) * 3_600_000;
    const [runId] = await t.app.get(SchedulerService).pass(new Date(tick));
    expect(runId).toBeDefined();
    const run = (await t.http.get(`/api/orchestration/runs/${runId}`).set(admin).expect(200)).body;
    expect(run.status).toBe('running');

    // before the deadline: nothing; past it: one miss, however many schedulers look at once
    const sla = t.app.get(SlaService);
    expect(await sla.check(new Date(tick + 500))).toBe(0);
    const counts = await Promise.all([sla.check(new Date(tick + 1500)), sla.check(new Date(tick + 1500))]);
    expect(counts[0]! + counts[1]!).toBe(1);
    expect(await sla.check(new Date(tick + 2000))).toBe(0);
    expect((await t.http.get(`/api/orchestration/runs/${runId}`).set(admin).expect(200)).body.status).toBe('running');

    const misses = (await t.http.get('/api/orchestration/sla-misses?pipeline=slow_nightly').set(admin).expect(200)).body
      .items;
    expect(misses).toEqual([
      expect.objectContaining({
        pipeline: 'slow_nightly',
        runId,
        runStatus: 'running',
        scheduledFor: new Date(tick).toISOString(),
        deadline: new Date(tick + 1000).toISOString(),
      }),
    ]);
    const [alert] = await until(
      'the sla_missed alert',
      async () => at('/oncall', 'sla_missed').length && at('/oncall', 'sla_missed'),
    );
    expect(alert!.body).toMatchObject({
      type: 'sla_missed',
      pipeline: 'slow_nightly',
      runId,
      details: { runStatus: 'running', deadline: new Date(tick + 1000).toISOString() },
    });
    expect(alert!.body.title).toMatch(/missed its SLA.*its run is running/);
    // the pipeline names its destinations: the catch-all one does not get it
    expect(received.filter((r) => r.body.type === 'sla_missed').map((r) => r.path)).toEqual(['/oncall']);
    const metrics = (await t.http.get('/metrics').set(admin).expect(200)).text;
    expect(metrics).toMatch(/weir_pipeline_sla_misses_total\{pipeline="slow_nightly"\} 1/);

    // the run ends (succeeded, late): still one miss
    for (
      let i = 0;
      i < 200 && (await t.http.get(`/api/orchestration/runs/${runId}`).set(admin)).body.status === 'running';
      i++
    )
      await new Promise((r) => setTimeout(r, 50));
    expect(await sla.check(new Date(tick + 5000))).toBe(0);
    expect(at('/oncall', 'sla_missed')).toHaveLength(1);

    // a destination a pipeline names is not removed under it
    const inUse = await t.http.delete('/api/orchestration/alert-destinations/oncall').set(admin).expect(409);
    expect(inUse.body.code).toBe('ORCHESTRATION.ALERT_DESTINATION_IN_USE');
    await t.http.delete('/api/orchestration/pipelines/slow_nightly?force=true').set(admin).expect(204);
    await t.http.delete('/api/orchestration/alert-destinations/oncall').set(admin).expect(204);
  });

  it("a failed quality suite's alert goes through the same destinations", async () => {
    await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({
        name: 'alert_orders',
        contract: {
          columns: [
            { name: 'id', type: 'bigint', nullable: false, primaryKey: true },
            { name: 'status', type: 'text', nullable: true },
          ],
        },
      })
      .expect(201);
    await pg.query(
      `CREATE SCHEMA IF NOT EXISTS raw; CREATE TABLE raw.alert_orders (id bigint PRIMARY KEY, status text);
       INSERT INTO raw.alert_orders VALUES (1, 'new'), (2, NULL)`,
    );
    const suite = (
      await t.http
        .post('/api/quality/suites')
        .set(admin)
        .send({
          name: 'alert_orders_checks',
          dataset: 'alert_orders',
          expectations: [{ type: 'expect_column_values_to_not_be_null', kwargs: { column: 'status' } }],
        })
        .expect(201)
    ).body;
    const run = (await t.http.post(`/api/quality/suites/${suite.id}/runs`).set(admin).send({}).expect(201)).body;
    expect(run.status).toBe('failed');
    const [alert] = await until(
      'the quality_failed alert',
      async () => at('/json', 'quality_failed').length && at('/json', 'quality_failed'),
    );
    expect(alert!.body).toMatchObject({
      version: 1,
      type: 'quality_failed',
      pipeline: null,
      details: { qualityRun: run.id, suite: 'alert_orders_checks', dataset: 'alert_orders' },
      links: { qualityRun: `/api/quality/runs/${run.id}` },
    });
    expect(alert!.body.title).toMatch(/^Quality suite alert_orders_checks failed on alert_orders/);
    expect(alert!.body.details.failures.length).toBeGreaterThan(0);
    // the Slack destination subscribes to run events only
    expect(at('/slack').filter((r) => /Quality suite/.test(r.body.text))).toEqual([]);
    // recorded as delivered just after the receiver answered
    const recorded = await until('the delivery recorded', async () => {
      const items = (
        await t.http.get('/api/orchestration/alert-deliveries?destination=ops_json').set(admin).expect(200)
      ).body.items as { type: string; status: string }[];
      const q = items.filter((d) => d.type === 'quality_failed');
      return q.length > 0 && q.every((d) => d.status === 'delivered') && q;
    });
    expect(recorded).toEqual([expect.objectContaining({ status: 'delivered', attempts: 1, pipeline: null })]);
  });
});
