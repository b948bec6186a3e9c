import { InvalidIdentifierError } from '../errors/platform.errors';

/** PostgreSQL truncates identifiers longer than NAMEDATALEN-1 bytes. */
export const MAX_IDENTIFIER_BYTES = 63;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED_PREFIX = /^pg_/i;

export type IdentifierKind = 'schema' | 'table' | 'column' | 'index' | 'constraint' | 'identifier';

/**
 * Validates a name for use as a schema, table or column: letters, digits and underscores, not
 * starting with a digit, at most 63 bytes, not `pg_*` for schemas. Returns it unchanged (case kept);
 * throws {@link InvalidIdentifierError} (`PLATFORM.INVALID_IDENTIFIER`) otherwise.
 */
export function validateIdentifier(name: unknown, kind: IdentifierKind = 'identifier'): string {
  if (typeof name !== 'string') throw new InvalidIdentifierError(kind, String(name), 'must be a string');
  if (name.length === 0) throw new InvalidIdentifierError(kind, name, 'must not be empty');
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES) {
    throw new InvalidIdentifierError(
      kind,
      name,
      `must be at most ${MAX_IDENTIFIER_BYTES} bytes (PostgreSQL would truncate it)`,
    );
  }
  if (!IDENTIFIER.test(name)) {
    throw new InvalidIdentifierError(
      kind,
      name,
      'may contain only letters, digits and underscores, and must not start with a digit',
    );
  }
  if (kind === 'schema' && RESERVED_PREFIX.test(name)) {
    throw new InvalidIdentifierError(kind, name, 'must not start with pg_ (reserved by PostgreSQL)');
  }
  return name;
}

/** Quotes a validated identifier for SQL (`format('%I')` style, always quoted so case is kept). */
export function quoteIdent(name: string, kind: IdentifierKind = 'identifier'): string {
  return `"${validateIdentifier(name, kind)}"`;
}

/** `"schema"."table"` from validated parts. */
export function qualifiedTable(schema: string, table: string): string {
  return `${quoteIdent(schema, 'schema')}.${quoteIdent(table, 'table')}`;
}

/** A comma-separated list of quoted column names. */
export function columnList(columns: readonly string[]): string {
  if (columns.length === 0) throw new InvalidIdentifierError('column', '', 'at least one column is required');
  const seen = new Set<string>();
  return columns
    .map((c) => {
      const q = quoteIdent(c, 'column');
      if (seen.has(c)) throw new InvalidIdentifierError('column', c, 'is listed twice');
      seen.add(c);
      return q;
    })
    .join(', ');
}

/** Splits `schema.table` (or `table`, with a default schema) into validated parts. */
export function parseQualifiedName(name: string, defaultSchema: string): { schema: string; table: string } {
  const parts = String(name).split('.');
  if (parts.length === 1)
    return { schema: validateIdentifier(defaultSchema, 'schema'), table: validateIdentifier(parts[0], 'table') };
  if (parts.length === 2)
    return { schema: validateIdentifier(parts[0], 'schema'), table: validateIdentifier(parts[1], 'table') };
  throw new InvalidIdentifierError('table', name, 'must be "table" or "schema.table"');
}
