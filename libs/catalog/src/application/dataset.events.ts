/**
 * The catalog's publish events: every recorded load or build of a dataset (a successful ingestion
 * run, a model built) is published on the outbox topic {@link DATASET_UPDATED_TOPIC}, in the
 * statement that records it as the dataset's last load. Orchestration's data-aware schedules
 * listen to it (the way Airflow's dataset schedules and Dagster's asset sensors work); nothing
 * polls tables.
 */
export const DATASET_UPDATED_TOPIC = 'weir.dataset.updated';

/** One update of a dataset's data. */
export interface DatasetUpdated {
  /** The dataset's catalog name. */
  dataset: string;
  schema: string;
  table: string;
  /** The run that wrote it (an ingestion run, a build step's run). */
  runId: string;
  /** Rows loaded or affected, when known. */
  rows: number | null;
  /** The job that wrote it (`ingestion.<source>`, `model.<project>.<name>`), when given. */
  job: string | null;
  /** ISO-8601. */
  at: string;
}
