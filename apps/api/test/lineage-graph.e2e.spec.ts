import * as fs from 'node:fs';
import * as path from 'node:path';
import * as http from 'node:http';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { MetricsService, Outbox, Retention, RUN_EVENTS_TOPIC, RunStateEvent } from '@weir/platform';
import { ModelingService } from '@weir/modeling';
import { ADMIN, admin, startTestApp, TestApp } from './support/test-app';
import { DataSource } from 'typeorm';
import { startIngestionApp, tempDataDir, until } from './support/files';

const SHARED_OL = path.resolve(__dirname, '../../../../shared/corpora/openlineage');
const SHOP = path.resolve(__dirname, '../../../examples/shop');

const runEvent = (over: Record<string, unknown> = {}) => ({
  eventType: 'COMPLETE',
  eventTime: '2026-11-21T10:00:00.000Z',
  producer: 'https://example.com/producer',
  schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
  run: { runId: randomUUID() },
  job: { namespace: 'acme', name: 'etl.orders' },
  inputs: [
    {
      namespace: 'pg://src',
      name: 'shop.orders',
      facets: {
        schema: {
          _producer: 'https://example.com/p',
          _schemaURL: 'https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json',
          fields: [
            { name: 'id', type: 'int' },
            { name: 'amount', type: 'numeric' },
          ],
        },
      },
    },
  ],
  outputs: [
    {
      namespace: 'pg://dwh',
      name: 'mart.orders',
      facets: {
        schema: {
          _producer: 'https://example.com/p',
          _schemaURL: 'https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json',
          fields: [
            { name: 'order_id', type: 'int' },
            { name: 'total', type: 'numeric' },
          ],
        },
        columnLineage: {
          _producer: 'https://example.com/p',
          _schemaURL: 'https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json',
          fields: {
            order_id: {
              inputFields: [
                {
                  namespace: 'pg://src',
                  name: 'shop.orders',
                  field: 'id',
                  transformations: [{ type: 'DIRECT', subtype: 'IDENTITY' }],
                },
              ],
            },
            total: {
              inputFields: [
                {
                  namespace: 'pg://src',
                  name: 'shop.orders',
                  field: 'amount',
                  transformations: [{ type: 'DIRECT', subtype: 'AGGREGATION' }],
                },
              ],
            },
          },
        },
      },
    },
  ],
  ...over,
});

