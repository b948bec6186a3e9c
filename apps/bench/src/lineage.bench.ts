/* eslint-disable no-console -- a command-line report */
/**
 * `npm run bench:lineage -- --datasets 100000`: generates a lineage graph in the `lineage` store
 * (100k datasets in 20 layers, a job per dataset past the first layer reading 2 datasets of the
 * layer before and writing it: ~285k job edges; 5 fields per dataset, each output field derived
 * from one field of each input: ~950k field edges), starts the compiled Weir API in its own
 * process, and measures over HTTP:
 * - p50/p95/p99 of depth-5 downstream and upstream `GET /api/v1/lineage` (random nodes);
 * - the same for `GET /api/v1/column-lineage` (reported, not targeted);
 * - OpenLineage ingest: START/COMPLETE pairs of runs of 500 recurring jobs (schema, columnLineage,
 *   outputStatistics), one per request (--clients, default 16) and 100 per request to /api/v1/lineage/batch:
 *   events/s until all are in the graph.
 * Baseline, same run: the same depth-5 traversal as one SQL query straight to PostgreSQL
 * (`ratio` = HTTP p95 / SQL p95: what the API adds on top of the database's own walk).
 * Last line: {"bench":"lineage","datasets":…,"p50_ms":…,"p95_ms":…,"p99_ms":…,"events_per_s":…,…}.
 * Targets: p95 < 20 ms, ≥ 1,000 events/s.
 */
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as http from 'node:http';
import { Client } from 'pg';
import { freePort, runMigrations } from '@weir/platform';
import { arg, benchDatabase } from './support';

const DATASETS = Number(arg('datasets', '100000'));
const QUERIES = Number(arg('queries', '300'));
const EVENTS = 2 * Math.ceil(Number(arg('events', '3000')) / 2); // START + COMPLETE per run
const KEEP = process.argv.includes('--keep');
const CLIENTS = Number(arg('clients', '16'));
const TOPOLOGY = arg('processes', 'single') === 'split' ? 'split' : 'single';
const LAYERS = 20;
const FIELDS = 5;
const KEY = 'bench-admin-key-0123456789abcdef';
const root = path.resolve(__dirname, '..', '..', '..');

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

