import { StatementTimeoutError } from '../errors/platform.errors';
import {
  asStatementTimeout,
  isStatementTimeout,
  REQUEST_TIMEOUT_SETTING,
  statementTimeoutSql,
  tighterTimeout,
} from './statement-timeout';

const cancelled = (message = 'canceling statement due to statement timeout') =>
  Object.assign(new Error(message), { code: '57014' });

describe('statement timeouts', () => {
  it('writes SET LOCAL (a transaction) or SET (the session), refusing a value that would turn the timeout off', () => {
    expect(statementTimeoutSql(2000)).toBe('SET LOCAL statement_timeout = 2000');
    expect(statementTimeoutSql(30_000, 'session')).toBe('SET statement_timeout = 30000');
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => statementTimeoutSql(bad)).toThrow(RangeError);
  });

  it('keeps the tighter of two bounds', () => {
    expect(tighterTimeout(30_000, 2000)).toBe(2000);
    expect(tighterTimeout(300, 2000)).toBe(300);
    expect(tighterTimeout(30_000, undefined)).toBe(30_000);
  });

  it('tells a cancelled statement (SQLSTATE 57014) from other errors', () => {
    expect(isStatementTimeout(cancelled())).toBe(true);
    expect(isStatementTimeout(Object.assign(new Error('x'), { code: '55P03' }))).toBe(false); // lock_timeout
    expect(isStatementTimeout(new Error('canceling statement due to statement timeout'))).toBe(false);
    expect(isStatementTimeout(undefined)).toBe(false);
    expect(isStatementTimeout('57014')).toBe(false);
  });

  it('turns a timeout into PLATFORM.STATEMENT_TIMEOUT naming the bound and its setting; other errors pass through', () => {
    const e = asStatementTimeout(cancelled(), 250);
    expect(e).toBeInstanceOf(StatementTimeoutError);
    expect(e).toMatchObject({
      code: 'PLATFORM.STATEMENT_TIMEOUT',
      kind: 'unavailable',
      extra: { timeoutMs: 250, setting: REQUEST_TIMEOUT_SETTING },
    });
    expect((e as Error).message).toMatch(/longer than the 250 ms WEIR_REQUEST_STATEMENT_TIMEOUT_MS allows/);
    expect((e as Error).message).toMatch(/pipeline step/);
    const check = asStatementTimeout(cancelled(), 600_000, 'WEIR_CHECK_TIMEOUT_SECONDS') as Error;
    expect(check.message).toMatch(/600000 ms WEIR_CHECK_TIMEOUT_SECONDS allows and was cancelled$/);
    const operator = asStatementTimeout(cancelled('canceling statement due to user request'), 250) as Error;
    expect(operator).toBeInstanceOf(StatementTimeoutError);
    expect(operator.message).toMatch(/operator/);
    const other = new Error('relation does not exist');
    expect(asStatementTimeout(other, 250)).toBe(other);
    expect(asStatementTimeout(e, 99)).toBe(e);
  });
});
