import type { ColumnMapping } from '@weir/catalog';

export const FORMATS = ['csv', 'ndjson', 'json', 'parquet'] as const;
export type SourceFormat = (typeof FORMATS)[number];

export const STRATEGIES = ['replace', 'append', 'merge', 'incremental'] as const;
export type StrategyKind = (typeof STRATEGIES)[number];

export const DRIFT_POLICIES = ['evolve', 'freeze', 'discard_columns'] as const;
export type DriftPolicy = (typeof DRIFT_POLICIES)[number];

/** Where a source's files are. Paths are relative to (and confined in) WEIR_INGEST_ROOT. */
export interface SourceLocation {
  /** A file to load when a run names none. */
  path?: string;
  /** Inbox folder scanned by scheduled runs, and a file-name glob (`*.csv`, `orders-*.csv.gz`). */
  inbox?: string;
  pattern?: string;
}

export interface StrategySpec {
  kind: StrategyKind;
  /** merge/incremental: within one batch, the row kept for a key is the last by this column (then by input order). */
  orderBy?: string;
  /** incremental: the cursor column. */
  cursor?: string;
  /** incremental: re-read rows this far below the watermark (`2 hours` for timestamps, a number for numbers). */
  lookback?: string;
}

export interface CsvOptions {
  delimiter?: string;
  quote?: string;
  escape?: string;
  /** The first line is a header (default true). */
  header?: boolean;
  /** Field names when there is no header (or to override it). */
  columns?: string[];
  encoding?: 'utf8' | 'latin1';
}

export interface SourceOptions {
  csv?: CsvOptions;
  mapping?: Record<string, ColumnMapping>;
  nullValues?: string[];
  /** JSON formats: property holding the array (JSON array format, e.g. `data.items`). */
  jsonPath?: string;
}

export interface SourceSchedule {
  cron: string;
  timezone?: string;
}

/** What one run reads. */
export interface RunInput {
  path?: string;
  checksum?: string;
  bytes?: number;
  /** Set for upload runs: the temp file the upload was streamed into. */
  uploadId?: string;
  /** Replay runs: the run whose dead letters are re-validated. */
  replayOf?: string;
  originalName?: string;
  /** The partition of the source's data the run loads (orchestration, backfills). */
  partition?: string;
  /** Upload runs: the instance holding the file (only it can run the run). */
  heldBy?: string;
  /** A database source's run: the watermark it read past (null: from the start). */
  query?: { watermark: string | null };
  /** The run that asked for this one (a pipeline run, `{ job, runId }`): its OpenLineage parent. */
  parent?: { job: string; runId: string };
}

/** Row accounting of a run: the invariant Weir guarantees. */
export interface RowCounts {
  read: number;
  loaded: number;
  rejected: number;
  deduplicated: number;
}

/** Throws when `read ≠ loaded + rejected + deduplicated`: a row was lost or counted twice. */
export function assertAccounted(c: RowCounts): void {
  if (c.read !== c.loaded + c.rejected + c.deduplicated) {
    throw new Error(
      `row accounting broken: read ${c.read} ≠ loaded ${c.loaded} + rejected ${c.rejected} + deduplicated ${c.deduplicated}`,
    );
  }
}