/** The graph, generated set-based in PostgreSQL (deterministic pseudo-random picks). */
async function generate(c: Client): Promise<{ jobs: number; edges: number; fieldEdges: number }> {
  const perLayer = Math.ceil(DATASETS / LAYERS);
  await c.query(`INSERT INTO lineage.namespaces (name) VALUES ('bench'), ('bench-jobs')`);
  await c.query(
    `INSERT INTO lineage.datasets (id, namespace, name, current_version) SELECT g, 'bench', 'ds_' || lpad(g::text, 6, '0'), 1 FROM generate_series(1, $1::int) g`,
    [DATASETS],
  );
  await c.query(
    `INSERT INTO lineage.dataset_versions (dataset_id, version, fields)
     SELECT g, 1, (SELECT jsonb_agg(jsonb_build_object('name', 'f' || k, 'type', 'integer')) FROM generate_series(1, $2::int) k) FROM generate_series(1, $1::int) g`,
    [DATASETS, FIELDS],
  );
  await c.query(
    `INSERT INTO lineage.fields (id, dataset_id, name, type) SELECT (g - 1) * $2 + k, g, 'f' || k, 'integer' FROM generate_series(1, $1::int) g, generate_series(1, $2::int) k`,
    [DATASETS, FIELDS],
  );
  // job j writes dataset j (layers 1..) and reads two datasets of the previous layer
  await c.query(
    `INSERT INTO lineage.jobs (id, namespace, name) SELECT g, 'bench-jobs', 'job_' || lpad(g::text, 6, '0') FROM generate_series($2::int + 1, $1::int) g`,
    [DATASETS, perLayer],
  );
  await c.query(
    `CREATE TEMP TABLE reads AS
     SELECT g AS job_id, ((g - 1) / $2 - 1) * $2 + 1 + (abs(hashint4(g * 2 + r)) % $2) AS src, r
       FROM generate_series($2::int + 1, $1::int) g, generate_series(0, 1) r`,
    [DATASETS, perLayer],
  );
  await c.query(
    `DELETE FROM reads a USING reads b WHERE a.job_id = b.job_id AND a.src = b.src AND a.r = 1 AND b.r = 0`,
  );
  await c.query(
    `INSERT INTO lineage.job_datasets (job_id, direction, dataset_id) SELECT g, 'output', g FROM generate_series($2::int + 1, $1::int) g`,
    [DATASETS, perLayer],
  );
  await c.query(
    `INSERT INTO lineage.job_datasets (job_id, direction, dataset_id) SELECT job_id, 'input', src FROM reads`,
  );
  await c.query(
    `INSERT INTO lineage.field_edges (target_field_id, source_field_id, type, subtype, job_id)
     SELECT (r.job_id - 1) * $1 + k, (r.src - 1) * $1 + k, 'DIRECT', CASE WHEN r.r = 0 THEN 'IDENTITY' ELSE 'TRANSFORMATION' END, r.job_id
       FROM reads r, generate_series(1, $1::int) k`,
    [FIELDS],
  );
  for (const t of ['datasets', 'fields', 'jobs'])
    await c.query(`SELECT setval(pg_get_serial_sequence('lineage.${t}', 'id'), (SELECT max(id) FROM lineage.${t}))`);
  await c.query(
    `VACUUM ANALYZE lineage.datasets, lineage.dataset_versions, lineage.fields, lineage.jobs, lineage.job_datasets, lineage.field_edges`,
  );
  const [{ jobs, edges, fe }] = (
    await c.query(
      `SELECT (SELECT count(*) FROM lineage.jobs)::int AS jobs, (SELECT count(*) FROM lineage.job_datasets)::int AS edges, (SELECT count(*) FROM lineage.field_edges)::int AS fe`,
    )
  ).rows;
  return { jobs, edges, fieldEdges: fe };
}

/**
 * Starts the compiled service: with `--processes single` (the default) one process doing both;
 * with `split` an API process (WEIR_ROLES=api) and a worker process (WEIR_ROLES=worker, which
 * applies received events to the graph), the deployment ARCHITECTURE.md describes for scale
 * (on this 2-vCPU machine it measured slower: the processes share the same two cores).
 */
