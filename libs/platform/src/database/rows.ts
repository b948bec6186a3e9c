/**
 * The rows of a TypeORM `query()` result: for UPDATE and DELETE it answers `[rows, affected]`,
 * for everything else the rows themselves.
 */
export const rowsOf = <T>(result: unknown): T[] =>
  Array.isArray(result) && Array.isArray(result[0]) ? (result[0] as T[]) : (result as T[]);
