import type { Queryable } from '@weir/platform';
import type { OpenLineageKind } from '../domain/openlineage-validator';

/* eslint-disable @typescript-eslint/no-explicit-any -- OpenLineage facets are open JSON */
type Json = Record<string, any>;

interface DatasetIn {
  namespace: string;
  name: string;
  facets: Json;
  direction?: 'input' | 'output';
}

const key = (ns: string, name: string) => `${ns}\u0000${name}`;
const rowsOf = <T>(r: unknown): T[] => (Array.isArray(r) && Array.isArray(r[0]) ? (r[0] as T[]) : (r as T[]));

/** Facets kept on the dataset node: everything but the per-run ones (those stay in lineage.events). */
const RUN_SCOPED_DATASET_FACETS = new Set(['columnLineage', 'dataQualityMetrics', 'dataQualityAssertions', 'outputStatistics', 'inputStatistics']);

/** Transformation of an OpenLineage input field, with the deprecated 1-0 fields as fallback. */
function transformationsOf(inputField: Json, outputField: Json): { type: 'DIRECT' | 'INDIRECT'; subtype: string; description: string | null }[] {
  const ts = Array.isArray(inputField['transformations']) ? (inputField['transformations'] as Json[]) : [];
  if (ts.length) {
    return ts.map((t) => ({
      type: t['type'] === 'INDIRECT' ? 'INDIRECT' : 'DIRECT',
      subtype: typeof t['subtype'] === 'string' && t['subtype'] ? String(t['subtype']).toUpperCase().slice(0, 16) : t['type'] === 'INDIRECT' ? 'INDIRECT' : 'TRANSFORMATION',
      description: typeof t['description'] === 'string' ? t['description'] : null,
    }));
  }
  const legacy = typeof outputField['transformationType'] === 'string' ? String(outputField['transformationType']).toUpperCase() : '';
  return [
    {
      type: 'DIRECT',
      subtype: legacy === 'IDENTITY' ? 'IDENTITY' : 'TRANSFORMATION',
      description: typeof outputField['transformationDescription'] === 'string' ? outputField['transformationDescription'] : null,
    },
  ];
}

/**
 * Writes accepted OpenLineage events into the `lineage` graph, on the caller's transaction.
 * Set-based: one statement per table per event (arrays unnested server-side), so ingest cost does
 * not grow with round trips. Idempotent: replaying an event changes nothing but `updated_at`
 * (and stores the raw event again in lineage.events when `store` is on).
 */