async function startApi(url: string, port: number, work: string): Promise<ChildProcess[]> {
  execFileSync(process.execPath, [path.join(root, 'tools/build.js'), '--quiet'], { stdio: 'inherit' });
  // BENCH_API_NODE_ARGS: extra node flags for the API process (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof)
  const nodeArgs = (process.env['BENCH_API_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const start = (roles: string, args: string[] = []) =>
    spawn(process.execPath, [...args, path.join(root, 'dist/apps/api/src/main.js')], {
      env: {
        ...process.env,
        DATABASE_URL: url,
        PORT: String(port),
        HOST: '127.0.0.1',
        WEIR_ADMIN_API_KEY: KEY,
        WEIR_LOG_LEVEL: 'warn',
        WEIR_DATA_DIR: work,
        WEIR_ROLES: roles,
        WEIR_MIGRATE: 'off',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  const children = TOPOLOGY === 'split' ? [start('api', nodeArgs), start('worker')] : [start('api,worker', nodeArgs)];
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return children;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const c of children) c.kill('SIGKILL');
  throw new Error('the API did not become healthy within 30 s');
}

async function main(): Promise<void> {
  const db = await benchDatabase('weir_lbench');
  const { work, url, client: c } = db;
  let api: ChildProcess[] = [];
  try {
    await runMigrations(url);
    console.log(`bench lineage: generating ${DATASETS} datasets in ${LAYERS} layers, ${FIELDS} fields each…`);
    const t0 = process.hrtime.bigint();
    const g = await generate(c);
    console.log(
      `  ${DATASETS} datasets, ${g.jobs} jobs, ${g.edges} job edges, ${DATASETS * FIELDS} fields, ${g.fieldEdges} field edges in ${(ms(t0) / 1000).toFixed(1)} s`,
    );
    const port = await freePort();
    api = await startApi(url, port, work);
    const headers = { authorization: `Bearer ${KEY}` };
    const perLayer = Math.ceil(DATASETS / LAYERS);
    // downstream from the first layers, upstream from the last ones: full depth-5 walks
    const pick = (i: number, lo: number, hi: number) => lo + (Math.abs(Math.imul(i + 1, 2654435761)) % (hi - lo));
    const name = (id: number) => `ds_${String(id).padStart(6, '0')}`;
    const sample = (dir: 'downstream' | 'upstream') =>
      Array.from({ length: QUERIES }, (_, i) =>
        dir === 'downstream' ? pick(i, 1, perLayer * 10) : pick(i, perLayer * 10, DATASETS) + 1,
      );

    // a keep-alive client timing each request to its last byte (as wrk or autocannon do); the body
    // is parsed and checked after the clock stops, so the client's JSON parse is not counted
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const get = (p: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: p, agent, headers }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          })
          .on('error', reject);
      });
    const timeHttp = async (
      what: string,
      ids: number[],
      q: (id: number) => string,
    ): Promise<{ lat: number[]; nodes: number }> => {
      for (const id of ids.slice(0, 20)) await get(q(id)); // warm-up
      const lat: number[] = [];
      let nodes = 0;
      for (const id of ids) {
        const t = process.hrtime.bigint();
        const res = await get(q(id));
        lat.push(ms(t));
        const body = JSON.parse(res.body) as { graph?: unknown[] };
        if (res.status !== 200 || !Array.isArray(body.graph))
          throw new Error(`${what}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
        nodes += body.graph.length;
      }
      console.log(
        `  ${what}: p50 ${pct(lat, 50).toFixed(1)} ms, p95 ${pct(lat, 95).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms, ${(nodes / ids.length).toFixed(0)} nodes per graph (${ids.length} queries)`,
      );
      return { lat, nodes: nodes / ids.length };
    };
    const down = await timeHttp(
      'HTTP depth-5 downstream /api/v1/lineage',
      sample('downstream'),
      (id) => `/api/v1/lineage?nodeId=${encodeURIComponent(`dataset:bench:${name(id)}`)}&depth=5&direction=downstream`,
    );
    const up = await timeHttp(
      'HTTP depth-5 upstream   /api/v1/lineage',
      sample('upstream'),
      (id) => `/api/v1/lineage?nodeId=${encodeURIComponent(`dataset:bench:${name(id)}`)}&depth=5&direction=upstream`,
    );
    const col = await timeHttp(
      'HTTP depth-5 upstream   /api/v1/column-lineage',
      sample('upstream').slice(0, Math.ceil(QUERIES / 3)),
      (id) => `/api/v1/column-lineage?nodeId=${encodeURIComponent(`datasetField:bench:${name(id)}:f1`)}&depth=5`,
    );
    const all = [...down.lat, ...up.lat];

    // baseline: the same downstream walk as one SQL statement, straight to PostgreSQL
    const sqlLat: number[] = [];
    for (const id of sample('downstream')) {
      const t = process.hrtime.bigint();
      await c.query(
        `WITH RECURSIVE down(job_id, depth) AS (
           SELECT job_id, 1 FROM lineage.job_datasets WHERE dataset_id = $1 AND direction = 'input'
           UNION
           SELECT i.job_id, d.depth + 1 FROM down d JOIN lineage.job_datasets o ON o.job_id = d.job_id AND o.direction = 'output'
             JOIN lineage.job_datasets i ON i.dataset_id = o.dataset_id AND i.direction = 'input' WHERE d.depth < 5)
         SELECT jd.* FROM lineage.job_datasets jd WHERE jd.job_id IN (SELECT job_id FROM down)`,
        [id],
      );
      sqlLat.push(ms(t));
    }
    console.log(
      `  baseline SQL walk (same query shape, no HTTP): p50 ${pct(sqlLat, 50).toFixed(1)} ms, p95 ${pct(sqlLat, 95).toFixed(1)} ms`,
    );

    // OpenLineage ingest throughput over HTTP
    // What producers send: each run of a recurring job (500 jobs, each reading 2 of 1000 tables
    // and writing its own) emits START (inputs and outputs with their schema) then COMPLETE (the
    // output's columnLineage and outputStatistics as well), with the same runId.
    const JOBS = 500;
    const schema = (n: number) => ({
      _producer: 'https://example.com/bench',
      _schemaURL: 'https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json',
      fields: Array.from({ length: n }, (_, k) => ({ name: `c${k}`, type: 'integer' })),
    });
    const runIds = new Map<number, string>();
    const event = (i: number, ns = 'bench-ingest') => {
      const run = Math.floor(i / 2);
      const complete = i % 2 === 1;
      const job = run % JOBS;
      const a = `in_${job % 1000}`;
      const b = `in_${(job * 7 + 3) % 1000}`;
      if (!runIds.has(run)) runIds.set(run, randomUUID());
      const output: Record<string, unknown> = { namespace: ns, name: `out_${job}`, facets: { schema: schema(5) } };
      if (complete) {
        (output['facets'] as Record<string, unknown>)['columnLineage'] = {
          _producer: 'https://example.com/bench',
          _schemaURL: 'https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json',
          fields: Object.fromEntries(
            Array.from({ length: 5 }, (_, k) => [
              `c${k}`,
              {
                inputFields: [
                  {
                    namespace: ns,
                    name: a,
                    field: `c${k}`,
                    transformations: [{ type: 'DIRECT', subtype: 'IDENTITY' }],
                  },
                  { namespace: ns, name: b, field: `c${k}`, transformations: [{ type: 'INDIRECT', subtype: 'JOIN' }] },
                ],
              },
            ]),
          ),
        };
        output['outputFacets'] = {
          outputStatistics: {
            _producer: 'https://example.com/bench',
            _schemaURL: 'https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json',
            rowCount: 1000 + job,
          },
        };
      }
      return {
        eventType: complete ? 'COMPLETE' : 'START',
        eventTime: new Date().toISOString(),
        producer: 'https://example.com/bench',
        schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
        run: { runId: runIds.get(run)! },
        job: { namespace: ns, name: `job_${job}` },
        inputs: [
          { namespace: ns, name: a, facets: { schema: schema(5) } },
          { namespace: ns, name: b, facets: { schema: schema(5) } },
        ],
        outputs: [output],
      };
    };
    // the same light keep-alive client, so the load generator is not what is measured
    const post = (p: string, body: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            path: p,
            method: 'POST',
            agent,
            headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const applied = async () => {
      for (;;) {
        const [{ n }] = (
          await c.query(
            `SELECT count(*)::int AS n FROM platform.outbox WHERE topic = 'lineage.apply' AND dispatched_at IS NULL`,
          )
        ).rows;
        if (n === 0) return;
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    /** Posts `bodies` with `clients` concurrent clients; events/s until the graph holds them all. */
    const ingest = async (label: string, p: string, bodies: string[], perBody: number, clients: number) => {
      let next = 0;
      let failed = 0;
      const t = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (next < bodies.length) if ((await post(p, bodies[next++])) !== 201) failed++;
        }),
      );
      const acceptSecs = ms(t) / 1000;
      await applied();
      const secs = ms(t) / 1000;
      const n = bodies.length * perBody;
      if (failed) throw new Error(`${label}: ${failed} requests refused`);
      console.log(
        `  OpenLineage ingest, ${label}: ${n} RunEvents (START/COMPLETE of runs of 500 jobs; 2 inputs, 1 output, schema, columnLineage), ${clients} clients: accepted in ${acceptSecs.toFixed(2)} s, in the graph after ${secs.toFixed(2)} s = ${(n / secs).toFixed(0)} events/s`,
      );
      return n / secs;
    };
    // warm-up, as for the queries: 400 events of the same shape in another namespace (their own
    // jobs and datasets, so the measured events still create theirs), then the measured runs
    const warm = Array.from({ length: 400 }, (_, i) => JSON.stringify(event(1_000_000 + i, 'bench-warmup')));
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (warm.length) await post('/api/v1/lineage', warm.shift()!);
      }),
    );
    await applied();
    const single = await ingest(
      'one event per request (POST /api/v1/lineage)',
      '/api/v1/lineage',
      Array.from({ length: EVENTS }, (_, i) => JSON.stringify(event(i))),
      1,
      CLIENTS,
    );
    const BATCH = 100;
    const batch = await ingest(
      `${BATCH} events per request (POST /api/v1/lineage/batch)`,
      '/api/v1/lineage/batch',
      Array.from({ length: Math.ceil(EVENTS / BATCH) }, (_, b) =>
        JSON.stringify(Array.from({ length: BATCH }, (_, i) => event(EVENTS + b * BATCH + i))),
      ),
      BATCH,
      4,
    );
    agent.destroy();
    const runsInGraph = (
      await c.query(
        `SELECT count(*)::int AS n FROM lineage.runs r JOIN lineage.jobs j ON j.id = r.job_id WHERE j.namespace = 'bench-ingest'`,
      )
    ).rows[0].n;
    const total = Math.ceil((EVENTS + Math.ceil(EVENTS / BATCH) * BATCH) / 2);
    const completed = (
      await c.query(
        `SELECT count(*)::int AS n FROM lineage.runs r JOIN lineage.jobs j ON j.id = r.job_id WHERE j.namespace = 'bench-ingest' AND r.state = 'COMPLETE'`,
      )
    ).rows[0].n;
    if (runsInGraph !== total || completed !== total)
      throw new Error(`ingest: ${runsInGraph} runs (${completed} complete) in the graph, expected ${total}`);
    const eventsPerS = single;

    const p95 = pct(all, 95);
    const ratio = p95 / pct(sqlLat, 95);
    console.log(
      `targets: p95 ${p95.toFixed(1)} ms < 20 ms: ${p95 < 20 ? 'met' : 'NOT met'}; ${eventsPerS.toFixed(0)} events/s one per request ≥ 1000: ${eventsPerS >= 1000 ? 'met' : 'NOT met'} (batched: ${batch.toFixed(0)} events/s)`,
    );
    console.log(
      JSON.stringify({
        bench: 'lineage',
        datasets: DATASETS,
        jobs: g.jobs,
        edges: g.edges,
        field_edges: g.fieldEdges,
        queries: all.length,
        p50_ms: +pct(all, 50).toFixed(2),
        p95_ms: +p95.toFixed(2),
        p99_ms: +pct(all, 99).toFixed(2),
        downstream_p95_ms: +pct(down.lat, 95).toFixed(2),
        upstream_p95_ms: +pct(up.lat, 95).toFixed(2),
        column_p95_ms: +pct(col.lat, 95).toFixed(2),
        sql_p95_ms: +pct(sqlLat, 95).toFixed(2),
        ratio: +ratio.toFixed(2),
        events: EVENTS,
        events_per_s: Math.round(eventsPerS),
        events_per_s_batch: Math.round(batch),
        processes: TOPOLOGY === 'split' ? 'api+worker' : 'api,worker',
      }),
    );
  } finally {
    for (const p of api) {
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
    }
    if (KEEP) console.log(`kept database ${db.name} (--keep)`);
    await db.close({ keep: KEEP });
  }
}

main().catch((e) => {
  console.error(`bench lineage failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
