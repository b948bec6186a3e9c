import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { controlPlaneOptions, loadConfig, Outbox } from '@weir/platform';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';
import type { LineageGraphWriter, StoreItem } from '../src/application/ports/lineage-graph-writer.port';
import { LineageStore } from '../src/infrastructure/lineage.store';

/** The graph as an observer sees it, adapter-neutral: names, not ids. */
interface GraphSnapshot {
  namespaces: string[];
  jobs: { job: string; latestRun: string | null; facets: Record<string, unknown> }[];
  datasets: { dataset: string; version: number; fields: string[]; facets: Record<string, unknown> }[];
  runs: { id: string; job: string; state: string; startedAt: string | null; endedAt: string | null }[];
  /** `job -> dataset` (output) or `dataset -> job` (input) */
  edges: string[];
  /** `source.col -> target.col TYPE/SUBTYPE (job)` */
  fieldEdges: string[];
}

interface Adapter {
  writer: LineageGraphWriter;
  /** Runs `work` in one transaction (committed unless it throws). */
  inTx<T>(work: (tx: { query(sql: string, params?: unknown[]): Promise<unknown> }) => Promise<T>): Promise<T>;
  snapshot(): Promise<GraphSnapshot>;
  /** A fingerprint of every stored job, dataset, field and edge row version (changes when one is rewritten). */
  rowVersions(): Promise<string>;
  done(): Promise<void>;
}