export class LineageStore {
  /** Applies one validated event. */
  async apply(tx: Queryable, kind: OpenLineageKind, event: Json, opts: { storeRaw?: boolean; rawJson?: string } = {}): Promise<void> {
    const eventTime = String(event['eventTime']);
    const run = event['run'] as Json | undefined;
    const job = event['job'] as Json | undefined;
    if (opts.storeRaw !== false) {
      await tx.query(
        `INSERT INTO lineage.events (kind, event_type, event_time, run_id, job_namespace, job_name, producer, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`,
        [kind, event['eventType'] ?? null, eventTime, run?.['runId'] ?? null, job?.['namespace'] ?? null, job?.['name'] ?? null, String(event['producer']), opts.rawJson ?? JSON.stringify(event)],
      );
    }

    const datasets: DatasetIn[] = [];
    if (kind === 'DatasetEvent') {
      const d = event['dataset'] as Json;
      datasets.push({ namespace: d['namespace'], name: d['name'], facets: (d['facets'] as Json) ?? {} });
    } else {
      for (const d of (event['inputs'] as Json[] | undefined) ?? []) datasets.push({ namespace: d['namespace'], name: d['name'], facets: (d['facets'] as Json) ?? {}, direction: 'input' });
      for (const d of (event['outputs'] as Json[] | undefined) ?? []) datasets.push({ namespace: d['namespace'], name: d['name'], facets: (d['facets'] as Json) ?? {}, direction: 'output' });
    }
    // datasets named only as column-lineage sources exist as nodes too
    const mentioned = new Map<string, DatasetIn>();
    for (const d of datasets) {
      const k = key(d.namespace, d.name);
      const seen = mentioned.get(k);
      if (seen) seen.facets = { ...seen.facets, ...d.facets };
      else mentioned.set(k, { namespace: d.namespace, name: d.name, facets: { ...d.facets } });
      const cl = d.facets['columnLineage'] as Json | undefined;
      for (const f of Object.values((cl?.['fields'] as Json) ?? {}) as Json[]) {
        for (const i of (f['inputFields'] as Json[] | undefined) ?? []) {
          const ik = key(i['namespace'], i['name']);
          if (!mentioned.has(ik)) mentioned.set(ik, { namespace: i['namespace'], name: i['name'], facets: {} });
        }
      }
    }

    const namespaces = new Set<string>([...mentioned.values()].map((d) => d.namespace));
    if (job) namespaces.add(job['namespace']);
    await tx.query(`INSERT INTO lineage.namespaces (name) SELECT unnest($1::text[]) ORDER BY 1 ON CONFLICT (name) DO NOTHING`, [[...namespaces]]);

    let jobId: string | null = null;
    if (job) {
      const runId = run?.['runId'] ?? null;
      const upsertJob = async () =>
        rowsOf<{ id: string }>(
          await tx.query(
            `WITH j AS (SELECT $1::varchar AS namespace, $2::varchar AS name, $3::jsonb AS facets, $4::uuid AS run),
                  ins AS (INSERT INTO lineage.jobs (namespace, name, facets, latest_run_id) SELECT namespace, name, facets, run FROM j
                          ON CONFLICT (namespace, name) DO NOTHING RETURNING id),
                  upd AS (UPDATE lineage.jobs t SET facets = t.facets || j.facets, latest_run_id = COALESCE(j.run, t.latest_run_id), updated_at = now() FROM j
                           WHERE t.namespace = j.namespace AND t.name = j.name
                             AND (t.facets IS DISTINCT FROM t.facets || j.facets OR (j.run IS NOT NULL AND t.latest_run_id IS DISTINCT FROM j.run)) RETURNING t.id)
             SELECT id FROM ins UNION SELECT id FROM upd UNION SELECT t.id FROM lineage.jobs t JOIN j ON t.namespace = j.namespace AND t.name = j.name`,
            [job['namespace'], job['name'], JSON.stringify(job['facets'] ?? {}), runId],
          ),
        );
      // a job created by a concurrent event that committed after this statement's snapshot: ask again
      let jr = await upsertJob();
      if (!jr.length) jr = await upsertJob();
      jobId = jr[0].id;
      if (run) {
        const state = (event['eventType'] as string | undefined) ?? 'OTHER';
        const facets = (run['facets'] as Json | undefined) ?? {};
        const parent = facets['parent'] as Json | undefined;
        const nominal = facets['nominalTime'] as Json | undefined;
        await tx.query(
          `INSERT INTO lineage.runs (id, job_id, state, parent_run_id, nominal_start_time, nominal_end_time, started_at, ended_at, event_time, facets)
           VALUES ($1, $2, $3::varchar, $4, $5, $6, CASE WHEN $3::varchar IN ('START', 'RUNNING') THEN $7::timestamptz END, CASE WHEN $3::varchar IN ('COMPLETE', 'FAIL', 'ABORT') THEN $7::timestamptz END, $7::timestamptz, $8::jsonb)
           ON CONFLICT (id) DO UPDATE SET
             state = CASE WHEN EXCLUDED.event_time >= lineage.runs.event_time OR lineage.runs.state IN ('START', 'RUNNING', 'OTHER') AND EXCLUDED.state IN ('COMPLETE', 'FAIL', 'ABORT') THEN EXCLUDED.state ELSE lineage.runs.state END,
             event_time = GREATEST(lineage.runs.event_time, EXCLUDED.event_time),
             parent_run_id = COALESCE(EXCLUDED.parent_run_id, lineage.runs.parent_run_id),
             nominal_start_time = COALESCE(EXCLUDED.nominal_start_time, lineage.runs.nominal_start_time),
             nominal_end_time = COALESCE(EXCLUDED.nominal_end_time, lineage.runs.nominal_end_time),
             started_at = LEAST(lineage.runs.started_at, EXCLUDED.started_at),
             ended_at = GREATEST(lineage.runs.ended_at, EXCLUDED.ended_at),
             facets = lineage.runs.facets || EXCLUDED.facets, updated_at = now()`,
          [run['runId'], jobId, state, parent?.['run']?.['runId'] ?? null, nominal?.['nominalStartTime'] ?? null, nominal?.['nominalEndTime'] ?? null, eventTime, JSON.stringify(facets)],
        );
      }
    }

    const all = [...mentioned.values()];
    if (all.length === 0) return;
    const keptFacets = (f: Json) => Object.fromEntries(Object.entries(f).filter(([k]) => !RUN_SCOPED_DATASET_FACETS.has(k)));
    // insert the new ones, touch only those whose facets change (no row lock, no dead tuple otherwise)
    const upsertDatasets = async (list: DatasetIn[]) =>
      rowsOf<{ id: string; namespace: string; name: string }>(
        await tx.query(
          `WITH i AS (SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::jsonb[]) AS i(namespace, name, facets)),
                ins AS (INSERT INTO lineage.datasets (namespace, name, facets) SELECT * FROM i ORDER BY 1, 2
                        ON CONFLICT (namespace, name) DO NOTHING RETURNING id, namespace, name),
                upd AS (UPDATE lineage.datasets d SET facets = d.facets || i.facets, updated_at = now() FROM i
                         WHERE d.namespace = i.namespace AND d.name = i.name AND d.facets IS DISTINCT FROM d.facets || i.facets RETURNING d.id, d.namespace, d.name)
           SELECT * FROM ins UNION SELECT * FROM upd UNION SELECT d.id, d.namespace, d.name FROM lineage.datasets d JOIN i ON d.namespace = i.namespace AND d.name = i.name`,
          [list.map((d) => d.namespace), list.map((d) => d.name), list.map((d) => JSON.stringify(keptFacets(d.facets)))],
        ),
      );
    const ids = await upsertDatasets(all);
    if (ids.length < all.length) {
      const got = new Set(ids.map((r) => key(r.namespace, r.name)));
      ids.push(...(await upsertDatasets(all.filter((d) => !got.has(key(d.namespace, d.name))))));
    }
    const idOf = new Map(ids.map((r) => [key(r.namespace, r.name), r]));

    // fields: from schema facets, and every field named by column lineage
    const fieldRows = new Map<string, { datasetId: string; name: string; type: string | null; description: string | null }>();
    const addField = (datasetId: string, name: string, type: string | null, description: string | null) => {
      const k = `${datasetId}\u0000${name}`;
      const seen = fieldRows.get(k);
      if (!seen || (type !== null && seen.type === null)) fieldRows.set(k, { datasetId, name, type, description: description ?? seen?.description ?? null });
    };
    const versions: { datasetId: string; fields: Json[] }[] = [];
    for (const d of all) {
      const schema = d.facets['schema'] as Json | undefined;
      const id = idOf.get(key(d.namespace, d.name))!.id;
      if (schema && Array.isArray(schema['fields']) && !schema['_deleted']) {
        const fields = (schema['fields'] as Json[]).map((f) => ({ name: String(f['name']), ...(f['type'] !== undefined ? { type: String(f['type']) } : {}), ...(f['description'] ? { description: String(f['description']) } : {}) }));
        for (const f of fields) addField(id, f.name, f.type ?? null, f.description ?? null);
        versions.push({ datasetId: id, fields });
      }
    }
    for (const d of all) {
      const cl = d.facets['columnLineage'] as Json | undefined;
      if (!cl) continue;
      const outId = idOf.get(key(d.namespace, d.name))!.id;
      for (const [out, f] of Object.entries((cl['fields'] as Json) ?? {}) as [string, Json][]) {
        addField(outId, out, null, null);
        for (const i of (f['inputFields'] as Json[] | undefined) ?? []) addField(idOf.get(key(i['namespace'], i['name']))!.id, String(i['field']), null, null);
      }
    }
    const fieldIds = new Map<string, string>();
    if (fieldRows.size) {
      const fr = [...fieldRows.values()].sort((a, b) => (a.datasetId === b.datasetId ? (a.name < b.name ? -1 : 1) : Number(a.datasetId) - Number(b.datasetId)));
      const upsertFields = async (list: typeof fr) =>
        rowsOf<{ id: string; dataset_id: string; name: string }>(
          await tx.query(
            `WITH i AS (SELECT * FROM unnest($1::bigint[], $2::varchar[], $3::varchar[], $4::text[]) AS i(dataset_id, name, type, description)),
                  ins AS (INSERT INTO lineage.fields (dataset_id, name, type, description) SELECT * FROM i ON CONFLICT (dataset_id, name) DO NOTHING RETURNING id, dataset_id, name),
                  upd AS (UPDATE lineage.fields f SET type = COALESCE(i.type, f.type), description = COALESCE(i.description, f.description) FROM i
                           WHERE f.dataset_id = i.dataset_id AND f.name = i.name
                             AND (f.type IS DISTINCT FROM COALESCE(i.type, f.type) OR f.description IS DISTINCT FROM COALESCE(i.description, f.description))
                           RETURNING f.id, f.dataset_id, f.name)
             SELECT * FROM ins UNION SELECT * FROM upd UNION SELECT f.id, f.dataset_id, f.name FROM lineage.fields f JOIN i ON f.dataset_id = i.dataset_id AND f.name = i.name`,
            [list.map((f) => f.datasetId), list.map((f) => f.name), list.map((f) => f.type), list.map((f) => f.description)],
          ),
        );
      const rows = await upsertFields(fr);
      if (rows.length < fr.length) {
        const got = new Set(rows.map((r) => `${r.dataset_id}\u0000${r.name}`));
        rows.push(...(await upsertFields(fr.filter((f) => !got.has(`${f.datasetId}\u0000${f.name}`)))));
      }
      for (const r of rows) fieldIds.set(`${r.dataset_id}\u0000${r.name}`, r.id);
    }

    // schema versions: a new one when the field list differs from the current one
    if (versions.length) {
      await tx.query(
        `WITH v AS (SELECT * FROM unnest($1::bigint[], $2::jsonb[]) AS v(dataset_id, fields)),
              changed AS (
                SELECT d.id, d.current_version + 1 AS version, v.fields FROM v JOIN lineage.datasets d ON d.id = v.dataset_id
                 WHERE NOT EXISTS (SELECT 1 FROM lineage.dataset_versions dv WHERE dv.dataset_id = d.id AND dv.version = d.current_version AND dv.fields = v.fields)),
              ins AS (INSERT INTO lineage.dataset_versions (dataset_id, version, fields, run_id) SELECT id, version, fields, $3::uuid FROM changed RETURNING dataset_id, version)
         UPDATE lineage.datasets d SET current_version = ins.version FROM ins WHERE d.id = ins.dataset_id`,
        [versions.map((v) => v.datasetId), versions.map((v) => JSON.stringify(v.fields)), run?.['runId'] ?? null],
      );
    }

    // job-reads/writes-dataset edges
    if (jobId) {
      const io = datasets.filter((d) => d.direction);
      if (io.length) {
        const uniq = [...new Map(io.map((d) => [`${d.direction}\u0000${idOf.get(key(d.namespace, d.name))!.id}`, d])).entries()].sort(([a], [b]) => (a < b ? -1 : 1));
        await tx.query(
          `INSERT INTO lineage.job_datasets (job_id, direction, dataset_id)
           SELECT $1, * FROM unnest($2::text[], $3::bigint[])
           ON CONFLICT (job_id, direction, dataset_id) DO NOTHING`,
          [jobId, uniq.map(([, d]) => d.direction), uniq.map(([, d]) => idOf.get(key(d.namespace, d.name))!.id)],
        );
      }
    }

    // field-derives-from-field edges: the output's lineage from this job replaces what the job said before
    for (const d of all) {
      const cl = d.facets['columnLineage'] as Json | undefined;
      if (!cl || cl['_deleted']) continue;
      const outId = idOf.get(key(d.namespace, d.name))!.id;
      const edges = new Map<string, { target: string; source: string; type: string; subtype: string; description: string | null }>();
      for (const [out, f] of Object.entries((cl['fields'] as Json) ?? {}) as [string, Json][]) {
        const target = fieldIds.get(`${outId}\u0000${out}`)!;
        for (const i of (f['inputFields'] as Json[] | undefined) ?? []) {
          const source = fieldIds.get(`${idOf.get(key(i['namespace'], i['name']))!.id}\u0000${String(i['field'])}`)!;
          for (const t of transformationsOf(i, f)) edges.set(`${target}/${source}/${t.type}/${t.subtype}`, { target, source, ...t });
        }
      }
      const targets = [...new Set([...Object.keys((cl['fields'] as Json) ?? {})].map((c) => fieldIds.get(`${outId}\u0000${c}`)!))];
      // replace what this job said about these columns: drop the edges it no longer reports, add the new ones
      const es = [...edges.values()].sort((a, b) => (a.target === b.target ? Number(a.source) - Number(b.source) : Number(a.target) - Number(b.target)));
      await tx.query(
        `WITH n AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::varchar[], $4::varchar[], $6::text[]) AS n(t, s, ty, st, de)),
              del AS (DELETE FROM lineage.field_edges f WHERE f.target_field_id = ANY($7::bigint[]) AND f.job_id IS NOT DISTINCT FROM $5::bigint
                        AND NOT EXISTS (SELECT 1 FROM n WHERE n.t = f.target_field_id AND n.s = f.source_field_id AND n.ty = f.type AND n.st = f.subtype))
         INSERT INTO lineage.field_edges (target_field_id, source_field_id, type, subtype, job_id, description)
         SELECT t, s, ty, st, $5::bigint, de FROM n
         ON CONFLICT (target_field_id, source_field_id, type, subtype) DO UPDATE SET job_id = EXCLUDED.job_id, description = EXCLUDED.description, updated_at = now()
          WHERE lineage.field_edges.job_id IS DISTINCT FROM EXCLUDED.job_id OR lineage.field_edges.description IS DISTINCT FROM EXCLUDED.description`,
        [es.map((e) => e.target), es.map((e) => e.source), es.map((e) => e.type), es.map((e) => e.subtype), jobId, es.map((e) => e.description), targets],
      );
    }
  }
}
