import type { Expectation, ExpectationResult } from '../../domain/expectations';

/** What one scan of a suite on a table needs. */
export interface SuiteScanRequest {
  /** The suite's name (for logs). */
  suite: string;
  /** The table checked: the dataset's own, or a staging table (gates). */
  target: { schema: string; table: string };
  /** The suite's expectations, `relationships.to` resolved to `schema.table`. */
  expectations: Expectation[];
  /** Columns whose values are masked in the evidence (PII). */
  masked: ReadonlySet<string>;
  /** When the dataset was last loaded (freshness without a column). */
  lastLoadAt: Date | null;
  /** The row count of the previous run of the same trigger (row_count_change_within). */
  previousRowCount: number | null;
  /** Profile metrics (null ratios, min/max/mean, distinct counts) in the same scan. */
  profile: boolean;
  distinctColumns?: string[];
  /** Asked for over HTTP: bounded by WEIR_REQUEST_STATEMENT_TIMEOUT_MS too (a gate's or a pipeline's run is not). */
  forRequest?: boolean;
}

/** The outcome of a scan: one result per expectation (in order), the table's row count, the profile. */
export interface SuiteScan {
  results: ExpectationResult[];
  rowCount: number;
  profile: Record<string, number>;
}

/**
 * Runs a suite's checks on a warehouse table (token {@link SUITE_SCANNER}). Promises: the checks
 * read as the restricted reader role, in a READ ONLY transaction bounded by the check timeout (and
 * for `forRequest` by the request's), so user-written SQL (custom_sql, row_condition) can neither
 * write nor reach the control plane; a statement past its bound is `PLATFORM.STATEMENT_TIMEOUT`; a
 * missing table is `QUALITY.TABLE_NOT_FOUND`; each check keeps at most WEIR_QUALITY_SAMPLE_MAX
 * unexpected values; when the one scan fails as a whole and warn checks
 * are among it, the error-severity checks run alone and the warn checks come back as not evaluated.
 * Adapter: PgSuiteScanner (infrastructure/suite.scanner.ts).
 */
export interface SuiteScanner {
  scan(req: SuiteScanRequest): Promise<SuiteScan>;
}

export const SUITE_SCANNER = Symbol('SUITE_SCANNER');
