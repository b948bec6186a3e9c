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

describe('suite scan SQL: what each statement emits', () => {
  it('the transaction is read-only and ends with COMMIT or ROLLBACK', () => {
    expect([BEGIN_READ_ONLY, COMMIT, ROLLBACK]).toEqual(['BEGIN READ ONLY', 'COMMIT', 'ROLLBACK']);
  });

  it('the scan savepoint is set, released, or rolled back to', () => {
    expect(SCAN_SAVEPOINT).toBe('weir_scan');
    expect(savepointSql(SCAN_SAVEPOINT)).toBe('SAVEPOINT weir_scan');
    expect(releaseSavepointSql(SCAN_SAVEPOINT)).toBe('RELEASE SAVEPOINT weir_scan');
    expect(rollbackToSavepointSql(SCAN_SAVEPOINT)).toBe('ROLLBACK TO SAVEPOINT weir_scan');
  });

  it('the table is looked up by its quoted name as a bound parameter, never in the text', () => {
    const q = tableExistsQuery({ schema: 'raw', table: 'Orders' });
    expect(q).toEqual({ text: 'SELECT to_regclass($1) IS NOT NULL AS e', values: ['"raw"."Orders"'] });
    expect(q.text).not.toContain('Orders');
  });
});
