import { Logger } from '@nestjs/common';
import type { PoolClient } from 'pg';
import {
  asStatementTimeout,
  prepareReader,
  readAsReader,
  REQUEST_TIMEOUT_SETTING,
  statementTimeoutSql,
  Warehouse,
} from '@weir/platform';
import type { Expectation, ExpectationResult } from '../domain/expectations';
import { TableNotFoundError } from '../quality.errors';
import type { SuiteScan, SuiteScanner, SuiteScanRequest } from '../application/ports/suite-scanner.port';
import { maskQuoted, runSuite, RunOptions } from './suite.runner';
import {
  BEGIN_READ_ONLY,
  COMMIT,
  releaseSavepointSql,
  ROLLBACK,
  rollbackToSavepointSql,
  SCAN_SAVEPOINT,
  savepointSql,
  tableExistsQuery,
} from './suite-scan.sql';

type Target = { schema: string; table: string };
type ScanOptions = Parameters<typeof runSuite>[3];

/** Appended to every scan: its observed value is the table's row count (then taken off the results). */
const rowCountCheck = (): Expectation => ({
  type: 'expect_table_row_count_to_be_between',
  kwargs: { min_value: 0 },
  severity: 'warn',
});

/** Tables a relationships check reads besides the target (`to` resolved to `schema.table`). */
function referencedTables(expectations: Expectation[]): Target[] {
  return expectations
    .filter(
      (e) => e.type === 'relationships' && typeof e.kwargs['to'] === 'string' && String(e.kwargs['to']).includes('.'),
    )
    .map((e) => {
      const [schema, table] = String(e.kwargs['to']).split('.');
      return { schema, table };
    });
}

/** A failed scan's warn checks, as results: not evaluated. */
function notEvaluated(x: Expectation, e: unknown): ExpectationResult {
  return {
    expectation: x,
    success: false,
    severity: 'warn' as const,
    result: {},
    exception_info: {
      raised_exception: true,
      exception_message: `not evaluated: the scan failed (${(e as Error).message})`,
    },
  };
}

/**
 * A failed scan's error with every quoted excerpt of its message and detail masked: on a table with
 * PII columns a data error (`invalid input syntax for type …: "…"`) may quote a PII value, and the
 * message goes to the run, the answer and the log.
 */
function masked(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  e.message = maskQuoted(e.message);
  if (e.stack) e.stack = maskQuoted(e.stack); // it repeats the message
  const d = e as Error & { detail?: unknown };
  if (typeof d.detail === 'string') d.detail = maskQuoted(d.detail);
  return e;
}

/**
 * The SUITE_SCANNER on the warehouse: checks read as the reader role (no privilege on Weir's own
 * schemas, none on the server's files), in a READ ONLY transaction with a statement timeout: the
 * check timeout, or for a run asked for over HTTP the lower of it and the request's
 * (WEIR_REQUEST_STATEMENT_TIMEOUT_MS), which then bounds every statement of the scan.
 */
export class PgSuiteScanner implements SuiteScanner {
  private readonly log = new Logger('quality');

  constructor(
    private readonly warehouse: Warehouse,
    /** statement_timeout of a check's statements (WEIR_CHECK_TIMEOUT_SECONDS). */
    readonly checkTimeoutMs: number,
    /** Most unexpected values one check keeps (WEIR_QUALITY_SAMPLE_MAX). */
    readonly sampleMax: number = 1000,
  ) {}

  /** The bound of a scan's statements and the setting it comes from. */
  private bound(forRequest: boolean): { ms: number; setting: string } {
    return forRequest && this.warehouse.requestTimeoutMs < this.checkTimeoutMs
      ? { ms: this.warehouse.requestTimeoutMs, setting: REQUEST_TIMEOUT_SETTING }
      : { ms: this.checkTimeoutMs, setting: 'WEIR_CHECK_TIMEOUT_SECONDS' };
  }

  async scan(req: SuiteScanRequest): Promise<SuiteScan> {
    const { ms, setting } = this.bound(req.forRequest === true);
    try {
      return await this.scanBounded(req, ms);
    } catch (e) {
      throw asStatementTimeout(e, ms, setting);
    }
  }

  private async scanBounded(req: SuiteScanRequest, ms: number): Promise<SuiteScan> {
    const { target, expectations } = req;
    // over HTTP, the grants and look-ups ahead of the transaction are bounded too
    const lease = await this.warehouse.lease(req.forRequest ? ms : undefined);
    const client = lease.client;
    try {
      const asReader = await prepareReader(client, [target, ...referencedTables(expectations)], (m) =>
        this.log.warn(m),
      );
      await client.query(BEGIN_READ_ONLY);
      await client.query(statementTimeoutSql(ms));
      const exists = (await client.query(tableExistsQuery(target))).rows[0].e;
      if (!exists)
        throw new TableNotFoundError(
          `The table ${target.schema}.${target.table} does not exist (load the dataset first)`,
        );
      const runOpts: RunOptions & ScanOptions = {
        masked: req.masked,
        resultFormat: 'BASIC' as const,
        partialCount: 20,
        sampleMax: this.sampleMax,
        lastLoadAt: req.lastLoadAt,
        previousRowCount: req.previousRowCount,
        profile: req.profile,
        distinctColumns: req.distinctColumns,
        // every query a user's SQL (custom_sql, row_condition) is part of runs as the reader, inside
        // a function where PostgreSQL refuses any change of role
        ...(asReader
          ? { read: (text: string, values: unknown[]) => readAsReader(client, text, values, (m) => this.log.warn(m)) }
          : {}),
      };
      const run = await this.scanOrStrict(client, req, runOpts);
      await client.query(COMMIT);
      return {
        profile: run.profile,
        rowCount: Number(run.results[run.results.length - 1].result.observed_value ?? 0),
        results: run.results.slice(0, -1),
      };
    } catch (e) {
      await client.query(ROLLBACK).catch(() => undefined);
      throw req.masked.size ? masked(e) : e;
    } finally {
      await lease.release();
    }
  }

  /**
   * The one scan; when it fails as a whole (a column's type changed under a row_condition, say) and
   * warn checks are among it, the error-severity checks run alone, so a check that is only a
   * warning can never fail a load; the warn checks are reported as not evaluated.
   */
  private async scanOrStrict(
    client: PoolClient,
    req: SuiteScanRequest,
    runOpts: ScanOptions,
  ): Promise<{ results: ExpectationResult[]; profile: Record<string, number> }> {
    const { target, expectations } = req;
    await client.query(savepointSql(SCAN_SAVEPOINT));
    try {
      const run = await runSuite(client, target, [...expectations, rowCountCheck()], runOpts);
      await client.query(releaseSavepointSql(SCAN_SAVEPOINT));
      return run;
    } catch (err) {
      await client.query(rollbackToSavepointSql(SCAN_SAVEPOINT));
      const e = req.masked.size ? masked(err) : err;
      const warns = expectations.filter((x) => x.severity === 'warn');
      if (!warns.length) throw e;
      this.log.warn(
        `suite ${req.suite}: the scan failed (${(e as Error).message}); running its ${expectations.length - warns.length} error-severity check(s) alone`,
      );
      const strict = await runSuite(
        client,
        target,
        [...expectations.filter((x) => x.severity !== 'warn'), rowCountCheck()],
        runOpts,
      );
      const left = [...strict.results];
      const last = left.pop()!;
      const results = expectations.map((x) => (x.severity === 'warn' ? notEvaluated(x, e) : left.shift()!));
      return { ...strict, results: [...results, last] };
    }
  }
}
