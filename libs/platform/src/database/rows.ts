/**
 * The rows of a query result: a TypeORM `query()` answers `[rows, affected]` for UPDATE and
 * DELETE and the rows themselves for everything else; a pg client answers `{ rows }`.
 */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return Array.isArray(result[0]) ? (result[0] as T[]) : (result as T[]);
  const rows = (result as { rows?: unknown } | null)?.rows;
  return Array.isArray(rows) ? (rows as T[]) : (result as T[]);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` is a UUID (ids that are not are looked up by name, or are not found without a query). */
export const isUuid = (id: string): boolean => UUID.test(id);
