/**
 * The run state changes every slice publishes through the {@link Outbox} (topic {@link RUN_EVENTS_TOPIC}).
 * Neutral facts, not OpenLineage: the lineage slice listens, turns them into OpenLineage events
 * (computing column lineage from `sql` itself) and stores and forwards them. No slice calls lineage.
 */
export const RUN_EVENTS_TOPIC = 'weir.run';

/** A table in the warehouse, or an external dataset (a source file, an API) in its own namespace. */
export interface RunDatasetRef {
  /** Omitted: the warehouse (PostgreSQL) namespace. */
  namespace?: string;
  /** For warehouse tables `schema.table`; otherwise the dataset's name in its namespace. */
  name: string;
  /** Known columns; omitted: read from the warehouse's information_schema when the event is handled. */
  fields?: { name: string; type?: string; description?: string }[];
}

/** One output column fed by input columns (ingestion mappings, declared lineage). */
export interface RunColumnMapping {
  /** Output dataset (its `name`) and column. */
  output: string;
  column: string;
  inputs: { dataset: RunDatasetRef; column: string }[];
  subtype: 'IDENTITY' | 'TRANSFORMATION' | 'AGGREGATION';
  description?: string;
}

/** Quality evidence of a run: metrics of the dataset and the result of each expectation. */
export interface RunQuality {
  dataset: RunDatasetRef;
  rowCount?: number;
  columnMetrics?: Record<
    string,
    { nullCount?: number; distinctCount?: number; min?: number; max?: number; sum?: number; count?: number }
  >;
  assertions: { assertion: string; success: boolean; column?: string; severity?: 'error' | 'warn' }[];
}

export interface RunStateEvent {
  /** Publishing slice. */
  slice: 'ingestion' | 'modeling' | 'quality' | 'orchestration';
  /** Stable job name, e.g. `ingestion.orders_csv`, `model.fct_orders`, `quality.orders_suite`. */
  job: string;
  /** What kind of job, for OpenLineage's jobType facet (e.g. INGESTION, MODEL, TEST). */
  jobType: string;
  runId: string;
  state: 'START' | 'COMPLETE' | 'FAIL' | 'ABORT';
  /** ISO-8601 with offset. */
  at: string;
  /** The run that asked for this one (a pipeline run, a build): OpenLineage's `parent` run facet. */
  parent?: { job: string; runId: string };
  inputs: RunDatasetRef[];
  outputs: RunDatasetRef[];
  /** SQL the job ran (models): lineage derives column lineage from it. */
  sql?: string;
  columnMappings?: RunColumnMapping[];
  quality?: RunQuality[];
  /** Row counts and the like (outputStatistics). */
  stats?: { rowsRead?: number; rowsWritten?: number; rowsRejected?: number; bytes?: number };
  error?: { code: string; message: string };
}
