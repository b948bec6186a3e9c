/** What a quality gate is asked to check: rows staged for a dataset, before they are published. */
export interface QualityGateInput {
  dataset: string;
  /** Warehouse schema and table holding the staged rows. */
  schema: string;
  table: string;
  /** The run (ingestion or model build) that staged them. */
  runId: string;
  rows: number;
}

/** One failed check. */
export interface QualityFailure {
  check: string;
  severity: 'error' | 'warning';
  message: string;
  observed?: unknown;
}

export interface QualityGateResult {
  /** False when an error-severity check failed: the caller must not publish. */
  passed: boolean;
  failures: QualityFailure[];
  /** The quality runs that produced this verdict (GET /api/quality/runs/:id). */
  runIds?: string[];
}

/**
 * The write–audit–publish gate (token {@link QUALITY_GATE}): called on staged rows, decides
 * whether they may be published.
 */
export interface QualityGate {
  check(input: QualityGateInput): Promise<QualityGateResult>;
  /**
   * Whether `dataset` has checks to run. A loader that settles duplicates only at publish time
   * settles them before the gate when there is something to check, so the gate sees the rows
   * that would be published. Absent: taken as true.
   */
  hasChecks?(dataset: string): Promise<boolean>;
}

/** Nest token of the {@link QualityGate}. */
export const QUALITY_GATE = Symbol('QUALITY_GATE');

/**
 * Passes everything. The default until the quality slice compiles expectation suites; it keeps
 * the gate's place in every publish path so the real checks drop in without touching callers.
 */
export class PassThroughQualityGate implements QualityGate {
  async check(): Promise<QualityGateResult> {
    return { passed: true, failures: [] };
  }

  async hasChecks(): Promise<boolean> {
    return false;
  }
}

/** Managing suites from other slices (token {@link QUALITY_SUITES}). */
export interface QualitySuites {
  /** Creates or replaces the suite `name` on `dataset`; an empty list removes it. */
  upsertSuite(
    name: string,
    dataset: string,
    expectations: import('../domain/expectations').Expectation[],
    meta?: Record<string, unknown>,
  ): Promise<void>;
  /** Every suite (or those on `dataset`), with its expectations: for impact analysis. */
  listSuites(
    dataset?: string,
  ): Promise<{ name: string; dataset: string; expectations: import('../domain/expectations').Expectation[] }[]>;
  /**
   * Adds what another slice knows uses suites (orchestration: pipeline `check` steps): asked before
   * a suite is deleted; any dependent refuses it with QUALITY.SUITE_IN_USE (409).
   */
  addDependentsProbe(probe: SuiteDependentsProbe): void;
}

/** What uses a suite in one slice (nothing: an empty list). */
export type SuiteDependentsProbe = (suite: {
  id: string;
  name: string;
  dataset: string;
}) => Promise<import('@weir/platform').Dependent[]>;

export const QUALITY_SUITES = Symbol('QUALITY_SUITES');
