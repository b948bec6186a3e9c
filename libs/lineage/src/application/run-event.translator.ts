import type { RunDatasetRef, RunStateEvent, Warehouse } from '@weir/platform';
import { sqlLineage } from '../domain/sql-lineage';
import { PRODUCER } from '../lineage.config';

type Json = Record<string, any>;

const SCHEMA_URL = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
const facetUrl = (facet: string, version: string) =>
  `https://openlineage.io/spec/facets/${version}/${facet}.json#/$defs/${facet}`;
const base = (facet: string, version: string) => ({ _producer: PRODUCER, _schemaURL: facetUrl(facet, version) });

interface Field {
  name: string;
  type?: string;
  description?: string;
}

/**
 * Turns the neutral run state changes the slices publish into OpenLineage 2-0-2 RunEvents:
 * warehouse tables named as OpenLineage's PostgreSQL naming says (`postgres://host:port`,
 * `<database>.<schema>.<table>`), with `schema`, `dataSource`, `columnLineage` (derived here from
 * the model's SQL with the PostgreSQL parser, or from ingestion's column mappings),
 * `dataQualityMetrics`/`dataQualityAssertions`, `outputStatistics`, `sql`, `jobType`, `parent`
 * and `errorMessage` facets.
 */
export class RunEventTranslator {
  constructor(
    private readonly warehouse: Pick<Warehouse, 'query' | 'location'>,
    private readonly namespace: string,
  ) {}

  /** OpenLineage identity of a dataset reference. */
  datasetId(ref: RunDatasetRef): { namespace: string; name: string } {
    if (ref.namespace) return { namespace: ref.namespace, name: ref.name };
    return { namespace: this.warehouse.location.namespace, name: `${this.warehouse.location.database}.${ref.name}` };
  }

  async translate(e: RunStateEvent): Promise<Json> {
    const refs = [...e.inputs, ...e.outputs, ...(e.quality ?? []).map((q) => q.dataset)];
    const fields = await this.fieldsOf(refs);
    const dsFacets = (ref: RunDatasetRef) => this.datasetFacets(ref, fields);
    const inputs: Json[] = e.inputs.map((ref) => ({ ...this.datasetId(ref), facets: dsFacets(ref) }));
    const outputs: Json[] = e.outputs.map((ref) => ({ ...this.datasetId(ref), facets: dsFacets(ref) }));
    if (e.state === 'COMPLETE' && outputs.length) await this.addOutputFacets(e, outputs, fields);
    this.addQualityFacets(e, inputs, dsFacets);
    return {
      eventType: e.state,
      eventTime: e.at,
      producer: PRODUCER,
      schemaURL: SCHEMA_URL,
      run: { runId: e.runId, facets: this.runFacets(e) },
      job: { namespace: this.namespace, name: e.job, facets: this.jobFacets(e) },
      inputs,
      outputs,
    };
  }

  /** A dataset's facets: its data source (warehouse tables) and its schema, when known. */
  private datasetFacets(ref: RunDatasetRef, fields: Map<string, Field[]>): Json {
    const facets: Json = {};
    const fs = ref.fields ?? fields.get(ref.name);
    if (!ref.namespace)
      facets['dataSource'] = {
        ...base('DatasourceDatasetFacet', '1-0-1'),
        name: this.warehouse.location.namespace,
        uri: this.warehouse.location.namespace,
      };
    if (fs?.length)
      facets['schema'] = {
        ...base('SchemaDatasetFacet', '1-2-0'),
        fields: fs.map((f) => ({
          name: f.name,
          ...(f.type ? { type: f.type } : {}),
          ...(f.description ? { description: f.description } : {}),
        })),
      };
    return facets;
  }

  /** A completed run's outputs: column lineage (from the model's SQL, or the declared mappings) and row counts. */
  private async addOutputFacets(e: RunStateEvent, outputs: Json[], fields: Map<string, Field[]>): Promise<void> {
    const lineage = e.sql ? await this.sqlColumnLineage(e, fields) : this.mappedColumnLineage(e);
    for (const [i, out] of outputs.entries()) {
      const cols = lineage.get(e.outputs[i].name);
      if (cols && cols.size) {
        out['facets']['columnLineage'] = {
          ...base('ColumnLineageDatasetFacet', '1-2-0'),
          fields: Object.fromEntries(
            [...cols.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([col, ins]) => [col, { inputFields: ins }]),
          ),
        };
      }
    }
    if (e.stats?.rowsWritten !== undefined)
      for (const out of outputs)
        out['outputFacets'] = {
          outputStatistics: {
            ...base('OutputStatisticsOutputDatasetFacet', '1-0-2'),
            rowCount: e.stats.rowsWritten,
            ...(e.stats.bytes !== undefined ? { size: e.stats.bytes } : {}),
          },
        };
  }

