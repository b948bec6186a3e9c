/**
 * Base class of every error a slice raises on purpose. `code` is stable (clients match on it,
 * e.g. `PLATFORM.NOT_FOUND`); `status` is the HTTP status the API answers with.
 * The message is shown to the client as problem+json `detail`, so it must not hold secrets or SQL.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = 400,
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A thing asked for does not exist (404). */
export class NotFoundError extends DomainError {
  constructor(code: string, message: string, extra?: Record<string, unknown>) {
    super(code, message, 404, extra);
  }
}

/** The request conflicts with the current state (409). */
export class ConflictError extends DomainError {
  constructor(code: string, message: string, extra?: Record<string, unknown>) {
    super(code, message, 409, extra);
  }
}

/** The input is well-formed JSON but not acceptable (422 is reserved for semantic failures; 400 here). */
export class ValidationError extends DomainError {
  constructor(code: string, message: string, extra?: Record<string, unknown>) {
    super(code, message, 400, extra);
  }
}

/** A name given for a schema, table or column is not a safe SQL identifier. */
export class InvalidIdentifierError extends DomainError {
  constructor(kind: string, value: string, reason: string) {
    super('PLATFORM.INVALID_IDENTIFIER', `Invalid ${kind} name ${JSON.stringify(value)}: ${reason}`, 400, { kind });
  }
}
