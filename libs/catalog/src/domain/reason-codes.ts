/** Why a record was rejected: stable codes, stored with every dead letter. */
export const REASON_CODES = [
  'TYPE_MISMATCH',
  'NULL_IN_REQUIRED',
  'NOT_ALLOWED',
  'PATTERN',
  'TOO_LONG',
  'COLUMN_COUNT',
  'UNPARSEABLE',
  'SCHEMA_DRIFT',
  'DUPLICATE_KEY_IN_BATCH',
  'DUPLICATE_KEY',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

/** One reason a record cannot be loaded. */
export interface Violation {
  reason: ReasonCode;
  column?: string;
  /** The offending value (masked when the column is PII). */
  value?: string | null;
  message: string;
}

export function isViolation(v: unknown): v is Violation {
  return typeof v === 'object' && v !== null && typeof (v as Violation).reason === 'string';
}