  /** Quality evidence on the dataset it is about (an input of the check, as dbt's test events do). */
  private addQualityFacets(e: RunStateEvent, inputs: Json[], dsFacets: (ref: RunDatasetRef) => Json): void {
    for (const q of e.quality ?? []) {
      const id = this.datasetId(q.dataset);
      let input = inputs.find((i) => i['namespace'] === id.namespace && i['name'] === id.name);
      if (!input) {
        input = { ...id, facets: dsFacets(q.dataset) };
        inputs.push(input);
      }
      input['facets']['dataQualityAssertions'] = {
        ...base('DataQualityAssertionsDatasetFacet', '1-1-0'),
        assertions: q.assertions.map((a) => ({
          assertion: a.assertion,
          success: a.success,
          ...(a.column ? { column: a.column } : {}),
          ...(a.severity ? { severity: a.severity } : {}),
        })),
      };
      input['inputFacets'] = {
        dataQualityMetrics: {
          ...base('DataQualityMetricsInputDatasetFacet', '1-0-3'),
          ...(q.rowCount !== undefined ? { rowCount: q.rowCount } : {}),
          columnMetrics: q.columnMetrics ?? {},
        },
      };
    }
  }

  private runFacets(e: RunStateEvent): Json {
    const runFacets: Json = {};
    if (e.parent)
      runFacets['parent'] = {
        ...base('ParentRunFacet', '1-1-0'),
        run: { runId: e.parent.runId },
        job: { namespace: this.namespace, name: e.parent.job },
      };
    if (e.error)
      runFacets['errorMessage'] = {
        ...base('ErrorMessageRunFacet', '1-0-1'),
        message: `${e.error.code}: ${e.error.message}`,
        programmingLanguage: e.sql ? 'sql' : 'typescript',
      };
    return runFacets;
  }

  private jobFacets(e: RunStateEvent): Json {
    const jobFacets: Json = {
      jobType: {
        ...base('JobTypeJobFacet', '2-0-3'),
        processingType: 'BATCH',
        integration: 'WEIR',
        jobType: e.jobType,
      },
    };
    if (e.sql) jobFacets['sql'] = { ...base('SQLJobFacet', '1-1-0'), query: e.sql, dialect: 'postgres' };
    return jobFacets;
  }

  /** Columns of the warehouse tables among `refs` that do not list theirs (information_schema). */
  private async fieldsOf(refs: RunDatasetRef[]): Promise<Map<string, Field[]>> {
    const wanted = [...new Set(refs.filter((r) => !r.namespace && !r.fields).map((r) => r.name))];
    const out = new Map<string, Field[]>();
    if (!wanted.length) return out;
    const rows = await this.warehouse.query<{ t: string; name: string; type: string }>(
      `SELECT c.table_schema || '.' || c.table_name AS t, c.column_name AS name, c.data_type AS type
         FROM information_schema.columns c
        WHERE c.table_schema || '.' || c.table_name = ANY($1::text[])
        ORDER BY c.table_schema, c.table_name, c.ordinal_position`,
      [wanted],
    );
    for (const r of rows) (out.get(r.t) ?? out.set(r.t, []).get(r.t)!).push({ name: r.name, type: r.type });
    return out;
  }

  private async sqlColumnLineage(
    e: RunStateEvent,
    fields: Map<string, Field[]>,
  ): Promise<Map<string, Map<string, Json[]>>> {
    const out = new Map<string, Map<string, Json[]>>();
    const target = e.outputs[0];
    if (!target || target.namespace) return out;
    const schemas: Record<string, string[]> = {};
    for (const i of e.inputs)
      if (!i.namespace) schemas[i.name] = (i.fields ?? fields.get(i.name) ?? []).map((f) => f.name);
    let result;
    try {
      // the model's SELECT, its output columns the target's
      result = await sqlLineage(e.sql!, { schemas, target: target.name });
    } catch {
      return out; // lineage is best effort: a model whose SQL the parser refuses still gets its run events
    }
    const cols = new Map<string, Map<string, Json>>();
    for (const edge of result.columnLineage) {
      if (!edge.source.table || edge.target.table !== target.name.toLowerCase()) continue;
      const byCol = cols.get(edge.target.column) ?? new Map<string, Json>();
      cols.set(edge.target.column, byCol);
      const src = this.datasetId({ name: edge.source.table });
      const k = `${src.name}\u0000${edge.source.column}`;
      const input = byCol.get(k) ?? {
        namespace: src.namespace,
        name: src.name,
        field: edge.source.column,
        transformations: [] as Json[],
      };
      byCol.set(k, input);
      if (!input['transformations'].some((t: Json) => t['type'] === edge.type && t['subtype'] === edge.subtype)) {
        input['transformations'].push({ type: edge.type, subtype: edge.subtype, description: '', masking: false });
      }
    }
    out.set(target.name, new Map([...cols.entries()].map(([c, m]) => [c, [...m.values()]])));
    return out;
  }

  private mappedColumnLineage(e: RunStateEvent): Map<string, Map<string, Json[]>> {
    const out = new Map<string, Map<string, Json[]>>();
    for (const m of e.columnMappings ?? []) {
      const byCol = out.get(m.output) ?? new Map<string, Json[]>();
      out.set(m.output, byCol);
      byCol.set(
        m.column,
        m.inputs.map((i) => ({
          ...this.datasetId(i.dataset),
          field: i.column,
          transformations: [{ type: 'DIRECT', subtype: m.subtype, description: m.description ?? '', masking: false }],
        })),
      );
    }
    return out;
  }
}
