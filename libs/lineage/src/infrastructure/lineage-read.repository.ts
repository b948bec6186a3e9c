import type { DataSource } from 'typeorm';
import {
  eventsPageSql,
  type EventsQuery,
  namespacePageSql,
  runByIdSql,
  runsOfJobSql,
  searchSql,
  type SearchQuery,
} from './lineage-read.sql';

/** A run row in Marquez's order of columns (see `RUN_COLUMNS`). */
export type RunRow = Record<string, unknown> & { started_at: Date | null; ended_at: Date | null };

/**
 * Reads of the lineage store other than graph walks (those are LineageGraph's): namespaces, pages
 * of datasets, jobs, runs and raw events, lookups by name, search. Rows as PostgreSQL returns them.
 */
export class LineageReadRepository {
  constructor(private readonly ds: DataSource) {}

  namespaces(): Promise<{ name: string; createdAt: Date; updatedAt: Date }[]> {
    return this.ds.query(
      `SELECT name, created_at AS "createdAt", updated_at AS "updatedAt" FROM lineage.namespaces ORDER BY name`,
    );
  }

  async namespaceExists(ns: string): Promise<boolean> {
    const [row] = await this.ds.query(`SELECT 1 FROM lineage.namespaces WHERE name = $1`, [ns]);
    return !!row;
  }

  /** A page of raw events (`payload`, `warnings`) and how many match in all. */
  async events(q: EventsQuery): Promise<{ rows: { payload: unknown; warnings: unknown }[]; total: number }> {
    const { page, count } = eventsPageSql(q);
    const [rows, [{ n }]] = await Promise.all([
      this.ds.query(page.sql, page.params),
      this.ds.query(count.sql, count.params),
    ]);
    return { rows, total: n };
  }

  /** A page of the dataset (or job) ids of a namespace, by name, each with the count of all. */
  page(kind: 'datasets' | 'jobs', ns: string, limit: number, offset: number): Promise<{ id: string; total: string }[]> {
    const { sql, params } = namespacePageSql(
      kind === 'datasets' ? 'lineage.datasets' : 'lineage.jobs',
      ns,
      limit,
      offset,
    );
    return this.ds.query(sql, params);
  }

  /** The datasets jobs read and write, by dataset namespace and name. */
  jobDatasets(jobIds: string[]): Promise<{ job_id: string; direction: string; namespace: string; name: string }[]> {
    return this.ds.query(
      `SELECT jd.job_id, jd.direction, d.namespace, d.name FROM lineage.job_datasets jd JOIN lineage.datasets d ON d.id = jd.dataset_id WHERE jd.job_id = ANY($1::bigint[]) ORDER BY d.namespace, d.name`,
      [jobIds],
    );
  }

  /** A dataset by namespace and name; undefined when unknown. */
  async dataset(ns: string, name: string): Promise<{ id: string; namespace: string; name: string } | undefined> {
    const [r] = await this.ds.query(
      `SELECT id, namespace, name FROM lineage.datasets WHERE namespace = $1 AND name = $2`,
      [ns, name],
    );
    return r;
  }

  /**
   * Jobs outside namespace `except` whose current lineage reads the dataset (an input edge), by
   * namespace and name.
   */
  readers(ns: string, name: string, except: string): Promise<{ namespace: string; name: string }[]> {
    return this.ds.query(
      `SELECT j.namespace, j.name FROM lineage.datasets d
         JOIN lineage.job_datasets jd ON jd.dataset_id = d.id AND jd.direction = 'input'
         JOIN lineage.jobs j ON j.id = jd.job_id
        WHERE d.namespace = $1 AND d.name = $2 AND j.namespace <> $3
        ORDER BY j.namespace, j.name`,
      [ns, name, except],
    );
  }

  /** A job's id by namespace and name; undefined when unknown. */
  async jobId(ns: string, name: string): Promise<string | undefined> {
    const [r] = await this.ds.query(`SELECT id FROM lineage.jobs WHERE namespace = $1 AND name = $2`, [ns, name]);
    return r?.id;
  }

  search(
    q: SearchQuery,
  ): Promise<{ type: 'DATASET' | 'JOB'; name: string; namespace: string; updated_at: Date; total: string }[]> {
    const { sql, params } = searchSql(q);
    return this.ds.query(sql, params);
  }

  /** A page of a job's runs, newest first, each with the count of all (`total`). */
  runsOfJob(jobId: string, limit: number, offset: number): Promise<(RunRow & { total: string })[]> {
    const { sql, params } = runsOfJobSql(jobId, limit, offset);
    return this.ds.query(sql, params);
  }

  /** A run by its runId (a UUID). */
  async run(id: string): Promise<RunRow | undefined> {
    const { sql, params } = runByIdSql(id);
    const [r] = await this.ds.query(sql, params);
    return r;
  }

  /** The fields of a dataset: all, or the one named `column`. */
  fieldsOf(datasetId: string, column: string | null): Promise<{ id: string; name: string }[]> {
    return this.ds.query(
      `SELECT id, name FROM lineage.fields WHERE dataset_id = $1 AND ($2::text IS NULL OR name = $2)`,
      [datasetId, column],
    );
  }
}
