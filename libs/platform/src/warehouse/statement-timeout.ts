import { StatementTimeoutError } from '../errors/platform.errors';

/**
 * Statement timeouts on the warehouse. Work done on behalf of an HTTP request (a preview, a count,
 * dead letters, a suite run or an export asked for over HTTP) runs under one bound,
 * `WEIR_REQUEST_STATEMENT_TIMEOUT_MS` (see {@link Warehouse.forRequest}); background work (loads,
 * builds, pipeline steps, gates) keeps its own (`WEIR_CHECK_TIMEOUT_SECONDS` for checks).
 */

/** The setting bounding the warehouse statements of a request. */
export const REQUEST_TIMEOUT_SETTING = 'WEIR_REQUEST_STATEMENT_TIMEOUT_MS';

/** PostgreSQL's SQLSTATE `query_canceled`: a statement_timeout, or a cancel (pg_cancel_backend). */
const QUERY_CANCELED = '57014';

/**
 * `SET [LOCAL] statement_timeout = <ms>`: `local` for the current transaction only, `session` for
 * the connection until it is reset. `ms` must be a whole number of milliseconds, at least 1 (0
 * would turn the timeout off).
 */
export function statementTimeoutSql(ms: number, scope: 'local' | 'session' = 'local'): string {
  if (!Number.isSafeInteger(ms) || ms < 1)
    throw new RangeError(`a statement timeout is a whole number of ms ≥ 1 (got ${ms})`);
  return `SET ${scope === 'local' ? 'LOCAL ' : ''}statement_timeout = ${ms}`;
}

/** The lower of two timeouts (an undefined one does not bound). */
export function tighterTimeout(a: number, b: number | undefined): number {
  return b === undefined ? a : Math.min(a, b);
}

/** Whether `e` is PostgreSQL cancelling a statement (its statement_timeout, or an operator's cancel). */
export function isStatementTimeout(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === QUERY_CANCELED;
}

/** What a client is told to do about a request's statement that timed out. */
export const REQUEST_TIMEOUT_HINT =
  'ask for less (a smaller limit, a narrower check), run the work as a pipeline step (not bound by it), or raise the setting';

/**
 * `e` as the problem a client gets: a cancelled statement becomes {@link StatementTimeoutError}
 * (503 `PLATFORM.STATEMENT_TIMEOUT`) naming the timeout and the setting it came from; anything
 * else is returned as it is.
 */
export function asStatementTimeout(
  e: unknown,
  ms: number,
  setting: string = REQUEST_TIMEOUT_SETTING,
  hint: string | undefined = setting === REQUEST_TIMEOUT_SETTING ? REQUEST_TIMEOUT_HINT : undefined,
): unknown {
  if (!isStatementTimeout(e) || e instanceof StatementTimeoutError) return e;
  if (/user request/i.test(String((e as { message?: unknown }).message ?? '')))
    return new StatementTimeoutError(
      'A warehouse statement was cancelled by a database operator (pg_cancel_backend) before it finished',
    );
  return new StatementTimeoutError(
    `A warehouse statement ran longer than the ${ms} ms ${setting} allows and was cancelled${hint ? `: ${hint}` : ''}`,
    { timeoutMs: ms, setting },
  );
}
