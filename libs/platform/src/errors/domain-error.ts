/**
 * What kind of failure an error is. Only the problem filter turns a kind into an HTTP status
 * (see `statusOfKind`); a slice never picks a status itself.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'unsupported_media_type'
  | 'unprocessable'
  | 'internal'
  | 'unsupported'
  | 'unavailable';

/**
 * Base class of every error a slice raises on purpose. `code` is stable (clients match on it,
 * e.g. `INGESTION.SOURCE_NOT_FOUND`); `kind` says what sort of failure it is. Each slice declares
 * one subclass per code in its `<slice>.errors.ts`. The message is shown to the client as
 * problem+json `detail`, so it must not hold secrets or SQL.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    readonly kind: ErrorKind,
    message: string,
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