const T0 = Date.parse('2026-03-01T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const schema = (...cols: string[]) => ({ schema: { fields: cols.map((name) => ({ name, type: 'integer' })) } });
const columnLineage = (fields: Record<string, [string, string][]>, dataset?: [string, string][]) => ({
  columnLineage: {
    fields: Object.fromEntries(
      Object.entries(fields).map(([out, ins]) => [
        out,
        {
          inputFields: ins.map(([name, field]) => ({
            namespace: 'pg',
            name,
            field,
            transformations: [{ type: 'DIRECT', subtype: 'IDENTITY' }],
          })),
        },
      ]),
    ),
    ...(dataset ? { dataset: dataset.map(([name, field]) => ({ namespace: 'pg', name, field })) } : {}),
  },
});

function runEvent(
  eventType: string,
  s: number,
  runId: string,
  io: { inputs?: Record<string, unknown>[]; outputs?: Record<string, unknown>[]; job?: string } = {},
): StoreItem {
  return {
    kind: 'RunEvent',
    event: {
      eventType,
      eventTime: at(s),
      producer: 'https://example.com/contract',
      schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
      run: { runId, facets: {} },
      job: { namespace: 'etl', name: io.job ?? 'load_orders', facets: {} },
      inputs: io.inputs ?? [],
      outputs: io.outputs ?? [],
    },
  };
}
const ds = (name: string, facets: Record<string, unknown> = {}) => ({ namespace: 'pg', name, facets });

/** raw.orders (id, amount) -> load_orders -> marts.orders (id, total), with column lineage. */
function orderRun(runId: string, startS: number, input = 'raw.orders') {
  const io = {
    inputs: [ds(input, schema('id', 'amount'))],
    outputs: [
      ds('marts.orders', {
        ...schema('id', 'total'),
        ...columnLineage({ id: [[input, 'id']], total: [[input, 'amount']] }),
      }),
    ],
  };
  return [runEvent('START', startS, runId, io), runEvent('COMPLETE', startS + 5, runId, io)];
}

function lineageGraphWriterContract(name: string, make: () => Promise<Adapter>) {
  describe(`LineageGraphWriter contract: ${name}`, () => {
    let a: Adapter;
    const project = (items: StoreItem[]) => a.inTx((tx) => a.writer.project(tx, items));
    beforeEach(async () => (a = await make()));
    afterEach(() => a.done());

    it('a START and a COMPLETE make the job, its datasets, the run, the edges and the column lineage', async () => {
      const run = randomUUID();
      await project(orderRun(run, 0));
      const g = await a.snapshot();
      expect(g.namespaces).toEqual(['etl', 'pg']);
      expect(g.jobs).toEqual([{ job: 'etl/load_orders', latestRun: run, facets: {} }]);
      expect(g.datasets.map((d) => [d.dataset, d.version, d.fields])).toEqual([
        ['pg/marts.orders', 1, ['id', 'total']],
        ['pg/raw.orders', 1, ['id', 'amount']],
      ]);
      // column lineage is per run: not kept on the dataset node
      expect(g.datasets[0].facets).toEqual({ schema: schema('id', 'total').schema });
      expect(g.runs).toEqual([
        { id: run, job: 'etl/load_orders', state: 'COMPLETE', startedAt: at(0), endedAt: at(5) },
      ]);
      expect(g.edges).toEqual(['etl/load_orders -> pg/marts.orders', 'pg/raw.orders -> etl/load_orders']);
      expect(g.fieldEdges).toEqual([
        'pg/raw.orders.amount -> pg/marts.orders.total DIRECT/IDENTITY (etl/load_orders)',
        'pg/raw.orders.id -> pg/marts.orders.id DIRECT/IDENTITY (etl/load_orders)',
      ]);
    });

    it('projecting the same events again changes nothing, and rewrites no job, dataset, field or edge', async () => {
      const events = orderRun(randomUUID(), 0);
      await project(events);
      const before = await a.snapshot();
      const versions = await a.rowVersions();
      await project(events);
      for (const e of events) await project([e]);
      expect(await a.snapshot()).toEqual(before);
      expect(await a.rowVersions()).toBe(versions);
    });

    it("a run's end is final: a START after its COMPLETE does not reopen it, and a FAIL run ends FAIL", async () => {
      const [start, complete] = orderRun(randomUUID(), 0);
      await project([complete]);
      await project([start]);
      const failed = randomUUID();
      await project([runEvent('START', 20, failed, { job: 'other' }), runEvent('FAIL', 21, failed, { job: 'other' })]);
      const g = await a.snapshot();
      expect(g.runs.map((r) => [r.job, r.state, r.startedAt, r.endedAt])).toEqual([
        ['etl/load_orders', 'COMPLETE', at(0), at(5)],
        ['etl/other', 'FAIL', at(20), at(21)],
      ]);
      expect(g.jobs.find((j) => j.job === 'etl/other')!.latestRun).toBe(failed);
    });

    it("a later completed run supersedes: the job's edges and column lineage become what it declared", async () => {
      await project(orderRun(randomUUID(), 0));
      const second = randomUUID();
      await project(orderRun(second, 60, 'raw.orders_v2'));
      const g = await a.snapshot();
      expect(g.jobs[0].latestRun).toBe(second);
      expect(g.edges).toEqual(['etl/load_orders -> pg/marts.orders', 'pg/raw.orders_v2 -> etl/load_orders']);
      expect(g.fieldEdges).toEqual([
        'pg/raw.orders_v2.amount -> pg/marts.orders.total DIRECT/IDENTITY (etl/load_orders)',
        'pg/raw.orders_v2.id -> pg/marts.orders.id DIRECT/IDENTITY (etl/load_orders)',
      ]);
      // the old input stays a dataset of the graph, with nothing reading it
      expect(g.datasets.map((d) => d.dataset)).toContain('pg/raw.orders');
    });

    it('an older completed run, a failed run and older column lineage remove no edge and replace no column lineage', async () => {
      const newest = orderRun(randomUUID(), 60, 'raw.orders_v2');
      await project(newest);
      const before = await a.snapshot();
      await project(orderRun(randomUUID(), 0)); // completed before the stored one
      const failed = randomUUID();
      await project([runEvent('FAIL', 90, failed, { inputs: [ds('raw.elsewhere')] })]);
      const g = await a.snapshot();
      expect(g.fieldEdges).toEqual(before.fieldEdges);
      expect(g.edges).toEqual(
        [...before.edges, 'pg/raw.elsewhere -> etl/load_orders', 'pg/raw.orders -> etl/load_orders'].sort(),
      );
    });

    it('a changed schema makes a new version; the same schema again does not', async () => {
      await project(orderRun(randomUUID(), 0));
      const wider = runEvent('COMPLETE', 30, randomUUID(), {
        inputs: [ds('raw.orders', schema('id', 'amount', 'note'))],
      });
      await project([wider]);
      await project([wider]);
      const raw = (await a.snapshot()).datasets.find((d) => d.dataset === 'pg/raw.orders')!;
      expect([raw.version, raw.fields]).toEqual([2, ['id', 'amount', 'note']]);
    });

    it('dataset-level lineage feeds every column of the output, INDIRECT', async () => {
      const run = randomUUID();
      const out = ds('marts.big', { ...schema('a', 'b'), ...columnLineage({}, [['raw.flags', 'active']]) });
      await project([runEvent('COMPLETE', 0, run, { inputs: [ds('raw.flags')], outputs: [out] })]);
      expect((await a.snapshot()).fieldEdges).toEqual([
        'pg/raw.flags.active -> pg/marts.big.a INDIRECT/INDIRECT (etl/load_orders)',
        'pg/raw.flags.active -> pg/marts.big.b INDIRECT/INDIRECT (etl/load_orders)',
      ]);
    });

    it('facets merge, the latest winning, and a facet sent as {"_deleted": true} is removed', async () => {
      const withDocs = (s: number, docs: unknown) => {
        const e = runEvent('RUNNING', s, randomUUID());
        e.event['job']['facets'] = { documentation: docs, sql: { query: 'SELECT 1' } };
        return e;
      };
      await project([withDocs(0, { description: 'old' })]);
      await project([withDocs(1, { description: 'new' })]);
      expect((await a.snapshot()).jobs[0].facets).toEqual({
        documentation: { description: 'new' },
        sql: { query: 'SELECT 1' },
      });
      await project([withDocs(2, { _deleted: true })]);
      expect((await a.snapshot()).jobs[0].facets).toEqual({ sql: { query: 'SELECT 1' } });
    });

    it('keeps events as received, in order, reads them back, and publishes their ids in one statement', async () => {
      const events = orderRun(randomUUID(), 0);
      const raw = JSON.stringify(events[0].event);
      const ids = await a.inTx((tx) => a.writer.storeEvents(tx, [{ ...events[0], raw }, events[1]]));
      expect(ids).toHaveLength(2);
      expect(Number(ids[1])).toBeGreaterThan(Number(ids[0]));
      const loaded = await a.inTx((tx) => a.writer.loadEvents(tx, [...ids, '999999999']));
      expect([...loaded.keys()].sort()).toEqual([...ids].sort());
      expect(loaded.get(ids[1])).toEqual({ kind: 'RunEvent', event: events[1].event });
      expect((await a.snapshot()).jobs).toEqual([]); // stored, not applied
      const published: unknown[] = [];
      const outbox = {
        publishWith: async <T>(q: any, topic: string, cte: string, payloadSql: string, params: unknown[]) => {
          const [row] = (await q.query(`WITH src AS (${cte}) SELECT (${payloadSql}) AS payload`, params)) as {
            payload: T;
          }[];
          published.push([topic, row.payload]);
          return row.payload;
        },
      };
      const more = await a.inTx((tx) => a.writer.storeEventsAndPublish(tx, outbox as never, 'lineage.apply', events));
      expect(published).toEqual([['lineage.apply', { events: more }]]);
      expect((await a.inTx((tx) => a.writer.loadEvents(tx, more))).size).toBe(2);
    });

    it('tryProject: data PostgreSQL refuses rolls back to before the batch and is returned; the transaction goes on', async () => {
      const bad = runEvent('START', 0, randomUUID(), { job: 'bad' });
      bad.event['run']['facets'] = { nominalTime: { nominalStartTime: '0000-01-01T00:00:00Z' } };
      const good = orderRun(randomUUID(), 10);
      const result = await a.inTx(async (tx) => {
        const e = await a.writer.tryProject(tx, [bad]);
        const ok = await a.writer.tryProject(tx, good);
        return { e, ok };
      });
      expect((result.e as { code?: string }).code).toMatch(/^22/);
      expect(result.ok).toBeUndefined();
      const g = await a.snapshot();
      expect(g.jobs.map((j) => j.job)).toEqual(['etl/load_orders']);
      expect(g.runs).toHaveLength(1);
    });
  });
}

describe('on PostgreSQL', () => {
  let db: TestDatabase;
  let source: DataSource;
  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'weir_lineage_writer' });
    source = await new DataSource({ ...controlPlaneOptions(db.url, { entities: [] }), logging: false }).initialize();
  });
  afterAll(async () => {
    await source?.destroy();
    await db?.drop();
  });

  const q = <T>(sql: string): Promise<T[]> => source.query(sql);
  lineageGraphWriterContract('PostgreSQL (LineageStore)', async () => {
    await source.query(
      `TRUNCATE lineage.field_edges, lineage.fields, lineage.job_datasets, lineage.dataset_versions, lineage.runs, lineage.jobs, lineage.datasets, lineage.namespaces, lineage.events CASCADE`,
    );
    return {
      writer: new LineageStore(),
      inTx: (work) => source.transaction((m) => work(m)),
      async snapshot() {
        const iso = (d: Date | null) => (d ? d.toISOString() : null);
        return {
          namespaces: (await q<{ name: string }>(`SELECT name FROM lineage.namespaces ORDER BY 1`)).map((r) => r.name),
          jobs: (
            await q<{ job: string; latest_run_id: string | null; facets: Record<string, unknown> }>(
              `SELECT namespace || '/' || name AS job, latest_run_id, facets FROM lineage.jobs ORDER BY 1`,
            )
          ).map((r) => ({ job: r.job, latestRun: r.latest_run_id, facets: r.facets })),
          datasets: (
            await q<{
              dataset: string;
              current_version: number;
              fields: { name: string }[] | null;
              facets: Record<string, unknown>;
            }>(
              `SELECT d.namespace || '/' || d.name AS dataset, d.current_version, v.fields, d.facets FROM lineage.datasets d
                 LEFT JOIN lineage.dataset_versions v ON v.dataset_id = d.id AND v.version = d.current_version ORDER BY 1`,
            )
          ).map((r) => ({
            dataset: r.dataset,
            version: r.current_version,
            fields: (r.fields ?? []).map((f) => f.name),
            facets: r.facets,
          })),
          runs: (
            await q<{ id: string; job: string; state: string; started_at: Date | null; ended_at: Date | null }>(
              `SELECT r.id, j.namespace || '/' || j.name AS job, r.state, r.started_at, r.ended_at FROM lineage.runs r JOIN lineage.jobs j ON j.id = r.job_id ORDER BY 2, r.started_at`,
            )
          ).map((r) => ({
            id: r.id,
            job: r.job,
            state: r.state,
            startedAt: iso(r.started_at),
            endedAt: iso(r.ended_at),
          })),
          edges: (
            await q<{ e: string }>(
              `SELECT CASE jd.direction WHEN 'input' THEN d.namespace || '/' || d.name || ' -> ' || j.namespace || '/' || j.name
                                        ELSE j.namespace || '/' || j.name || ' -> ' || d.namespace || '/' || d.name END AS e
                 FROM lineage.job_datasets jd JOIN lineage.jobs j ON j.id = jd.job_id JOIN lineage.datasets d ON d.id = jd.dataset_id ORDER BY 1`,
            )
          ).map((r) => r.e),
          fieldEdges: (
            await q<{ e: string }>(
              `SELECT sd.namespace || '/' || sd.name || '.' || s.name || ' -> ' || td.namespace || '/' || td.name || '.' || t.name
                      || ' ' || e.type || '/' || e.subtype || ' (' || coalesce(j.namespace || '/' || j.name, '-') || ')' AS e
                 FROM lineage.field_edges e JOIN lineage.fields s ON s.id = e.source_field_id JOIN lineage.datasets sd ON sd.id = s.dataset_id
                 JOIN lineage.fields t ON t.id = e.target_field_id JOIN lineage.datasets td ON td.id = t.dataset_id
                 LEFT JOIN lineage.jobs j ON j.id = e.job_id ORDER BY 1`,
            )
          ).map((r) => r.e),
        };
      },
      async rowVersions() {
        const [r] = await q<{ v: string }>(
          `SELECT concat_ws('|',
             (SELECT string_agg(id || ':' || xmin, ',' ORDER BY id) FROM lineage.jobs),
             (SELECT string_agg(id || ':' || xmin, ',' ORDER BY id) FROM lineage.datasets),
             (SELECT string_agg(dataset_id || '.' || version || ':' || xmin, ',' ORDER BY 1) FROM lineage.dataset_versions),
             (SELECT string_agg(id || ':' || xmin, ',' ORDER BY id) FROM lineage.fields),
             (SELECT string_agg(job_id || direction || dataset_id || ':' || xmin, ',' ORDER BY 1) FROM lineage.job_datasets),
             (SELECT string_agg(id || ':' || xmin, ',' ORDER BY id) FROM lineage.field_edges)) AS v`,
        );
        return r.v;
      },
      done: async () => undefined,
    };
  });

  it('deleteOldEvents deletes events received more than `days` ago (and before `before`), oldest first', async () => {
    const writer = new LineageStore();
    const events = orderRun(randomUUID(), 0);
    const ids = await writer.storeEvents(source, [...events, ...events]);
    await source.query(
      `UPDATE lineage.events SET received_at = now() - make_interval(days => 10 + id::int % 2) WHERE id = ANY($1::bigint[])`,
      [ids.slice(0, 3)],
    );
    expect(await writer.deleteOldEvents(source, 1, 5, null)).toBe(1);
    expect(await writer.deleteOldEvents(source, 10, 5, new Date(Date.now() - 10.5 * 86_400_000))).toBe(1);
    expect(await writer.deleteOldEvents(source, 10, 5, null)).toBe(1);
    const [{ n }] = await source.query(`SELECT count(*)::int AS n FROM lineage.events WHERE id = ANY($1::bigint[])`, [
      ids,
    ]);
    expect(n).toBe(1);
  });

  it('the real outbox publishes the stored ids', async () => {
    const outbox = new Outbox(source, loadConfig({ DATABASE_URL: db.url, WEIR_ROLES: 'api' }));
    const ids = await new LineageStore().storeEventsAndPublish(
      source,
      outbox,
      'lineage.contract',
      orderRun(randomUUID(), 0),
    );
    await outbox.beforeApplicationShutdown();
    const [row] = await source.query(`SELECT payload FROM platform.outbox WHERE topic = 'lineage.contract'`);
    expect(row.payload).toEqual({ events: ids });
  });
});
