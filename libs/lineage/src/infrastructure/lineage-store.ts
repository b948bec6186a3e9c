import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { rowsOf, type Queryable } from '@weir/platform';
import type { OpenLineageKind, OpenLineageWarning } from '../domain/openlineage-validator';
import { datasetLevelOf, foldEvents, graphKey as key } from '../domain/graph-delta';

type Json = Record<string, any>;

/** One validated event to apply. */
export interface StoreItem {
  kind: OpenLineageKind;
  event: Json;
  /** The event's JSON text as received, when there is one (stored as is). */
  raw?: string;
  /** What a leniently accepted event deviated in (stored with it). */
  warnings?: OpenLineageWarning[];
}

/**
 * The rows of an insert-or-find statement (`INSERT … ON CONFLICT DO NOTHING RETURNING …, true AS
 * inserted` plus the existing rows, `false`), one per key: an inserted row wins over a found one.
 */
function oneRowPerKey<R extends { inserted: boolean }>(rows: R[], keyOf: (r: R) => string): Map<string, R> {
  const out = new Map<string, R>();
  for (const r of rows) {
    const k = keyOf(r);
    if (!out.get(k)?.inserted) out.set(k, r);
  }
  return out;
}
const byKey = <T>(a: [string, T], b: [string, T]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** Facets as stored: one sent as `{"_deleted": true}` removes the facet (OpenLineage's way to delete one). */
const withoutDeleted = (f: Json): Json =>
  Object.fromEntries(
    Object.entries(f).filter(([, v]) => !(v && typeof v === 'object' && (v as Json)['_deleted'] === true)),
  );
/**
 * Digest of a column-lineage facet (its fields and dataset-level lineage, not who produced it), as
 * sent: a producer that reorders keys between runs only costs a re-check, never a wrong skip.
 */
function digest(facet: Json, columns?: string[]): string {
  return createHash('sha1')
    .update(JSON.stringify([facet['fields'] ?? null, facet['dataset'] ?? null, ...(columns ? [columns] : [])]))
    .digest('hex');
}

/** Transformation of an OpenLineage input field, with the deprecated 1-0 fields as fallback. */
function transformationsOf(
  inputField: Json,
  outputField: Json,
  datasetLevel = false,
): { type: 'DIRECT' | 'INDIRECT'; subtype: string; description: string | null }[] {
  const ts = Array.isArray(inputField['transformations']) ? (inputField['transformations'] as Json[]) : [];
  // dataset-level lineage affects the whole dataset, not a value: INDIRECT unless told otherwise
  if (!ts.length && datasetLevel) return [{ type: 'INDIRECT', subtype: 'INDIRECT', description: null }];
  if (ts.length) {
    return ts.map((t) => ({
      type: t['type'] === 'INDIRECT' ? 'INDIRECT' : 'DIRECT',
      subtype:
        typeof t['subtype'] === 'string' && t['subtype']
          ? String(t['subtype']).toUpperCase().slice(0, 16)
          : t['type'] === 'INDIRECT'
            ? 'INDIRECT'
            : 'TRANSFORMATION',
      description: typeof t['description'] === 'string' ? t['description'] : null,
    }));
  }
  const legacy =
    typeof outputField['transformationType'] === 'string'
      ? String(outputField['transformationType']).toUpperCase()
      : '';
  return [
    {
      type: 'DIRECT',
      subtype: legacy === 'IDENTITY' ? 'IDENTITY' : 'TRANSFORMATION',
      description:
        typeof outputField['transformationDescription'] === 'string' ? outputField['transformationDescription'] : null,
    },
  ];
}

/**
 * Writes accepted OpenLineage events into the `lineage` graph, on the caller's transaction.
 * A batch of events costs a fixed number of statements (arrays unnested server-side), whatever
 * its size: events, namespaces, jobs, runs, datasets, fields, schema versions, job edges and field
 * edges each take one. Events of one batch are folded in order first, exactly as if applied one
 * after the other (the latest facets win, a run keeps its latest or terminal state, a job's newer
 * column lineage for an output replaces its older). Rows that would not change are not written
 * (no lock, no dead tuple), so replaying an event changes nothing in the graph.
 */
export class LineageStore {
  /** Keeps the events as received (lineage.events); returns their ids, in order. */
  async storeEvents(tx: Queryable, items: StoreItem[]): Promise<string[]> {
    const { sql, params } = this.storeEventsSql(items);
    return rowsOf<{ id: string }>(await tx.query(sql, params)).map((r) => r.id);
  }

  /** The INSERT of {@link storeEvents} (RETURNING id), to compose into one statement. */
  storeEventsSql(items: StoreItem[]): { sql: string; params: unknown[] } {
    // the events travel as one JSON text (no array-literal escaping), their columns are read from it
    return {
      sql: `INSERT INTO lineage.events (kind, event_type, event_time, run_id, job_namespace, job_name, producer, payload, warnings)
            SELECT k.kind, x.e->>'eventType', (x.e->>'eventTime')::timestamptz, CASE WHEN k.kind = 'RunEvent' THEN (x.e->'run'->>'runId')::uuid END,
                   x.e->'job'->>'namespace', x.e->'job'->>'name', x.e->>'producer', x.e, w.w
              FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS x(e, n) JOIN unnest($1::varchar[]) WITH ORDINALITY AS k(kind, n) USING (n)
                   LEFT JOIN jsonb_array_elements($3::jsonb) WITH ORDINALITY AS w(w, wn) ON w.wn = x.n AND jsonb_typeof(w.w) = 'array'
             ORDER BY n
            RETURNING id`,
      params: [
        items.map((i) => i.kind),
        `[${items.map((i) => i.raw ?? JSON.stringify(i.event)).join(',')}]`,
        items.some((i) => i.warnings?.length)
          ? JSON.stringify(items.map((i) => (i.warnings?.length ? i.warnings : null)))
          : '[]',
      ],
    };
  }

  /** Applies events (already validated) to the graph. */
  async project(tx: Queryable, items: StoreItem[]): Promise<void> {
    // fold the batch, in order (pure: domain/graph-delta.ts), then write each table
    const delta = foldEvents(items);
    const { namespaces, jobs, runs, datasets, schemas, io, lineage, fields, runIo } = delta;
    const addField = delta.addField.bind(delta);
    void fields;

    // Each table: one INSERT … ON CONFLICT DO NOTHING of the new rows that also reads back the
    // existing ones by `= ANY(array)` on indexed columns (a superset, narrowed here), then UPDATEs by
    // primary key only the rows whose content changes. No join against the unnested input: on a
    // large graph the planner misjudges such joins and scans whole tables.
    await tx.query(
      `INSERT INTO lineage.namespaces (name) SELECT n FROM unnest($1::varchar[]) n ORDER BY 1 ON CONFLICT (name) DO NOTHING`,
      [[...namespaces].sort()],
    );

    const jobIds = new Map<string, string>();
    if (jobs.size) {
      const js = [...jobs.entries()].sort(byKey).map(([, j]) => j);
      const rows = rowsOf<{
        id: string;
        namespace: string;
        name: string;
        facets: Json;
        latest_run_id: string | null;
        inserted: boolean;
      }>(
        await tx.query(
          `WITH ins AS (INSERT INTO lineage.jobs (namespace, name, facets, latest_run_id) SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::jsonb[], $4::uuid[])
                        ON CONFLICT (namespace, name) DO NOTHING RETURNING id, namespace, name, facets, latest_run_id)
           SELECT *, true AS inserted FROM ins
           UNION ALL SELECT id, namespace, name, facets, latest_run_id, false FROM lineage.jobs WHERE namespace = ANY($5::varchar[]) AND name = ANY($2::varchar[])`,
          [
            js.map((j) => j.namespace),
            js.map((j) => j.name),
            js.map((j) => JSON.stringify(withoutDeleted(j.facets))),
            js.map((j) => j.run),
            [...new Set(js.map((j) => j.namespace))],
          ],
        ),
      );
      const found = oneRowPerKey(rows, (r) => key(r.namespace, r.name));
      const changed: { id: string; facets: Json; run: string | null }[] = [];
      for (const [k, j] of jobs) {
        const r = found.get(k);
        if (!r)
          throw new Error(
            `lineage: job ${j.namespace}/${j.name} neither inserted nor found (concurrent insert not yet visible); the batch is retried`,
          );
        jobIds.set(k, r.id);
        if (r.inserted) continue;
        const merged = withoutDeleted({ ...r.facets, ...j.facets });
        if (!isDeepStrictEqual(merged, r.facets) || (j.run !== null && j.run !== r.latest_run_id))
          changed.push({ id: r.id, facets: merged, run: j.run ?? r.latest_run_id });
      }
      if (changed.length) {
        changed.sort((a, b) => Number(a.id) - Number(b.id));
        await tx.query(
          `UPDATE lineage.jobs t SET facets = x.f, latest_run_id = x.r, updated_at = now() FROM unnest($1::bigint[], $2::jsonb[], $3::uuid[]) AS x(id, f, r)
            WHERE t.id = ANY($1::bigint[]) AND t.id = x.id`,
          [changed.map((c) => c.id), changed.map((c) => JSON.stringify(c.facets)), changed.map((c) => c.run)],
        );
      }
    }

    // datasets, with their current schema version
    const ds = [...datasets.entries()].sort(byKey).map(([, d]) => d);
    const dsRows = rowsOf<{
      id: string;
      namespace: string;
      name: string;
      facets: Json;
      current_version: number;
      fields: Json[] | null;
      inserted: boolean;
    }>(
      await tx.query(
        `WITH ins AS (INSERT INTO lineage.datasets (namespace, name, facets) SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::jsonb[])
                      ON CONFLICT (namespace, name) DO NOTHING RETURNING id, namespace, name, facets, current_version)
         SELECT *, NULL::jsonb AS fields, true AS inserted FROM ins
         UNION ALL
         SELECT d.id, d.namespace, d.name, d.facets, d.current_version, v.fields, false FROM lineage.datasets d
           LEFT JOIN lineage.dataset_versions v ON v.dataset_id = d.id AND v.version = d.current_version
          WHERE d.namespace = ANY($4::varchar[]) AND d.name = ANY($2::varchar[])`,
        [
          ds.map((d) => d.namespace),
          ds.map((d) => d.name),
          ds.map((d) => JSON.stringify(withoutDeleted(d.facets))),
          [...new Set(ds.map((d) => d.namespace))],
        ],
      ),
    );
    const dsFound = oneRowPerKey(dsRows, (r) => key(r.namespace, r.name));
    const dsIds = new Map<string, string>();
    const dsChanged: { id: string; facets: Json }[] = [];
    for (const [k, d] of datasets) {
      const r = dsFound.get(k);
      if (!r)
        throw new Error(
          `lineage: dataset ${d.namespace}/${d.name} neither inserted nor found (concurrent insert not yet visible); the batch is retried`,
        );
      dsIds.set(k, r.id);
      if (r.inserted) continue;
      const merged = withoutDeleted({ ...r.facets, ...d.facets });
      if (!isDeepStrictEqual(merged, r.facets)) dsChanged.push({ id: r.id, facets: merged });
    }
    if (dsChanged.length) {
      dsChanged.sort((a, b) => Number(a.id) - Number(b.id));
      await tx.query(
        `UPDATE lineage.datasets d SET facets = x.f, updated_at = now() FROM unnest($1::bigint[], $2::jsonb[]) AS x(id, f) WHERE d.id = ANY($1::bigint[]) AND d.id = x.id`,
        [dsChanged.map((c) => c.id), dsChanged.map((c) => JSON.stringify(c.facets))],
      );
    }

    // a run completing in this batch makes its job's edges what the run declared: concurrent
    // batches touching the same jobs take turns from here on (each sees the other's runs)
    const completedHere = [...runs.values()].filter((r) => runIo.get(r.id)?.completed);
    const completingJobs = [...new Set(completedHere.map((r) => jobIds.get(r.job)!))].sort(
      (a, b) => Number(a) - Number(b),
    );
    if (completingJobs.length)
      await tx.query(`SELECT id FROM lineage.jobs WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`, [
        completingJobs,
      ]);

    // runs; each keeps the set of datasets its events declared ({"i<dataset id>": 1, "o<id>": 1})
    const runRows: {
      id: string;
      job_id: string;
      state: string;
      ended_at: Date | null;
      declared: Record<string, number>;
      superseded: boolean;
    }[] = [];
    if (runs.size) {
      const rs = [...runs.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
      runRows.push(
        ...rowsOf<(typeof runRows)[number]>(
          await tx.query(
            `INSERT INTO lineage.runs (id, job_id, state, parent_run_id, nominal_start_time, nominal_end_time, started_at, ended_at, event_time, facets, declared)
         SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::varchar[], $4::uuid[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], $9::timestamptz[], $10::jsonb[], $11::jsonb[])
         ON CONFLICT (id) DO UPDATE SET
           state = CASE
             WHEN lineage.runs.state IN ('COMPLETE', 'FAIL', 'ABORT') AND EXCLUDED.state NOT IN ('COMPLETE', 'FAIL', 'ABORT') THEN lineage.runs.state
             WHEN lineage.runs.state NOT IN ('COMPLETE', 'FAIL', 'ABORT') AND EXCLUDED.state IN ('COMPLETE', 'FAIL', 'ABORT') THEN EXCLUDED.state
             WHEN EXCLUDED.event_time >= lineage.runs.event_time THEN EXCLUDED.state ELSE lineage.runs.state END,
           event_time = GREATEST(lineage.runs.event_time, EXCLUDED.event_time),
           parent_run_id = COALESCE(EXCLUDED.parent_run_id, lineage.runs.parent_run_id),
           nominal_start_time = COALESCE(EXCLUDED.nominal_start_time, lineage.runs.nominal_start_time),
           nominal_end_time = COALESCE(EXCLUDED.nominal_end_time, lineage.runs.nominal_end_time),
           started_at = LEAST(lineage.runs.started_at, EXCLUDED.started_at),
           ended_at = GREATEST(lineage.runs.ended_at, EXCLUDED.ended_at),
           facets = lineage.runs.facets || EXCLUDED.facets, declared = lineage.runs.declared || EXCLUDED.declared, updated_at = now()
         RETURNING id::text, job_id::text, state, ended_at, declared,
           -- another run of the job completed later (seen at statement start; this batch's own runs are compared below)
           state = 'COMPLETE' AND EXISTS (SELECT 1 FROM lineage.runs o WHERE o.job_id = lineage.runs.job_id AND o.event_time > lineage.runs.ended_at
                                            AND o.id <> lineage.runs.id AND o.state = 'COMPLETE' AND o.ended_at > lineage.runs.ended_at) AS superseded`,
            [
              rs.map((r) => r.id),
              rs.map((r) => jobIds.get(r.job)),
              rs.map((r) => r.state),
              rs.map((r) => r.parent),
              rs.map((r) => r.nominalStart),
              rs.map((r) => r.nominalEnd),
              rs.map((r) => r.startedAt),
              rs.map((r) => r.endedAt),
              rs.map((r) => r.eventTime),
              rs.map((r) => JSON.stringify(r.facets)),
              rs.map((r) =>
                JSON.stringify(
                  Object.fromEntries(
                    [...(runIo.get(r.id)?.io ?? [])].map((d) => [
                      `${d.slice(0, 1)}${dsIds.get(d.slice(d.indexOf('\u0001') + 1))}`,
                      1,
                    ]),
                  ),
                ),
              ),
            ],
          ),
        ),
      );
    }

    // schema versions: a new one each time the field list differs from the current one
    const runOf = items.find((i) => i.kind === 'RunEvent')?.event['run']?.['runId'] ?? null;
    const newVersions: { id: string; version: number; fields: Json[] }[] = [];
    for (const [dk, seq] of schemas) {
      const r = dsFound.get(dk)!;
      let version = r.current_version;
      let current = r.fields;
      for (const fs of seq) {
        if (current && isDeepStrictEqual(current, fs)) continue;
        version++;
        current = fs;
        newVersions.push({ id: r.id, version, fields: fs });
      }
    }
    if (newVersions.length) {
      newVersions.sort((a, b) => Number(a.id) - Number(b.id) || a.version - b.version);
      await tx.query(
        `WITH ins AS (INSERT INTO lineage.dataset_versions (dataset_id, version, fields, run_id) SELECT *, $4::uuid FROM unnest($1::bigint[], $2::int[], $3::jsonb[])
                      ON CONFLICT (dataset_id, version) DO NOTHING RETURNING dataset_id, version)
         UPDATE lineage.datasets d SET current_version = m.version FROM (SELECT dataset_id, max(version) AS version FROM ins GROUP BY 1) m
          WHERE d.id = ANY($1::bigint[]) AND d.id = m.dataset_id AND d.current_version < m.version`,
        [
          newVersions.map((v) => v.id),
          newVersions.map((v) => v.version),
          newVersions.map((v) => JSON.stringify(v.fields)),
          runOf,
        ],
      );
    }

    // fields of the schemas that changed (an unchanged schema's fields are already there)
    const changedSchemas = new Set(newVersions.map((v) => v.id));
    for (const [dk, seq] of schemas) {
      if (!changedSchemas.has(dsIds.get(dk)!)) continue;
      for (const fs of seq)
        for (const f of fs)
          addField(
            dk,
            String(f['name']),
            (f['type'] as string | undefined) ?? null,
            (f['description'] as string | undefined) ?? null,
          );
    }

    // dataset-level lineage (the facet's `dataset` entries) feeds every column of the output: those
    // the facet names and those of the output's latest schema
    const outputFieldsOf = (l: { dataset: string; facet: Json }): string[] => {
      const names = new Set(Object.keys((l.facet['fields'] as Json) ?? {}));
      const seq = schemas.get(l.dataset);
      for (const f of seq?.[seq.length - 1] ?? dsFound.get(l.dataset)?.fields ?? []) names.add(String(f['name']));
      return [...names];
    };

    // job-reads/writes-dataset edges; an output edge remembers a digest of the column lineage its
    // job last gave for it (with the output's columns, when dataset-level entries reach them all), and
    // the event time it was given at
    const lineageHash = new Map<string, string>(); // `${job}\u0001${dataset}` (store keys) -> digest of the new facet
    for (const [k, l] of lineage) {
      l.datasetLevel = datasetLevelOf(l.facet);
      l.outputs = l.datasetLevel.length ? outputFieldsOf(l) : [];
      lineageHash.set(k, l.datasetLevel.length ? digest(l.facet, [...l.outputs].sort()) : digest(l.facet));
    }
    const known = new Map<string, { hash: string | null; at: Date | null }>();
    // a job whose run completed in this batch: its edges become what that run declared (over all its
    // events), so a job that stops reading or writing a table loses the edge. The run is the one of
    // the batch that ended last, unless a run of the job that completed later is already stored.
    const chosen = new Map<string, (typeof runRows)[number]>(); // job id -> run
    for (const r of runRows) {
      if (r.state !== 'COMPLETE' || !runIo.get(r.id)?.completed || !r.ended_at) continue;
      const c = chosen.get(r.job_id);
      if (!c || r.ended_at.getTime() > c.ended_at!.getTime()) chosen.set(r.job_id, r);
    }
    const target = new Map<string, Set<string>>(); // job id -> `${i|o}${dataset id}` it keeps
    for (const [job, r] of chosen) {
      if (!r.superseded && Object.keys(r.declared).length) target.set(job, new Set(Object.keys(r.declared)));
    }
    const edgeKeys = new Map<string, { job: string; direction: 'input' | 'output'; dataset: string }>();
    for (const e of io.values()) {
      const x = { job: jobIds.get(e.job)!, direction: e.direction, dataset: dsIds.get(e.dataset)! };
      edgeKeys.set(`${x.job}/${x.direction[0]}${x.dataset}`, x);
    }
    // what a completing run declared in earlier batches, and a later event took away, comes back
    for (const [job, keep] of target) {
      for (const d of keep)
        edgeKeys.set(`${job}/${d}`, { job, direction: d[0] === 'i' ? 'input' : 'output', dataset: d.slice(1) });
    }
    const current = new Map<string, Set<string>>(); // job id -> its edges, for the jobs in `target`
    for (const x of edgeKeys.values())
      if (target.has(x.job))
        (current.get(x.job) ?? current.set(x.job, new Set()).get(x.job)!).add(`${x.direction[0]}${x.dataset}`);
    if (edgeKeys.size || target.size) {
      const es = [...edgeKeys.values()].sort(
        (a, b) =>
          Number(a.job) - Number(b.job) ||
          (a.direction < b.direction ? -1 : 1) ||
          Number(a.dataset) - Number(b.dataset),
      );
      const rows = rowsOf<{
        job_id: string;
        dataset_id: string;
        hash: string | null;
        at: Date | null;
        direction: 'input' | 'output' | null;
      }>(
        await tx.query(
          `WITH ins AS (INSERT INTO lineage.job_datasets (job_id, direction, dataset_id) SELECT * FROM unnest($1::bigint[], $2::varchar[], $3::bigint[])
                        ON CONFLICT (job_id, direction, dataset_id) DO NOTHING RETURNING job_id)
           SELECT job_id, dataset_id, column_lineage_hash AS hash, column_lineage_at AS at, NULL AS direction FROM lineage.job_datasets
            WHERE job_id = ANY($1::bigint[]) AND dataset_id = ANY($3::bigint[]) AND direction = 'output' AND column_lineage_hash IS NOT NULL
           UNION ALL
           SELECT job_id, dataset_id, NULL, NULL, direction FROM lineage.job_datasets WHERE job_id = ANY($4::bigint[])`,
          [es.map((e) => e.job), es.map((e) => e.direction), es.map((e) => e.dataset), [...target.keys()]],
        ),
      );
      for (const r of rows) {
        if (r.direction) current.get(r.job_id)!.add(`${r.direction[0]}${r.dataset_id}`);
        else known.set(`${r.job_id}\u0001${r.dataset_id}`, { hash: r.hash, at: r.at });
      }
    }
    const stale: { job: string; direction: 'input' | 'output'; dataset: string }[] = [];
    for (const [job, keep] of target) {
      for (const d of current.get(job) ?? [])
        if (!keep.has(d)) stale.push({ job, direction: d[0] === 'i' ? 'input' : 'output', dataset: d.slice(1) });
    }
    await this.dropJobEdges(tx, stale);
    // lineage that did not change since its job last said it, or older than what it said last: nothing to do
    for (const [k, l] of [...lineage.entries()]) {
      if (!l.job) continue;
      const was = known.get(`${jobIds.get(l.job)}\u0001${dsIds.get(l.dataset)}`);
      if (was && (was.hash === lineageHash.get(k) || (was.at !== null && new Date(l.at).getTime() < was.at.getTime())))
        lineage.delete(k);
    }
    for (const l of lineage.values()) {
      for (const [out, f] of Object.entries((l.facet['fields'] as Json) ?? {}) as [string, Json][]) {
        addField(l.dataset, out, null, null);
        for (const i of (f['inputFields'] as Json[] | undefined) ?? [])
          addField(key(i['namespace'], i['name']), String(i['field']), null, null);
      }
      for (const out of l.outputs!) addField(l.dataset, out, null, null);
      for (const i of l.datasetLevel!) addField(key(i['namespace'], i['name']), String(i['field']), null, null);
    }

    const fieldIds = new Map<string, string>();
    if (fields.size) {
      const fs = [...fields.values()]
        .map((f) => ({ ...f, datasetId: dsIds.get(f.dataset)! }))
        .sort((a, b) =>
          a.datasetId === b.datasetId ? (a.name < b.name ? -1 : 1) : Number(a.datasetId) - Number(b.datasetId),
        );
      const rows = rowsOf<{
        id: string;
        dataset_id: string;
        name: string;
        type: string | null;
        description: string | null;
        inserted: boolean;
      }>(
        await tx.query(
          `WITH ins AS (INSERT INTO lineage.fields (dataset_id, name, type, description) SELECT * FROM unnest($1::bigint[], $2::varchar[], $3::varchar[], $4::text[])
                        ON CONFLICT (dataset_id, name) DO NOTHING RETURNING id, dataset_id, name, type, description)
           SELECT *, true AS inserted FROM ins
           UNION ALL SELECT id, dataset_id, name, type, description, false FROM lineage.fields WHERE dataset_id = ANY($5::bigint[]) AND name = ANY($6::varchar[])`,
          [
            fs.map((f) => f.datasetId),
            fs.map((f) => f.name),
            fs.map((f) => f.type),
            fs.map((f) => f.description),
            [...new Set(fs.map((f) => f.datasetId))],
            [...new Set(fs.map((f) => f.name))],
          ],
        ),
      );
      const found = oneRowPerKey(rows, (r) => `${r.dataset_id}\u0001${r.name}`);
      const changed: { id: string; type: string | null; description: string | null }[] = [];
      for (const f of fs) {
        const r = found.get(`${f.datasetId}\u0001${f.name}`);
        if (!r)
          throw new Error(
            `lineage: field ${f.name} neither inserted nor found (concurrent insert not yet visible); the batch is retried`,
          );
        fieldIds.set(`${f.datasetId}\u0001${f.name}`, r.id);
        const type = f.type ?? r.type;
        const description = f.description ?? r.description;
        if (!r.inserted && (type !== r.type || description !== r.description))
          changed.push({ id: r.id, type, description });
      }
      if (changed.length) {
        changed.sort((a, b) => Number(a.id) - Number(b.id));
        await tx.query(
          `UPDATE lineage.fields f SET type = x.t, description = x.d FROM unnest($1::bigint[], $2::varchar[], $3::text[]) AS x(id, t, d) WHERE f.id = ANY($1::bigint[]) AND f.id = x.id`,
          [changed.map((c) => c.id), changed.map((c) => c.type), changed.map((c) => c.description)],
        );
      }
    }

    // field-derives-from-field: what a job says of an output's columns replaces all it said before of
    // that output (columns it no longer names included)
    if (lineage.size) {
      const restated = new Set<string>(); // `${output dataset id}/${job id}`
      const edges = new Map<
        string,
        {
          target: string;
          source: string;
          type: string;
          subtype: string;
          job: string | null;
          description: string | null;
        }
      >();
      for (const l of lineage.values()) {
        const jobId = l.job ? jobIds.get(l.job)! : null;
        const outId = dsIds.get(l.dataset)!;
        restated.add(`${outId}/${jobId ?? ''}`);
        for (const [out, f] of Object.entries((l.facet['fields'] as Json) ?? {}) as [string, Json][]) {
          const target = fieldIds.get(`${outId}\u0001${out}`)!;
          for (const i of (f['inputFields'] as Json[] | undefined) ?? []) {
            const source = fieldIds.get(`${dsIds.get(key(i['namespace'], i['name']))}\u0001${String(i['field'])}`)!;
            for (const t of transformationsOf(i, f))
              edges.set(`${target}/${source}/${t.type}/${t.subtype}/${jobId ?? ''}`, {
                target,
                source,
                ...t,
                job: jobId,
              });
          }
        }
        for (const out of l.outputs!) {
          const target = fieldIds.get(`${outId}\u0001${out}`)!;
          for (const i of l.datasetLevel!) {
            const source = fieldIds.get(`${dsIds.get(key(i['namespace'], i['name']))}\u0001${String(i['field'])}`)!;
            for (const t of transformationsOf(i, {}, true))
              edges.set(`${target}/${source}/${t.type}/${t.subtype}/${jobId ?? ''}`, {
                target,
                source,
                ...t,
                job: jobId,
              });
          }
        }
      }
      const ek = (t: string, s: string, type: string, subtype: string, job: string | null) =>
        `${t}/${s}/${type}/${subtype}/${job ?? ''}`;
      const existing = rowsOf<{
        id: string;
        t: string;
        s: string;
        type: string;
        subtype: string;
        job_id: string | null;
        description: string | null;
        d: string;
      }>(
        await tx.query(
          `SELECT e.id, e.target_field_id AS t, e.source_field_id AS s, e.type, e.subtype, e.job_id, e.description, f.dataset_id AS d
             FROM lineage.field_edges e JOIN lineage.fields f ON f.id = e.target_field_id
            WHERE e.target_field_id = ANY (ARRAY(SELECT id FROM lineage.fields WHERE dataset_id = ANY($1::bigint[])))`,
          [[...new Set([...lineage.values()].map((l) => dsIds.get(l.dataset)!))]],
        ),
      );
      const have = new Map(existing.map((e) => [ek(e.t, e.s, e.type, e.subtype, e.job_id), e]));
      const want = new Map([...edges.values()].map((e) => [ek(e.target, e.source, e.type, e.subtype, e.job), e]));
      // what the same job said before about these outputs and says no more
      const gone = existing.filter(
        (e) => restated.has(`${e.d}/${e.job_id ?? ''}`) && !want.has(ek(e.t, e.s, e.type, e.subtype, e.job_id)),
      );
      const upsert = [...want.entries()]
        .filter(([k, e]) => have.get(k)?.description !== e.description || !have.has(k))
        .map(([, e]) => e)
        .sort(
          (a, b) =>
            Number(a.target) - Number(b.target) ||
            Number(a.source) - Number(b.source) ||
            (a.type + a.subtype < b.type + b.subtype ? -1 : 1),
        );
      if (gone.length)
        await tx.query(`DELETE FROM lineage.field_edges WHERE id = ANY($1::bigint[])`, [gone.map((e) => e.id)]);
      if (upsert.length) {
        await tx.query(
          `INSERT INTO lineage.field_edges (target_field_id, source_field_id, type, subtype, job_id, description)
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::varchar[], $4::varchar[], $5::bigint[], $6::text[])
           ON CONFLICT (target_field_id, source_field_id, type, subtype, (COALESCE(job_id, 0))) DO UPDATE SET description = EXCLUDED.description, updated_at = now()`,
          [
            upsert.map((e) => e.target),
            upsert.map((e) => e.source),
            upsert.map((e) => e.type),
            upsert.map((e) => e.subtype),
            upsert.map((e) => e.job),
            upsert.map((e) => e.description),
          ],
        );
      }
      const stamped = [...lineage.entries()]
        .filter(([, l]) => l.job)
        .map(([k, l]) => ({
          job: jobIds.get(l.job!)!,
          dataset: dsIds.get(l.dataset)!,
          hash: lineageHash.get(k)!,
          at: l.at,
        }));
      if (stamped.length) {
        await tx.query(
          `UPDATE lineage.job_datasets jd SET column_lineage_hash = x.h, column_lineage_at = x.at FROM unnest($1::bigint[], $2::bigint[], $3::varchar[], $4::timestamptz[]) AS x(j, d, h, at)
            WHERE jd.job_id = ANY($1::bigint[]) AND jd.job_id = x.j AND jd.direction = 'output' AND jd.dataset_id = x.d`,
          [
            stamped.map((x) => x.job),
            stamped.map((x) => x.dataset),
            stamped.map((x) => x.hash),
            stamped.map((x) => x.at),
          ],
        );
      }
    }
  }

  /**
   * Removes edges a job's latest completed run did not declare, with the column lineage the job gave
   * into outputs it no longer writes. Marquez does the same through job versions. A run that declared
   * no datasets at all, a failed or aborted run, and a run that completed before another completed
   * run of the job change nothing; JobEvents (design-time lineage) add edges, kept until the next
   * completed run.
   */
  private async dropJobEdges(
    tx: Queryable,
    stale: { job: string; direction: 'input' | 'output'; dataset: string }[],
  ): Promise<void> {
    if (!stale.length) return;
    stale.sort(
      (a, b) =>
        Number(a.job) - Number(b.job) || (a.direction < b.direction ? -1 : 1) || Number(a.dataset) - Number(b.dataset),
    );
    const outputs = stale.filter((e) => e.direction === 'output');
    if (outputs.length) {
      await tx.query(
        `DELETE FROM lineage.field_edges fe USING unnest($2::bigint[], $3::bigint[]) AS x(j, d), lineage.fields f
          WHERE fe.target_field_id = ANY (ARRAY(SELECT id FROM lineage.fields WHERE dataset_id = ANY($1::bigint[])))
            AND f.id = fe.target_field_id AND f.dataset_id = x.d AND fe.job_id = x.j`,
        [[...new Set(outputs.map((e) => e.dataset))], outputs.map((e) => e.job), outputs.map((e) => e.dataset)],
      );
    }
    await tx.query(
      `DELETE FROM lineage.job_datasets jd WHERE jd.job_id = ANY($1::bigint[])
          AND (jd.job_id, jd.direction, jd.dataset_id) IN (SELECT * FROM unnest($1::bigint[], $2::varchar[], $3::bigint[]))`,
      [stale.map((e) => e.job), stale.map((e) => e.direction), stale.map((e) => e.dataset)],
    );
  }
}
