import type { RunView } from '../runs.service';

/** Nest token of {@link SeedLoaderPort}. */
export const SEED_LOADER = Symbol('SEED_LOADER');

/** A dbt seed to load: a CSV file into `schema.table`, owned by `managedBy`. */
export interface SeedLoad {
  /** The dataset's name in the catalog (the seed's name). */
  name: string;
  /** The project's name: the seed's source is named after it (`seed_<project>_<seed>`). */
  project: string;
  file: string;
  schema: string;
  table: string;
  /** `modeling:<project>`: who owns the dataset and its source. */
  managedBy: string;
  /** dbt's `quote_columns`: false folds header names to lower case. */
  quoteColumns?: boolean;
  delimiter?: string;
}

export type SeedLoaded =
  | { ok: true; run: RunView; source: string; renamedColumns: string[] }
  | { ok: false; reason: 'no_header' | 'run_failed'; message: string; run?: RunView; source?: string };

/**
 * Loads a seed the way every file is loaded: its contract inferred from the CSV (every column
 * text-safe, names as dbt quotes them), a replace source owned by the project, one accounted
 * ingestion run. What modeling uses instead of ingestion's services.
 */
export interface SeedLoaderPort {
  load(seed: SeedLoad): Promise<SeedLoaded>;
  /**
   * Deletes (softly, as any source: their runs stay) the seed sources `managedBy` keeps, when its
   * project is deleted; returns their names. Their datasets and tables stay.
   */
  forget(managedBy: string): Promise<string[]>;
}