describe('lineage graph e2e: OpenLineage in, Marquez API, outbox-fed events from builds, impact, pictures', () => {
  let t: TestApp;
  let pg: Client;
  let files: ReturnType<typeof tempDataDir>;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ t, pg, files, close } = await startIngestionApp({ WEIR_LINEAGE_EVENTS_RETENTION_DAYS: '30' })); // read when the app starts
  });
  afterAll(() => close?.());
  /** Received events are applied to the graph by the outbox dispatcher, right after the 201: wait for it. */
  const settle = () => t.app.get(Outbox).drain(10_000);

  it('accepts a RunEvent and answers the Marquez graph, column lineage and listings from it', async () => {
    const ev = runEvent();
    expect((await t.http.post('/api/v1/lineage').set(admin).send(ev).expect(201)).body).toEqual({
      accepted: true,
      kind: 'RunEvent',
    });
    // a second job reads the output: two hops
    await t.http
      .post('/api/v1/lineage')
      .set(admin)
      .send(
        runEvent({
          job: { namespace: 'acme', name: 'report.daily' },
          inputs: [{ namespace: 'pg://dwh', name: 'mart.orders' }],
          outputs: [{ namespace: 'pg://dwh', name: 'report.daily' }],
        }),
      )
      .expect(201);
    await settle();

    const g = (
      await t.http
        .get('/api/v1/lineage')
        .query({ nodeId: 'dataset:pg://src:shop.orders', depth: 5 })
        .set(admin)
        .expect(200)
    ).body.graph;
    expect(g.map((n: { id: string }) => n.id)).toEqual([
      'dataset:pg://dwh:mart.orders',
      'dataset:pg://dwh:report.daily',
      'dataset:pg://src:shop.orders',
      'job:acme:etl.orders',
      'job:acme:report.daily',
    ]);
    const job = g.find((n: { id: string }) => n.id === 'job:acme:etl.orders');
    expect(job).toMatchObject({
      type: 'JOB',
      inEdges: [{ origin: 'dataset:pg://src:shop.orders', destination: 'job:acme:etl.orders' }],
      outEdges: [{ origin: 'job:acme:etl.orders', destination: 'dataset:pg://dwh:mart.orders' }],
    });
    expect(job.data).toMatchObject({
      namespace: 'acme',
      name: 'etl.orders',
      latestRun: { id: ev.run.runId, state: 'COMPLETE' },
    });
    const ds = g.find((n: { id: string }) => n.id === 'dataset:pg://dwh:mart.orders');
    expect(ds.data.fields).toEqual([
      { name: 'order_id', type: 'int', tags: [], description: null },
      { name: 'total', type: 'numeric', tags: [], description: null },
    ]);
    // depth bounds the walk: depth 0 from the source dataset reaches only the first job
    const d0 = (
      await t.http
        .get('/api/v1/lineage')
        .query({ nodeId: 'dataset:pg://src:shop.orders', depth: 1 })
        .set(admin)
        .expect(200)
    ).body.graph;
    expect(d0.map((n: { id: string }) => n.id)).not.toContain('job:acme:report.daily');

    const c = (
      await t.http
        .get('/api/v1/column-lineage')
        .query({ nodeId: 'datasetField:pg://dwh:mart.orders:total', depth: 3 })
        .set(admin)
        .expect(200)
    ).body.graph;
    expect(c.map((n: { id: string }) => n.id)).toEqual([
      'datasetField:pg://dwh:mart.orders:total',
      'datasetField:pg://src:shop.orders:amount',
    ]);
    expect(c[0].data.inputFields).toEqual([
      {
        namespace: 'pg://src',
        dataset: 'shop.orders',
        field: 'amount',
        transformations: [{ type: 'DIRECT', subtype: 'AGGREGATION' }],
        transformationType: 'DIRECT',
        transformationDescription: 'DIRECT/AGGREGATION',
      },
    ]);
    // upstream only by default; withDownstream=true from the source field reaches the output
    const down = (
      await t.http
        .get('/api/v1/column-lineage')
        .query({ nodeId: 'datasetField:pg://src:shop.orders:amount', withDownstream: true })
        .set(admin)
        .expect(200)
    ).body.graph;
    expect(down.map((n: { id: string }) => n.id)).toContain('datasetField:pg://dwh:mart.orders:total');

    expect(
      (
        await t.http
          .get(`/api/v1/namespaces/${encodeURIComponent('pg://dwh')}/datasets`)
          .set(admin)
          .expect(200)
      ).body,
    ).toMatchObject({ totalCount: 2, datasets: [{ name: 'mart.orders' }, { name: 'report.daily' }] });
    const jobs = (await t.http.get('/api/v1/namespaces/acme/jobs').set(admin).expect(200)).body;
    expect(jobs.jobs[0]).toMatchObject({
      name: 'etl.orders',
      inputs: [{ namespace: 'pg://src', name: 'shop.orders' }],
      outputs: [{ namespace: 'pg://dwh', name: 'mart.orders' }],
    });
    const runs = (await t.http.get('/api/v1/namespaces/acme/jobs/etl.orders/runs').set(admin).expect(200)).body;
    expect(runs.runs).toEqual([expect.objectContaining({ id: ev.run.runId, state: 'COMPLETED' })]);

    expect(
      (await t.http.get('/api/v1/lineage').query({ nodeId: 'dataset:pg://src:nope' }).set(admin).expect(404)).body.code,
    ).toBe('LINEAGE.NODE_NOT_FOUND');
    expect((await t.http.get('/api/v1/lineage').query({ nodeId: 'table:x' }).set(admin).expect(400)).body.code).toBe(
      'LINEAGE.BAD_NODE_ID',
    );
    expect((await t.http.get('/api/v1/namespaces/none/jobs').set(admin).expect(404)).body.code).toBe(
      'LINEAGE.NAMESPACE_NOT_FOUND',
    );
  });

  it("accepts real producers' events whose formats do not hold (Spark's bare dataSource.uri, old Airflow's run ids, no offset, no schemaURL) with warnings; START and COMPLETE still pair", async () => {
    const airflowRun = `scheduled__2022-03-01T00:00:00+00:00/${randomUUID()}`;
    const spark = (eventType: string, eventTime: string) => {
      const e: Record<string, unknown> = runEvent({
        eventType,
        eventTime,
        producer: 'spark',
        run: { runId: airflowRun },
        job: { namespace: 'legacy', name: 'spark.load' },
        inputs: [
          {
            namespace: 'file',
            name: '/data/in.csv',
            facets: {
              dataSource: {
                _producer: 'spark',
                _schemaURL: 'https://openlineage.io/spec/facets/1-0-1/DatasourceDatasetFacet.json',
                name: 'file',
                uri: 'file',
              },
            },
          },
        ],
        outputs: [{ namespace: 'pg://dwh', name: 'legacy.out' }],
      });
      delete e['schemaURL'];
      return e;
    };
    const start = (
      await t.http.post('/api/v1/lineage').set(admin).send(spark('START', '2026-11-20T10:00:00')).expect(201)
    ).body;
    expect(start).toMatchObject({ accepted: true, kind: 'RunEvent' });
    expect(start.warnings.map((w: { kind: string }) => w.kind)).toEqual(
      expect.arrayContaining(['format:uri', 'schemaURL:missing', 'format:uuid', 'runId:mapped', 'eventTime:utc']),
    );
    await t.http.post('/api/v1/lineage').set(admin).send(spark('COMPLETE', '2026-11-20T10:05:00')).expect(201);
    await settle();
    const runs = (await t.http.get('/api/v1/namespaces/legacy/jobs/spark.load/runs').set(admin).expect(200)).body.runs;
    expect(runs).toHaveLength(1); // one run: the same UUID v5 for START and COMPLETE
    expect(runs[0]).toMatchObject({ state: 'COMPLETED', startedAt: '2026-11-20T10:00:00.000Z' });
    expect(runs[0].facets.weir_originalRunIds).toMatchObject({ runId: airflowRun });
    const listed = (
      await t.http
        .get('/api/v1/events/lineage')
        .query({ withWarnings: 'true', sortDirection: 'asc' })
        .set(admin)
        .expect(200)
    ).body;
    expect(listed.totalCount).toBe(2);
    expect(listed.warnings.map((w: { event: number }) => w.event)).toEqual([0, 1]);
    expect(listed.events[0].run.runId).toBe(runs[0].id);
    const metrics = (await t.http.get('/metrics').set(admin).expect(200)).text;
    expect(metrics).toMatch(/weir_lineage_event_warnings_total\{kind="format:uri"\} 6/);
    // structurally broken is still refused
    const broken = spark('START', '2026-11-20T10:00:00');
    delete (broken['job'] as Record<string, unknown>)['name'];
    expect((await t.http.post('/api/v1/lineage').set(admin).send(broken).expect(400)).body.code).toBe(
      'LINEAGE.INVALID_EVENT',
    );
  });

  it('answers one dataset, one job and a name search, as Marquez does', async () => {
    const ds = (
      await t.http
        .get(`/api/v1/namespaces/${encodeURIComponent('pg://dwh')}/datasets/${encodeURIComponent('mart.orders')}`)
        .set(admin)
        .expect(200)
    ).body;
    expect(ds).toMatchObject({
      id: { namespace: 'pg://dwh', name: 'mart.orders' },
      fields: [{ name: 'order_id' }, { name: 'total' }],
    });
    const job = (await t.http.get(`/api/v1/namespaces/acme/jobs/etl.orders`).set(admin).expect(200)).body;
    expect(job).toMatchObject({
      id: { namespace: 'acme', name: 'etl.orders' },
      inputs: [{ namespace: 'pg://src', name: 'shop.orders' }],
      outputs: [{ namespace: 'pg://dwh', name: 'mart.orders' }],
    });
    expect((await t.http.get('/api/v1/namespaces/acme/jobs/nope').set(admin).expect(404)).body.code).toBe(
      'LINEAGE.JOB_NOT_FOUND',
    );
    const latest = (await t.http.get('/api/v1/namespaces/acme/jobs/etl.orders/runs').set(admin).expect(200)).body
      .runs[0];
    const run = (await t.http.get(`/api/v1/jobs/runs/${latest.id}`).set(admin).expect(200)).body;
    expect(run).toEqual({ ...latest, jobVersion: { namespace: 'acme', name: 'etl.orders' } });
    expect(run.state).toBe('COMPLETED');
    expect((await t.http.get(`/api/v1/jobs/runs/${randomUUID()}`).set(admin).expect(404)).body.code).toBe(
      'LINEAGE.RUN_NOT_FOUND',
    );
    expect((await t.http.get('/api/v1/jobs/runs/nope').set(admin).expect(404)).body.code).toBe('LINEAGE.RUN_NOT_FOUND');
    expect((await t.http.get('/api/v1/namespaces/acme/datasets/nope').set(admin).expect(404)).body.code).toBe(
      'LINEAGE.DATASET_NOT_FOUND',
    );
    const found = (await t.http.get('/api/v1/search').query({ q: 'ORDERS' }).set(admin).expect(200)).body;
    expect(found.results.map((r: { type: string; nodeId: string }) => `${r.type} ${r.nodeId}`)).toEqual(
      expect.arrayContaining([
        'DATASET dataset:pg://dwh:mart.orders',
        'DATASET dataset:pg://src:shop.orders',
        'JOB job:acme:etl.orders',
      ]),
    );
    expect(found.totalCount).toBeGreaterThanOrEqual(3);
    const jobsOnly = (
      await t.http.get('/api/v1/search').query({ q: 'orders', filter: 'JOB', namespace: 'acme' }).set(admin).expect(200)
    ).body;
    expect(jobsOnly.results.map((r: { name: string }) => r.name)).toEqual(['etl.orders']);
    // LIKE wildcards in q are literal
    expect((await t.http.get('/api/v1/search').query({ q: '%' }).set(admin).expect(200)).body.totalCount).toBe(0);
    expect((await t.http.get('/api/v1/search').set(admin).expect(400)).body.code).toBe('PLATFORM.VALIDATION_FAILED');
  });

  it('removes a facet sent as deleted (`_deleted: true`)', async () => {
    const datasetEvent = (facets: Record<string, unknown>) => ({
      eventTime: '2026-11-21T12:00:00.000Z',
      producer: 'https://example.com/producer',
      schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent',
      dataset: { namespace: 'pg://docs', name: 'doc.t', facets },
    });
    const doc = {
      _producer: 'https://example.com/p',
      _schemaURL: 'https://openlineage.io/spec/facets/1-1-0/DocumentationDatasetFacet.json',
    };
    await t.http
      .post('/api/v1/lineage')
      .set(admin)
      .send(datasetEvent({ documentation: { ...doc, description: 'the t table' } }))
      .expect(201);
    await settle();
    const get = async () =>
      (
        await t.http
          .get(`/api/v1/namespaces/${encodeURIComponent('pg://docs')}/datasets/doc.t`)
          .set(admin)
          .expect(200)
      ).body;
    expect((await get()).description).toBe('the t table');
    await t.http
      .post('/api/v1/lineage')
      .set(admin)
      .send(datasetEvent({ documentation: { ...doc, _deleted: true } }))
      .expect(201);
    await settle();
    const after = await get();
    expect([after.description, Object.keys(after.facets)]).toEqual([null, []]);
  });

  it('is idempotent: replaying an event changes neither nodes nor edges, and new column lineage from the same job replaces the old', async () => {
    const count = async () =>
      (
        await pg.query(
          `SELECT (SELECT count(*) FROM lineage.datasets) AS d, (SELECT count(*) FROM lineage.job_datasets) AS e, (SELECT count(*) FROM lineage.field_edges) AS f`,
        )
      ).rows[0];
    const ev = runEvent({ job: { namespace: 'idem', name: 'j' } });
    await t.http.post('/api/v1/lineage').set(admin).send(ev).expect(201);
    await settle();
    const before = await count();
    await t.http.post('/api/v1/lineage').set(admin).send(ev).expect(201);
    await settle();
    expect(await count()).toEqual(before);
    const versions = await pg.query(
      `SELECT count(*)::int AS n FROM lineage.dataset_versions v JOIN lineage.datasets d ON d.id = v.dataset_id WHERE d.name = 'mart.orders'`,
    );
    expect(versions.rows[0].n).toBe(1);

    // the job now derives total from id (and adds a column): its old edge for total goes, the schema gets version 2
    const changed = runEvent({ job: { namespace: 'idem', name: 'j' } }) as ReturnType<typeof runEvent> & {
      outputs: any[];
    };
    changed.outputs[0].facets.columnLineage.fields.total = {
      inputFields: [
        {
          namespace: 'pg://src',
          name: 'shop.orders',
          field: 'id',
          transformations: [{ type: 'DIRECT', subtype: 'TRANSFORMATION' }],
        },
      ],
    };
    changed.outputs[0].facets.schema.fields.push({ name: 'note', type: 'text' });
    await t.http.post('/api/v1/lineage').set(admin).send(changed).expect(201);
    await settle();
    const total = (
      await t.http
        .get('/api/v1/column-lineage')
        .query({ nodeId: 'datasetField:pg://dwh:mart.orders:total', depth: 1 })
        .set(admin)
        .expect(200)
    ).body.graph;
    const fromIdem = total[0].data.inputFields.map(
      (i: { field: string; transformations: { subtype: string }[] }) =>
        `${i.field}:${i.transformations.map((x) => x.subtype).join('+')}`,
    );
    // etl.orders (the first test) still says amount/AGGREGATION; idem/j now says id/TRANSFORMATION only
    expect(fromIdem.sort()).toEqual(['amount:AGGREGATION', 'id:TRANSFORMATION']);
    const edges = await pg.query(
      `SELECT s.name AS source, e.subtype FROM lineage.field_edges e JOIN lineage.fields s ON s.id = e.source_field_id JOIN lineage.jobs j ON j.id = e.job_id WHERE j.namespace = 'idem' AND e.target_field_id = (SELECT f.id FROM lineage.fields f JOIN lineage.datasets d ON d.id = f.dataset_id WHERE d.name = 'mart.orders' AND f.name = 'total')`,
    );
    expect(edges.rows).toEqual([{ source: 'id', subtype: 'TRANSFORMATION' }]);
    const v2 = await pg.query(
      `SELECT d.current_version, v.fields FROM lineage.datasets d JOIN lineage.dataset_versions v ON v.dataset_id = d.id AND v.version = d.current_version WHERE d.name = 'mart.orders'`,
    );
    expect(v2.rows[0].current_version).toBe(2);
    expect(v2.rows[0].fields.map((f: { name: string }) => f.name)).toEqual(['order_id', 'total', 'note']);
  });

  it("keeps a job's edges to what its latest completed run declared: a table it stops reading or writing loses its edge", async () => {
    const job = { namespace: 'prune', name: 'etl' };
    const ds = (name: string) => ({ namespace: 'pg://p', name });
    const edges = async () =>
      (
        await pg.query(
          `SELECT jd.direction || ':' || d.name AS e FROM lineage.job_datasets jd JOIN lineage.jobs j ON j.id = jd.job_id JOIN lineage.datasets d ON d.id = jd.dataset_id WHERE j.namespace = 'prune' AND j.name = 'etl' ORDER BY 1`,
        )
      ).rows.map((r) => r.e);
    const fieldEdgesInto = async (name: string) =>
      (
        await pg.query(
          `SELECT count(*)::int AS n FROM lineage.field_edges e JOIN lineage.fields f ON f.id = e.target_field_id JOIN lineage.datasets d ON d.id = f.dataset_id JOIN lineage.jobs j ON j.id = e.job_id WHERE j.namespace = 'prune' AND d.name = $1`,
          [name],
        )
      ).rows[0].n;
    const lineageTo = (from: string, to: string) => ({
      ...ds(to),
      facets: {
        columnLineage: {
          _producer: 'https://example.com/p',
          _schemaURL: 'https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json',
          fields: {
            id: {
              inputFields: [{ ...ds(from), field: 'id', transformations: [{ type: 'DIRECT', subtype: 'IDENTITY' }] }],
            },
          },
        },
      },
    });
    const send = async (...evs: Record<string, unknown>[]) => {
      for (const ev of evs) await t.http.post('/api/v1/lineage').set(admin).send(ev).expect(201);
      await settle();
    };
    const at = (s: number) => new Date(Date.UTC(2026, 10, 21, 12, 0, s)).toISOString();

    // run 1 reads a and b, writes x with column lineage
    const r1 = randomUUID();
    await send(
      runEvent({
        job,
        run: { runId: r1 },
        eventType: 'COMPLETE',
        eventTime: at(1),
        inputs: [ds('a'), ds('b')],
        outputs: [lineageTo('a', 'x')],
      }),
    );
    expect(await edges()).toEqual(['input:a', 'input:b', 'output:x']);
    expect(await fieldEdgesInto('x')).toBe(1);

    // run 2 declares its inputs at START (applied in an earlier batch) and only its output at COMPLETE
    const r2 = randomUUID();
    await send(
      runEvent({ job, run: { runId: r2 }, eventType: 'START', eventTime: at(2), inputs: [ds('a')], outputs: [] }),
    );
    // a START adds; nothing is removed before the run completes
    expect(await edges()).toEqual(['input:a', 'input:b', 'output:x']);
    await send(
      runEvent({
        job,
        run: { runId: r2 },
        eventType: 'COMPLETE',
        eventTime: at(3),
        inputs: [],
        outputs: [lineageTo('a', 'y')],
      }),
    );
    expect(await edges()).toEqual(['input:a', 'output:y']);
    expect(await fieldEdgesInto('x')).toBe(0);
    expect(await fieldEdgesInto('y')).toBe(1);
    // the datasets stay nodes of the graph; only the job's edges went
    await t.http.get('/api/v1/lineage').query({ nodeId: 'dataset:pg://p:x', depth: 1 }).set(admin).expect(200);

    // a failed run, a run that declares nothing, and a late COMPLETE of an older run change nothing
    await send(
      runEvent({
        job,
        run: { runId: randomUUID() },
        eventType: 'FAIL',
        eventTime: at(4),
        inputs: [ds('c')],
        outputs: [],
      }),
    );
    expect(await edges()).toEqual(['input:a', 'input:c', 'output:y']);
    await send(
      runEvent({ job, run: { runId: randomUUID() }, eventType: 'COMPLETE', eventTime: at(5), inputs: [], outputs: [] }),
    );
    expect(await edges()).toEqual(['input:a', 'input:c', 'output:y']);
    const late = randomUUID();
    await send(
      runEvent({
        job,
        run: { runId: late },
        eventType: 'COMPLETE',
        eventTime: at(0),
        inputs: [ds('a')],
        outputs: [ds('y')],
      }),
    );
    expect(await edges()).toEqual(['input:a', 'input:c', 'output:y']);

    // START and COMPLETE of the next run in one batch: c goes
    await t.http
      .post('/api/v1/lineage/batch')
      .set(admin)
      .send(
        (() => {
          const r = randomUUID();
          return [
            runEvent({ job, run: { runId: r }, eventType: 'START', eventTime: at(6), inputs: [ds('a')], outputs: [] }),
            runEvent({
              job,
              run: { runId: r },
              eventType: 'COMPLETE',
              eventTime: at(7),
              inputs: [],
              outputs: [ds('y')],
            }),
          ];
        })(),
      )
      .expect(201);
    await settle();
    expect(await edges()).toEqual(['input:a', 'output:y']);

    // overlapping runs: A starts reading a, B starts reading b, A completes, then B: the edges end as
    // B declared them (b, which A's completion took away, comes back)
    const [A, B] = [randomUUID(), randomUUID()];
    await send(
      runEvent({ job, run: { runId: A }, eventType: 'START', eventTime: at(10), inputs: [ds('a')], outputs: [] }),
      runEvent({ job, run: { runId: B }, eventType: 'START', eventTime: at(11), inputs: [ds('b')], outputs: [] }),
      runEvent({ job, run: { runId: A }, eventType: 'COMPLETE', eventTime: at(12), inputs: [], outputs: [ds('y')] }),
    );
    expect(await edges()).toEqual(['input:a', 'output:y']);
    await send(
      runEvent({ job, run: { runId: B }, eventType: 'COMPLETE', eventTime: at(13), inputs: [], outputs: [ds('y')] }),
    );
    expect(await edges()).toEqual(['input:b', 'output:y']);

    // two runs completing in one batch: the one that ended last decides, whatever the order received
    const [C, D] = [randomUUID(), randomUUID()];
    await t.http
      .post('/api/v1/lineage/batch')
      .set(admin)
      .send([
        runEvent({ job, run: { runId: C }, eventType: 'START', eventTime: at(20), inputs: [ds('a')], outputs: [] }),
        runEvent({ job, run: { runId: D }, eventType: 'START', eventTime: at(21), inputs: [ds('c')], outputs: [] }),
        runEvent({ job, run: { runId: C }, eventType: 'COMPLETE', eventTime: at(23), inputs: [], outputs: [ds('y')] }),
        runEvent({ job, run: { runId: D }, eventType: 'COMPLETE', eventTime: at(22), inputs: [], outputs: [ds('y')] }),
      ])
      .expect(201);
    await settle();
    expect(await edges()).toEqual(['input:a', 'output:y']);

    // column lineage: an older event arriving late does not replace what the job said later
    const sourcesOfY = async () =>
      (
        await pg.query(
          `SELECT sd.name || '.' || s.name AS s FROM lineage.field_edges e JOIN lineage.fields t ON t.id = e.target_field_id JOIN lineage.datasets td ON td.id = t.dataset_id
             JOIN lineage.fields s ON s.id = e.source_field_id JOIN lineage.datasets sd ON sd.id = s.dataset_id JOIN lineage.jobs j ON j.id = e.job_id
            WHERE j.namespace = 'prune' AND td.name = 'y' ORDER BY 1`,
        )
      ).rows.map((r) => r.s);
    expect(await sourcesOfY()).toEqual(['a.id']);
    await send(
      runEvent({
        job,
        run: { runId: randomUUID() },
        eventType: 'RUNNING',
        eventTime: at(2),
        inputs: [],
        outputs: [lineageTo('b', 'y')],
      }),
    );
    expect(await sourcesOfY()).toEqual(['a.id']);
    await send(
      runEvent({
        job,
        run: { runId: randomUUID() },
        eventType: 'RUNNING',
        eventTime: at(30),
        inputs: [],
        outputs: [lineageTo('b', 'y')],
      }),
    );
    expect(await sourcesOfY()).toEqual(['b.id']);
  });

  it("turns dataset-level column lineage (the facet's `dataset` entries) into INDIRECT edges to every column of the output", async () => {
    const cl = (dataset: unknown[]) => ({
      _producer: 'https://example.com/p',
      _schemaURL: 'https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json',
      fields: {
        id: {
          inputFields: [
            {
              namespace: 'pg://dl',
              name: 'src',
              field: 'id',
              transformations: [{ type: 'DIRECT', subtype: 'IDENTITY' }],
            },
          ],
        },
      },
      dataset,
    });
    const schema = (names: string[]) => ({
      _producer: 'https://example.com/p',
      _schemaURL: 'https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json',
      fields: names.map((name) => ({ name, type: 'text' })),
    });
    const ev = (names: string[], dataset: unknown[]) =>
      runEvent({
        job: { namespace: 'dl', name: 'filtered' },
        inputs: [{ namespace: 'pg://dl', name: 'src' }],
        outputs: [{ namespace: 'pg://dl', name: 'out', facets: { schema: schema(names), columnLineage: cl(dataset) } }],
      });
    const filter = [
      {
        namespace: 'pg://dl',
        name: 'src',
        field: 'status',
        transformations: [{ type: 'INDIRECT', subtype: 'FILTER' }],
      },
    ];
    const inputsOf = async (col: string) => {
      const g = (
        await t.http
          .get('/api/v1/column-lineage')
          .query({ nodeId: `datasetField:pg://dl:out:${col}`, depth: 1 })
          .set(admin)
          .expect(200)
      ).body.graph;
      return g
        .find((n: { id: string }) => n.id === `datasetField:pg://dl:out:${col}`)
        .data.inputFields.map(
          (i: { field: string; transformations: { type: string; subtype: string }[] }) =>
            `${i.field}:${i.transformations.map((x) => `${x.type}/${x.subtype}`).join('+')}`,
        )
        .sort();
    };
    await t.http
      .post('/api/v1/lineage')
      .set(admin)
      .send(ev(['id', 'note'], filter))
      .expect(201);
    await settle();
    expect(await inputsOf('id')).toEqual(['id:DIRECT/IDENTITY', 'status:INDIRECT/FILTER']);
    // a column with no lineage of its own still depends on the filter
    expect(await inputsOf('note')).toEqual(['status:INDIRECT/FILTER']);
    // impact of the filter column reaches every output column
    const imp = (
      await t.http.get('/api/lineage/impact').query({ dataset: 'pg://dl:src', column: 'status' }).set(admin).expect(200)
    ).body;
    expect(imp.columns.map((c: { column: string }) => c.column).sort()).toEqual(['id', 'note']);
    // a column the schema gains later gets the dataset-level edge too (same facet)
    await t.http
      .post('/api/v1/lineage')
      .set(admin)
      .send(ev(['id', 'note', 'extra'], filter))
      .expect(201);
    await settle();
    expect(await inputsOf('extra')).toEqual(['status:INDIRECT/FILTER']);
    // the schema grows in one batch, the same facet comes in the next: the new column gets the edge
    await t.http
      .post('/api/v1/lineage')
      .set(admin)
      .send(
        runEvent({
          job: { namespace: 'dl', name: 'filtered' },
          eventType: 'START',
          inputs: [],
          outputs: [{ namespace: 'pg://dl', name: 'out', facets: { schema: schema(['id', 'note', 'extra', 'more']) } }],
        }),
      )
      .expect(201);
    await settle();
    await t.http
      .post('/api/v1/lineage')
      .set(admin)
      .send(ev(['id', 'note', 'extra', 'more'], filter))
      .expect(201);
    await settle();
    expect(await inputsOf('more')).toEqual(['status:INDIRECT/FILTER']);
    // the job drops the filter: its dataset-level edges go
    await t.http
      .post('/api/v1/lineage')
      .set(admin)
      .send(ev(['id', 'note', 'extra'], []))
      .expect(201);
    await settle();
    expect(await inputsOf('id')).toEqual(['id:DIRECT/IDENTITY']);
  });

  it('lists the raw events by event time (Marquez GET /api/v1/events/lineage), paged and windowed', async () => {
    const times = ['2030-01-01T00:00:00.000Z', '2030-01-02T00:00:00.000Z', '2030-01-03T00:00:00.000Z'];
    for (const eventTime of times)
      await t.http
        .post('/api/v1/lineage')
        .set(admin)
        .send(runEvent({ job: { namespace: 'evlist', name: 'j' }, eventTime }))
        .expect(201);
    const page = async (q: Record<string, string | number>) =>
      (
        await t.http
          .get('/api/v1/events/lineage')
          .query({ after: '2030-01-01T00:00:00Z', before: '2030-01-03T00:00:00Z', ...q })
          .set(admin)
          .expect(200)
      ).body;
    const desc = await page({});
    expect(desc.totalCount).toBe(2);
    expect(desc.events.map((e: { eventTime: string }) => e.eventTime)).toEqual([times[1], times[0]]);
    expect(desc.events[0]).toMatchObject({
      eventType: 'COMPLETE',
      job: { namespace: 'evlist', name: 'j' },
      producer: 'https://example.com/producer',
    });
    expect((await page({ sortDirection: 'asc' })).events.map((e: { eventTime: string }) => e.eventTime)).toEqual([
      times[0],
      times[1],
    ]);
    const second = await page({ sortDirection: 'asc', limit: 1, offset: 1 });
    expect([second.totalCount, second.events.map((e: { eventTime: string }) => e.eventTime)]).toEqual([2, [times[1]]]);
    // no window: everything, newest first
    const all = (await t.http.get('/api/v1/events/lineage').query({ limit: 1 }).set(admin).expect(200)).body;
    expect(all.events[0].eventTime).toBe(times[2]);
    expect(all.totalCount).toBeGreaterThan(3);
    const bad = await t.http.get('/api/v1/events/lineage').query({ before: 'yesterday' }).set(admin).expect(400);
    expect(bad.body.code).toBe('PLATFORM.VALIDATION_FAILED');
  });

  it('retention deletes raw events older than WEIR_LINEAGE_EVENTS_RETENTION_DAYS, never one not yet applied; the graph stays, and replaying a run changes nothing', async () => {
    const job = { namespace: 'retain', name: 'etl' };
    const done = randomUUID();
    const running = randomUUID();
    await t.http
      .post('/api/v1/lineage')
      .set(admin)
      .send(runEvent({ job, run: { runId: done }, eventType: 'START' }))
      .expect(201);
    await t.http
      .post('/api/v1/lineage')
      .set(admin)
      .send(runEvent({ job, run: { runId: done } }))
      .expect(201);
    await t.http
      .post('/api/v1/lineage')
      .set(admin)
      .send(runEvent({ job, run: { runId: running }, eventType: 'START' }))
      .expect(201);
    await settle();
    await pg.query(`UPDATE lineage.events SET received_at = now() - interval '40 days' WHERE job_namespace = 'retain'`);
    const left = async () =>
      (
        await pg.query(
          `SELECT run_id::text AS r, event_type AS e FROM lineage.events WHERE job_namespace = 'retain' ORDER BY id`,
        )
      ).rows.map((r) => `${r.r === done ? 'done' : 'running'}:${r.e}`);
    const retention = t.app.get(Retention);
    expect(retention.list().map((p) => p.name)).toEqual(['platform.outbox', 'platform.audit_log', 'lineage.events']);
    // an older event still waiting to be applied (here: parked) holds back everything received after it
    const parked = (
      await pg.query(
        `INSERT INTO platform.outbox (topic, payload, created_at, attempts, last_error) VALUES ('lineage.apply', '{"events":[]}', now() - interval '50 days', 1000, 'parked') RETURNING id`,
      )
    ).rows[0].id;
    await retention.sweep();
    expect(await left()).toEqual(['done:START', 'done:COMPLETE', 'running:START']);
    await pg.query(`DELETE FROM platform.outbox WHERE id = $1`, [parked]);
    const deleted = await retention.sweep();
    expect(deleted['lineage.events']).toBeGreaterThanOrEqual(3);
    expect(await left()).toEqual([]);
    // the graph keeps what the deleted events said
    const g = (await t.http.get('/api/v1/lineage').query({ nodeId: 'job:retain:etl', depth: 1 }).set(admin).expect(200))
      .body.graph;
    const node = g.find((n: { id: string }) => n.id === 'job:retain:etl');
    expect(node.inEdges.map((e: { origin: string }) => e.origin)).toEqual(['dataset:pg://src:shop.orders']);
    expect(node.outEdges.map((e: { destination: string }) => e.destination)).toEqual(['dataset:pg://dwh:mart.orders']);
    expect(node.data.latestRun).toMatchObject({ id: running, state: 'START' });
    // the running run completes, declaring only its output: what it declared at START (now deleted
    // from lineage.events) still counts; replaying its COMPLETE changes nothing
    const edges = async () =>
      (
        await pg.query(
          `SELECT jd.direction || ':' || d.name AS e FROM lineage.job_datasets jd JOIN lineage.jobs j ON j.id = jd.job_id JOIN lineage.datasets d ON d.id = jd.dataset_id WHERE j.namespace = 'retain' ORDER BY 1`,
        )
      ).rows.map((r) => r.e);
    const complete = runEvent({ job, run: { runId: running }, eventTime: '2026-11-21T11:00:00.000Z', inputs: [] });
    await t.http.post('/api/v1/lineage').set(admin).send(complete).expect(201);
    await settle();
    expect(await edges()).toEqual(['input:shop.orders', 'output:mart.orders']);
    await t.http.post('/api/v1/lineage').set(admin).send(complete).expect(201);
    await settle();
    expect(await edges()).toEqual(['input:shop.orders', 'output:mart.orders']);
  });

  it('refuses names longer than Weir keeps; an event PostgreSQL refuses at apply time never holds back the events received with it', async () => {
    const long = await t.http
      .post('/api/v1/lineage')
      .set(admin)
      .send(runEvent({ outputs: [{ namespace: 'pg://dwh', name: 'x'.repeat(1025) }] }))
      .expect(400);
    expect(long.body).toMatchObject({
      code: 'LINEAGE.INVALID_EVENT',
      errors: [{ path: '/outputs/0/name', keyword: 'maxLength' }],
    });
    // valid OpenLineage, stored, but year 0 is no PostgreSQL timestamp: only that event stays out of the graph
    const bad = runEvent({ job: { namespace: 'poison', name: 'bad' } }) as ReturnType<typeof runEvent> & {
      run: Record<string, unknown>;
    };
    bad.run = {
      ...bad.run,
      facets: {
        nominalTime: {
          _producer: 'https://example.com/p',
          _schemaURL: 'https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json',
          nominalStartTime: '0000-01-01T00:00:00Z',
        },
      },
    };
    const good = runEvent({ job: { namespace: 'poison', name: 'good' } });
    await t.http.post('/api/v1/lineage/batch').set(admin).send([bad, good]).expect(201);
    await settle();
    // the first delivery fails as a whole; the redelivery (after the outbox's 1 s backoff) isolates the bad event
    const jobs = async () =>
      (await pg.query(`SELECT name FROM lineage.jobs WHERE namespace = 'poison' ORDER BY name`)).rows.map(
        (r) => r.name,
      );
    expect(
      await until(
        'the redelivered batch to be applied',
        async () => ((await jobs()).length ? jobs() : undefined),
        10_000,
      ),
    ).toEqual(['good']);
    expect(
      (await pg.query(`SELECT count(*)::int AS n FROM lineage.events WHERE job_namespace = 'poison'`)).rows[0].n,
    ).toBe(2);
    expect(
      (
        await pg.query(
          `SELECT count(*)::int AS n FROM platform.outbox WHERE topic = 'lineage.apply' AND dispatched_at IS NULL`,
        )
      ).rows[0].n,
    ).toBe(0);
    expect(
      await t.app.get(MetricsService).registry.getSingleMetricAsString('weir_lineage_events_unapplied_total'),
    ).toContain('weir_lineage_events_unapplied_total{kind="RunEvent"} 1');
    // alone, the same event is not dropped: its apply fails, is retried, and would be parked (visible)
    const alone = runEvent({ job: { namespace: 'poison', name: 'alone' } }) as ReturnType<typeof runEvent> & {
      run: Record<string, unknown>;
    };
    alone.run = { ...alone.run, facets: bad.run['facets'] };
    await t.http.post('/api/v1/lineage').set(admin).send(alone).expect(201);
    await settle();
    const waiting = (
      await pg.query(
        `SELECT id, attempts, last_error FROM platform.outbox WHERE topic = 'lineage.apply' AND dispatched_at IS NULL`,
      )
    ).rows;
    expect(waiting).toHaveLength(1);
    expect(waiting[0].attempts).toBeGreaterThanOrEqual(1);
    expect(waiting[0].last_error).toMatch(/out of range|invalid/i);
    await pg.query(`DELETE FROM platform.outbox WHERE id = $1`, [waiting[0].id]);
  });

  it('refuses invalid events with the schema errors, and survives a 12 MB event', async () => {
    const bad = runEvent({ run: { runId: 12345 }, eventType: 'DONE' }); // structural: a number, not a string (a non-UUID string is a warning)
    const r = await t.http.post('/api/v1/lineage').set(admin).send(bad).expect(400);
    expect(r.headers['content-type']).toContain('application/problem+json');
    expect(r.body.code).toBe('LINEAGE.INVALID_EVENT');
    expect(r.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: '/run/runId' }),
        expect.objectContaining({ path: '/eventType' }),
      ]),
    );
    expect(
      (
        await t.http
          .post('/api/v1/lineage')
          .set(admin)
          .set('content-type', 'application/json')
          .send('{"eventTime":')
          .expect(400)
      ).body.code,
    ).toBe('PLATFORM.MALFORMED_BODY');
    // a NUL PostgreSQL cannot hold (jsonb refuses \u0000): refused at the door by the global string rule; nothing half-stored
    const nul = await t.http
      .post('/api/v1/lineage')
      .set(admin)
      .send(runEvent({ job: { namespace: 'acme', name: 'nul\u0000byte' } }))
      .expect(400);
    expect(nul.body).toMatchObject({ code: 'PLATFORM.INVALID_STRING', pointer: '/job/name' });
    expect((await pg.query(`SELECT count(*)::int AS n FROM lineage.events WHERE job_name LIKE 'nul%'`)).rows[0].n).toBe(
      0,
    );

    // marquez#2078: a huge event (here 12 MB of SQL) is taken in stride
    const big = runEvent({
      job: {
        namespace: 'acme',
        name: 'big',
        facets: {
          sql: {
            _producer: 'https://example.com/p',
            _schemaURL: 'https://openlineage.io/spec/facets/1-1-0/SQLJobFacet.json',
            query: `select ${'x'.repeat(12 * 1024 * 1024)}`,
          },
        },
      },
    });
    await t.http.post('/api/v1/lineage').set(admin).send(big).expect(201);
    await t.http.get('/health').expect(200);
    const huge = JSON.stringify(
      runEvent({
        job: {
          namespace: 'acme',
          name: 'huge',
          facets: {
            sql: {
              _producer: 'https://example.com/p',
              _schemaURL: 'https://x.org/s',
              query: 'y'.repeat(33 * 1024 * 1024),
            },
          },
        },
      }),
    );
    expect(
      (await t.http.post('/api/v1/lineage').set(admin).set('content-type', 'application/json').send(huge).expect(413))
        .body.code,
    ).toBe('PLATFORM.PAYLOAD_TOO_LARGE');
    await t.http.get('/health').expect(200);
  });

  it('POST /api/v1/lineage (served ahead of the Nest router) keeps the API contract: auth and roles, request id, problem+json, metrics', async () => {
    const ev = () => runEvent({ job: { namespace: 'acme', name: 'lean.route' } });
    const ok = await t.http
      .post('/api/v1/lineage/?source=test')
      .set(admin)
      .set('X-Request-Id', 'ol-lean-1')
      .send(ev())
      .expect(201);
    expect(ok.body).toEqual({ accepted: true, kind: 'RunEvent' });
    expect(ok.headers['x-request-id']).toBe('ol-lean-1');
    expect(ok.headers['content-type']).toContain('application/json');
    await t.http.post('/api/v1/lineage').set('X-API-Key', ADMIN).send(ev()).expect(201);
    // errors: the same problem+json, with the request id
    const bad = await t.http
      .post('/api/v1/lineage')
      .set(admin)
      .set('X-Request-Id', 'ol-lean-2')
      .send(runEvent({ eventType: 'DONE' }))
      .expect(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.body).toMatchObject({
      code: 'LINEAGE.INVALID_EVENT',
      status: 400,
      requestId: 'ol-lean-2',
      instance: '/api/v1/lineage',
    });
    // auth: no key, an unknown key, a viewer key
    expect((await t.http.post('/api/v1/lineage').send(ev()).expect(401)).body.code).toBe('PLATFORM.UNAUTHENTICATED');
    expect(
      (await t.http.post('/api/v1/lineage').set('Authorization', 'Bearer not-a-key').send(ev()).expect(401)).body.code,
    ).toBe('PLATFORM.INVALID_API_KEY');
    const viewer = (
      await t.http.post('/api/platform/api-keys').set(admin).send({ name: 'ol-viewer', role: 'viewer' }).expect(201)
    ).body.key;
    expect(
      (await t.http.post('/api/v1/lineage').set('Authorization', `Bearer ${viewer}`).send(ev()).expect(403)).body.code,
    ).toBe('PLATFORM.FORBIDDEN');
    const editor = (
      await t.http.post('/api/platform/api-keys').set(admin).send({ name: 'ol-editor', role: 'editor' }).expect(201)
    ).body.key;
    await t.http.post('/api/v1/lineage').set('Authorization', `Bearer ${editor}`).send(ev()).expect(201);
    // not JSON: 415, naming the type the route takes
    expect(
      (await t.http.post('/api/v1/lineage').set(admin).set('content-type', 'text/plain').send('hello').expect(415)).body
        .code,
    ).toBe('PLATFORM.UNSUPPORTED_MEDIA_TYPE');
    // the route is labelled in the metrics
    const metrics = (await t.http.get('/metrics').set(admin).expect(200)).text;
    expect(metrics).toMatch(
      /weir_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/lineage",status_code="201"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /weir_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/lineage",status_code="400"\} [1-9]/,
    );
    await settle();
    const runs = (await t.http.get('/api/v1/namespaces/acme/jobs/lean.route/runs').set(admin).expect(200)).body;
    expect(runs.runs ?? runs).toHaveLength(3);
  });

  it('takes batches (/api/v1/lineage/batch) all or nothing, with the index of each invalid event', async () => {
    const good = [
      runEvent({ job: { namespace: 'batch', name: 'a' } }),
      runEvent({ job: { namespace: 'batch', name: 'b' } }),
    ];
    expect((await t.http.post('/api/v1/lineage/batch').set(admin).send(good).expect(201)).body).toEqual({
      accepted: 2,
      kinds: { RunEvent: 2 },
    });
    expect(
      (
        await t.http
          .post('/api/v1/lineage/batch')
          .set(admin)
          .send({ events: [runEvent({ job: { namespace: 'batch', name: 'c' } })] })
          .expect(201)
      ).body.accepted,
    ).toBe(1);
    const bad = await t.http
      .post('/api/v1/lineage/batch')
      .set(admin)
      .send([runEvent({ job: { namespace: 'batch', name: 'd' } }), runEvent({ eventTime: 'yesterday' })])
      .expect(400);
    expect(bad.body).toMatchObject({
      code: 'LINEAGE.INVALID_EVENT',
      errors: [expect.objectContaining({ index: 1, path: '/1/eventTime' })],
    });
    expect((await t.http.post('/api/v1/lineage/batch').set(admin).send([]).expect(400)).body.code).toBe(
      'LINEAGE.EMPTY_BATCH',
    );
    expect((await t.http.post('/api/v1/lineage/batch').set(admin).send({ nope: 1 }).expect(400)).body.code).toBe(
      'LINEAGE.BAD_BATCH',
    );
    await settle();
    const jobs = (await t.http.get('/api/v1/namespaces/batch/jobs').set(admin).expect(200)).body.jobs.map(
      (j: { name: string }) => j.name,
    );
    expect(jobs).toEqual(['a', 'b', 'c']); // nothing of the refused batch
  });

  it('keeps a run ended when its START arrives late or in the same millisecond', async () => {
    const runId = randomUUID();
    const at = '2026-11-21T10:00:00.000Z';
    await t.http
      .post('/api/v1/lineage')
      .set(admin)
      .send(runEvent({ run: { runId }, eventType: 'COMPLETE', eventTime: at, job: { namespace: 'order', name: 'j' } }))
      .expect(201);
    await t.http
      .post('/api/v1/lineage')
      .set(admin)
      .send(runEvent({ run: { runId }, eventType: 'START', eventTime: at, job: { namespace: 'order', name: 'j' } }))
      .expect(201);
    await settle();
    // and in one batch, START after COMPLETE
    const runId2 = randomUUID();
    await t.http
      .post('/api/v1/lineage/batch')
      .set(admin)
      .send([
        runEvent({
          run: { runId: runId2 },
          eventType: 'COMPLETE',
          eventTime: at,
          job: { namespace: 'order', name: 'j' },
        }),
        runEvent({
          run: { runId: runId2 },
          eventType: 'START',
          eventTime: '2026-11-21T09:59:00.000Z',
          job: { namespace: 'order', name: 'j' },
        }),
      ])
      .expect(201);
    await settle();
    const runs = (await t.http.get('/api/v1/namespaces/order/jobs/j/runs').set(admin).expect(200)).body.runs;
    expect(
      runs.map((r: { id: string; state: string; startedAt: string | null }) => [r.id, r.state, !!r.startedAt]).sort(),
    ).toEqual(
      [
        [runId, 'COMPLETED', true],
        [runId2, 'COMPLETED', true],
      ].sort(),
    );
  });

  it('walks cycles without looping: the depth bound and per-depth de-duplication end the walk', async () => {
    const io = (name: string, from: string, to: string) =>
      runEvent({
        job: { namespace: 'cyc', name },
        inputs: [{ namespace: 'cyc', name: from }],
        outputs: [{ namespace: 'cyc', name: to }],
      });
    await t.http
      .post('/api/v1/lineage')
      .set(admin)
      .send(io('a2b', 'a', 'b'))
      .expect(201);
    await t.http
      .post('/api/v1/lineage')
      .set(admin)
      .send(io('b2a', 'b', 'a'))
      .expect(201);
    await settle();
    const g = (await t.http.get('/api/v1/lineage').query({ nodeId: 'dataset:cyc:a', depth: 20 }).set(admin).expect(200))
      .body.graph;
    expect(g.map((n: { id: string }) => n.id)).toEqual([
      'dataset:cyc:a',
      'dataset:cyc:b',
      'job:cyc:a2b',
      'job:cyc:b2a',
    ]);
  });

  describe('events Weir emits for its own runs (through the outbox)', () => {
    let buildId: string;
    beforeAll(async () => {
      fs.cpSync(SHOP, path.join(files.dir, 'projects', 'shop'), { recursive: true });
      await t.http.post('/api/modeling/projects').set(admin).send({ path: 'shop' }).expect(201);
      const started = await t.http.post('/api/modeling/builds').set(admin).send({ project: 'shop' }).expect(202);
      buildId = started.body.id;
      const b = await t.app.get(ModelingService).waitForBuild(buildId, 120_000);
      expect(b.status).toBe('succeeded');
      await t.app.get(Outbox).drain(30_000);
    }, 180_000);

    it('emits START and COMPLETE per build step, with the parent build run, schema, dataSource and SQL-derived column lineage', async () => {
      const events = (
        await pg.query(`SELECT payload FROM lineage.events WHERE job_name = 'model.shop.fct_orders' ORDER BY id`)
      ).rows.map((r) => r.payload);
      expect(events.map((e) => e.eventType)).toEqual(['START', 'COMPLETE']);
      const done = events[1];
      expect(done.job).toMatchObject({
        namespace: 'weir',
        name: 'model.shop.fct_orders',
        facets: {
          jobType: { processingType: 'BATCH', integration: 'WEIR', jobType: 'MODEL' },
          sql: { query: expect.stringContaining('select') },
        },
      });
      expect(done.run.facets.parent).toMatchObject({
        run: { runId: buildId },
        job: { namespace: 'weir', name: 'build.shop' },
      });
      const out = done.outputs[0];
      expect(out.name).toMatch(/\.analytics\.fct_orders$|\.\w+\.fct_orders$/);
      expect(out.facets.dataSource.uri).toMatch(/^postgres:\/\/127\.0\.0\.1:\d+$/);
      expect(out.facets.schema.fields.map((f: { name: string }) => f.name)).toEqual(
        expect.arrayContaining(['order_key', 'amount', 'is_revenue']),
      );
      const amount = out.facets.columnLineage.fields.amount.inputFields as {
        name: string;
        field: string;
        transformations: { type: string; subtype: string }[];
      }[];
      expect(amount.filter((i) => i.transformations.some((x) => x.type === 'DIRECT'))).toEqual([
        expect.objectContaining({
          name: expect.stringMatching(/stg_orders$/),
          field: 'amount',
          transformations: [expect.objectContaining({ type: 'DIRECT', subtype: 'IDENTITY' })],
        }),
      ]);
      // the join key shapes every output column: INDIRECT/JOIN
      expect(amount).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            name: expect.stringMatching(/dim_customers$/),
            field: 'customer_id',
            transformations: [expect.objectContaining({ type: 'INDIRECT', subtype: 'JOIN' })],
          }),
        ]),
      );
      // the build's own run: START then COMPLETE
      const build = (
        await pg.query(`SELECT event_type FROM lineage.events WHERE job_name = 'build.shop' ORDER BY id`)
      ).rows.map((r) => r.event_type);
      expect(build).toEqual(['START', 'COMPLETE']);
      // seeds went through ingestion: its runs emit too, with IDENTITY lineage from the source's fields
      const ing = (
        await pg.query(
          `SELECT payload FROM lineage.events WHERE job_name LIKE 'ingestion.%' AND event_type = 'COMPLETE' ORDER BY id LIMIT 1`,
        )
      ).rows[0].payload;
      expect(ing.inputs[0].namespace).toBe('weir.sources');
      expect(Object.values(ing.outputs[0].facets.columnLineage.fields)[0]).toMatchObject({
        inputFields: [{ namespace: 'weir.sources', transformations: [{ type: 'DIRECT', subtype: 'IDENTITY' }] }],
      });
      expect(ing.outputs[0].outputFacets.outputStatistics.rowCount).toBeGreaterThan(0);
    });

    it('emits quality runs with dataQualityAssertions and dataQualityMetrics, FAIL when an error-severity check fails', async () => {
      const q = (
        await pg.query(
          `SELECT payload FROM lineage.events WHERE job_name LIKE 'quality.%' AND event_type IN ('COMPLETE', 'FAIL') ORDER BY id`,
        )
      ).rows.map((r) => r.payload);
      expect(q.length).toBeGreaterThan(0);
      const withAssertions = q.find((e) => e.inputs[0]?.facets?.dataQualityAssertions?.assertions?.length);
      expect(withAssertions.job.facets.jobType.jobType).toBe('TEST');
      expect(withAssertions.inputs[0].facets.dataQualityAssertions.assertions[0]).toMatchObject({
        assertion: expect.stringMatching(/^expect_/),
        success: expect.any(Boolean),
      });
      expect(withAssertions.inputs[0].inputFacets.dataQualityMetrics.rowCount).toEqual(expect.any(Number));
    });

    it("emitted events are valid against the upstream OpenLineage spec schemas and shaped like dbt-ol's", async () => {
      const events = (
        await pg.query(`SELECT payload FROM lineage.events WHERE producer LIKE 'https://github.com/weir-data/%'`)
      ).rows.map((r) => r.payload);
      expect(events.length).toBeGreaterThan(10);
      if (!fs.existsSync(SHARED_OL)) {
        process.stderr.write(`lineage e2e: ${SHARED_OL} not found, the upstream-schema check is skipped\n`);
        return;
      }

      const Ajv2020 = require('ajv/dist/2020').default;

      const addFormats = require('ajv-formats').default;
      const ajv = new Ajv2020({ strict: false, allErrors: true });
      addFormats(ajv);
      ajv.addSchema(JSON.parse(fs.readFileSync(path.join(SHARED_OL, 'spec/OpenLineage.json'), 'utf8')));
      const facets = new Map<string, string>();
      for (const f of fs.readdirSync(path.join(SHARED_OL, 'spec/facets'))) {
        const s = JSON.parse(fs.readFileSync(path.join(SHARED_OL, 'spec/facets', f), 'utf8'));
        ajv.addSchema(s);
        for (const k of Object.keys(s.properties ?? {})) facets.set(k, s.$id);
      }
      const runEventSchema = ajv.getSchema('https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent');
      const facetValid = (name: string, value: unknown) => {
        const id = facets.get(name);
        if (!id) return true;
        const v = ajv.getSchema(id)!;
        return (
          v({ [name]: value }) ||
          (() => {
            throw new Error(`${name}: ${JSON.stringify(v.errors)}`);
          })()
        );
      };
      for (const e of events) {
        expect(runEventSchema(e) ? [] : runEventSchema.errors).toEqual([]);
        for (const [k, v] of Object.entries(e.run.facets ?? {})) facetValid(k, v);
        for (const [k, v] of Object.entries(e.job.facets ?? {})) facetValid(k, v);
        for (const d of [...e.inputs, ...e.outputs]) {
          for (const [k, v] of Object.entries(d.facets ?? {})) facetValid(k, v);
          for (const [k, v] of Object.entries(d.inputFacets ?? {})) facetValid(k, v);
          for (const [k, v] of Object.entries(d.outputFacets ?? {})) facetValid(k, v);
        }
      }
      // dbt-ol's shape for a model step: the same keys where dbt puts them
      const dbt = JSON.parse(
        fs.readFileSync(path.join(SHARED_OL, 'dbt-postgres-expected-events/run_successful_run_ol_events.json'), 'utf8'),
      ) as Record<string, any>[];
      const dbtModel = dbt.find(
        (x) => x.job.name.startsWith('model.') && x.eventType === 'COMPLETE' && x.outputs?.length,
      )!;
      const ours = events.find((x) => x.job.name === 'model.shop.fct_orders' && x.eventType === 'COMPLETE');
      const shape = (x: Record<string, any>) => ({
        top: Object.keys(x)
          .filter((k) => ['eventTime', 'eventType', 'run', 'job', 'inputs', 'outputs'].includes(k))
          .sort(),
        job: /^model\.[^.]+\.[^.]+$/.test(x.job.name),
        parent: Object.keys(x.run.facets.parent ?? {})
          .filter((k) => !k.startsWith('_'))
          .sort(),
        jobType: Object.keys(x.job.facets.jobType)
          .filter((k) => !k.startsWith('_'))
          .sort(),
        outputFacets: ['dataSource', 'schema'].filter((k) => k in x.outputs[0].facets),
        inputNaming: x.inputs.every(
          (i: { namespace: string; name: string }) =>
            /^postgres:\/\/[^/]+:\d+$/.test(i.namespace) && i.name.split('.').length === 3,
        ),
      });
      expect(shape(ours)).toEqual(shape(dbtModel));
    });

    it('answers impact analysis: downstream datasets, columns, models and expectations, each with its path', async () => {
      const [{ name: stg }] = (await pg.query(`SELECT name FROM lineage.datasets WHERE name LIKE '%.stg_orders'`)).rows;
      const r = (
        await t.http
          .get('/api/lineage/impact')
          .query({ dataset: stg.split('.').slice(1).join('.'), column: 'amount' })
          .set(admin)
          .expect(200)
      ).body;
      const fct = r.datasets.find((d: { name: string }) => d.name.endsWith('.fct_orders'));
      expect(fct.path[0]).toMatch(/^dataset:postgres:.*stg_orders$/);
      expect(fct.path).toEqual(expect.arrayContaining(['job:weir:model.shop.fct_orders']));
      const col = r.columns.find(
        (c: { dataset: string; column: string }) => c.dataset.endsWith('.fct_orders') && c.column === 'amount',
      );
      expect(col).toMatchObject({ depth: 1, transformations: ['DIRECT/IDENTITY'] });
      expect(r.models.map((m: { name: string }) => m.name)).toContain('fct_orders');
      // no expectation checks amount downstream; status feeds fct_orders.status, which accepted_values checks
      expect(r.expectations).toEqual([]);
      const st = (
        await t.http
          .get('/api/lineage/impact')
          .query({ dataset: stg.split('.').slice(1).join('.'), column: 'status' })
          .set(admin)
          .expect(200)
      ).body;
      expect(st.expectations).toEqual([
        expect.objectContaining({
          table: expect.stringMatching(/\.fct_orders$/),
          expectation: 'expect_column_values_to_be_in_set',
          column: 'status',
          path: expect.arrayContaining(['job:weir:model.shop.fct_orders']),
        }),
      ]);
      // the whole dataset: every expectation on every downstream table
      const all = (
        await t.http
          .get('/api/lineage/impact')
          .query({ dataset: stg.split('.').slice(1).join('.') })
          .set(admin)
          .expect(200)
      ).body;
      expect(all.expectations.length).toBeGreaterThan(st.expectations.length);
      expect(all).toMatchObject({
        truncated: false,
        limit: 1000,
        counts: { expectations: all.expectations.length, columns: all.columns.length },
      });
      // a large blast radius comes back bounded, nearest first, with the totals
      const one = (
        await t.http
          .get('/api/lineage/impact')
          .query({ dataset: stg.split('.').slice(1).join('.'), limit: 1 })
          .set(admin)
          .expect(200)
      ).body;
      expect(one).toMatchObject({ truncated: true, limit: 1, counts: { columns: all.columns.length } });
      expect(one.columns).toEqual([all.columns[0]]);
      expect(
        (await t.http.get('/api/lineage/impact').query({ dataset: 'nope.nope' }).set(admin).expect(404)).body.code,
      ).toBe('LINEAGE.DATASET_NOT_FOUND');
    });

    it('draws the graph as Mermaid, DOT and SVG', async () => {
      const [{ namespace, name }] = (
        await pg.query(`SELECT namespace, name FROM lineage.datasets WHERE name LIKE '%.fct_orders'`)
      ).rows;
      const nodeId = `dataset:${namespace}:${name}`;
      const mmd = await t.http.get('/api/lineage/graph.mmd').query({ nodeId, depth: 1 }).set(admin).expect(200);
      expect(mmd.headers['content-type']).toContain('text/vnd.mermaid');
      expect(mmd.text).toMatch(/^flowchart LR/);
      expect(mmd.text).toContain('model.shop.fct_orders');
      const dot = await t.http
        .get('/api/lineage/graph.dot')
        .query({ nodeId, depth: 1, columns: true })
        .set(admin)
        .expect(200);
      expect(dot.text).toMatch(/^digraph lineage \{/);
      expect(dot.text).toContain('subgraph cluster_');
      // the model's column lineage: stg_orders.amount flows into amount (direct, solid); the join key
      // dim_customers.customer_id only shapes it (indirect, dashed); and a legend says which is which
      expect(dot.text).toMatch(/^ {2}n\d+ -> n\d+ \[style=solid, color="#1d4ed8", [^\n]*class="direct"/m);
      expect(dot.text).toMatch(
        /^ {2}n\d+ -> n\d+ \[style=dashed, color="#7c3aed", class="indirect", tooltip="[^"\n]*INDIRECT\/JOIN/m,
      );
      expect(dot.text).toContain('  subgraph cluster_legend {');
      expect(mmd.text).toContain('  subgraph legend["Legend"]');
      const svg = await t.http.get('/api/lineage/graph.svg').query({ nodeId, depth: 1 }).set(admin).expect(200);
      expect(svg.headers['content-type']).toContain('image/svg+xml');
      expect(String(svg.body ?? svg.text)).toContain('<svg');
      expect(String(svg.body ?? svg.text)).toContain('class="cluster legend"');
    });
  });

  it('forwards emitted events to WEIR_OPENLINEAGE_URL, retrying when the receiver fails', async () => {
    const received: Record<string, any>[] = [];
    let failFirst = 1;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (failFirst-- > 0) {
          res.statusCode = 503;
          return res.end();
        }
        received.push({ auth: req.headers['authorization'], event: JSON.parse(body) });
        res.statusCode = 201;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const t2 = await startTestApp({
      WEIR_OPENLINEAGE_URL: `http://127.0.0.1:${port}/api/v1/lineage`,
      WEIR_OPENLINEAGE_API_KEY: 'receiver-token',
    });
    try {
      const outbox = t2.app.get(Outbox);
      const ds = t2.app.get(DataSource);
      const ev: RunStateEvent = {
        slice: 'ingestion',
        job: 'ingestion.fwd',
        jobType: 'INGESTION',
        runId: randomUUID(),
        state: 'START',
        at: new Date().toISOString(),
        inputs: [],
        outputs: [],
      };
      await ds.transaction((em) => outbox.publish(em, RUN_EVENTS_TOPIC, ev));
      await outbox.drain(10_000);
      const deadline = Date.now() + 15_000;
      while (received.length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        await outbox.dispatchPending();
      }
      expect(received).toHaveLength(1);
      expect(received[0].auth).toBe('Bearer receiver-token');
      expect(received[0].event).toMatchObject({
        eventType: 'START',
        job: { namespace: 'weir', name: 'ingestion.fwd' },
        run: { runId: ev.runId },
      });
      // the receiver has the event before the forwarder's dispatch mark commits: wait for the mark
      const row = async () =>
        (await ds.query(
          `SELECT attempts, dispatched_at IS NOT NULL AS done, last_error FROM platform.outbox WHERE topic = 'lineage.forward'`,
        )) as { done: boolean }[];
      await until('the dispatch mark', async () => (await row())[0]?.done, 5_000);
      expect(await row()).toEqual([{ attempts: 2, done: true, last_error: null }]);
    } finally {
      await t2.close();
      server.close();
    }
  }, 60_000);
});
