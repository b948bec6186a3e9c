import { DomainError } from './domain-error';

/**
 * Every error the platform slice raises on purpose: one class per stable code. The kind, not the class,
 * decides the HTTP status (in the problem filter); the message becomes problem+json `detail`.
 */

/** `PLATFORM.API_KEY_NOT_FOUND` (not_found): No API key with id … */
export class ApiKeyNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('PLATFORM.API_KEY_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `PLATFORM.API_KEY_AMBIGUOUS` (conflict): Several active API keys are named …; give the key's id */
export class ApiKeyAmbiguousError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('PLATFORM.API_KEY_AMBIGUOUS', 'conflict', message, extra);
  }
}

/** `PLATFORM.API_KEY_REVOKED` (conflict): The API key … is revoked; a revoked key cannot be rotated */
export class ApiKeyRevokedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('PLATFORM.API_KEY_REVOKED', 'conflict', message, extra);
  }
}

/** `PLATFORM.BODY_TOO_DEEP` (invalid): The … is nested more than … levels deep (at …) */
export class BodyTooDeepError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('PLATFORM.BODY_TOO_DEEP', 'invalid', message, extra);
  }
}

/** `PLATFORM.CONTROL_PLANE_SCHEMA` (forbidden): … may not name ….…` : `schema …`}: …, pg_* and public.migrations hold Weir's and PostgreSQL's own state; use a data schema (raw, staging, an… */
export class ControlPlaneSchemaError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('PLATFORM.CONTROL_PLANE_SCHEMA', 'forbidden', message, extra);
  }
}

/** `PLATFORM.FORBIDDEN` (forbidden): The key's role may not do this */
export class ForbiddenError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('PLATFORM.FORBIDDEN', 'forbidden', message, extra);
  }
}

/** `PLATFORM.INVALID_AUDIT_QUERY` (invalid): cursor is not one this API returned (take nextCursor from the previous page) */
export class InvalidAuditQueryError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('PLATFORM.INVALID_AUDIT_QUERY', 'invalid', message, extra);
  }
}

/** `PLATFORM.INVALID_EXPIRY` (invalid): An expiry or grace period is malformed, in the past, or both forms were given */
export class InvalidExpiryError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('PLATFORM.INVALID_EXPIRY', 'invalid', message, extra);
  }
}

/** `PLATFORM.INVALID_NAME` (invalid): name must be 1 to 100 characters */
export class InvalidNameError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('PLATFORM.INVALID_NAME', 'invalid', message, extra);
  }
}

/** `PLATFORM.INVALID_ROLE` (invalid): role must be one of … */
export class InvalidRoleError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('PLATFORM.INVALID_ROLE', 'invalid', message, extra);
  }
}

/** `PLATFORM.INVALID_STRING` (invalid): The … at … … */
export class InvalidStringError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('PLATFORM.INVALID_STRING', 'invalid', message, extra);
  }
}

/** `PLATFORM.MALFORMED_BODY` (invalid): The request body is not valid JSON */
export class MalformedBodyError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('PLATFORM.MALFORMED_BODY', 'invalid', message, extra);
  }
}

/** `PLATFORM.PAYLOAD_TOO_LARGE` (too_large): The request body is larger than `WEIR_BODY_MAX_BYTES` (default 1 MiB; OpenLineage events: `WEIR_OPENLINEAGE_MAX_BYTES`) */
export class PayloadTooLargeError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('PLATFORM.PAYLOAD_TOO_LARGE', 'too_large', message, extra);
  }
}

/** `PLATFORM.STATEMENT_TIMEOUT` (unavailable): A warehouse statement ran longer than its statement timeout (`WEIR_REQUEST_STATEMENT_TIMEOUT_MS` for one made on behalf of a request) and was cancelled */
export class StatementTimeoutError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('PLATFORM.STATEMENT_TIMEOUT', 'unavailable', message, extra);
  }
}

/** `PLATFORM.UNSUPPORTED_MEDIA_TYPE` (unsupported_media_type): This route takes application/json, not …; send the header Content-Type: application/json */
export class UnsupportedMediaTypeError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('PLATFORM.UNSUPPORTED_MEDIA_TYPE', 'unsupported_media_type', message, extra);
  }
}

/** `PLATFORM.WRITER_NOT_GRANTED` (conflict): Weir writes as the role …, and its own role may not grant it the use of … (…); its owner can: … */
export class WriterNotGrantedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('PLATFORM.WRITER_NOT_GRANTED', 'conflict', message, extra);
  }
}

/** `PLATFORM.INVALID_IDENTIFIER` (invalid): A name given for a schema, table or column is not a safe SQL identifier */
export class InvalidIdentifierError extends DomainError {
  constructor(kind: string, value: string, reason: string) {
    super('PLATFORM.INVALID_IDENTIFIER', 'invalid', `Invalid ${kind} name ${JSON.stringify(value)}: ${reason}`, {
      kind,
    });
  }
}

/** `PLATFORM.COPY_FAILED` (internal): COPY into a table failed; wraps the driver error with the table it was loading */
export class CopyFailedError extends DomainError {
  constructor(table: string, cause: Error & { code?: string; where?: string }) {
    super('PLATFORM.COPY_FAILED', 'internal', `COPY into ${table} failed: ${cause.message}`, { sqlState: cause.code });
    this.cause = cause;
  }
}

/** `PLATFORM.INTERNAL` (internal): an unexpected error; the answer carries an `errorId` to find it in the log. */
export class InternalError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('PLATFORM.INTERNAL', 'internal', message, extra);
  }
}

/**
 * Codes the HTTP edge answers with for failures that are not raised as domain errors: Nest's own
 * exceptions, the body parser, the API-key guard, the input guard, validation and health.
 */
export const EDGE_CODES: readonly { code: string; status: number; meaning: string }[] = [
  { code: 'PLATFORM.BAD_REQUEST', status: 400, meaning: 'The request is malformed (no more specific code applies)' },
  {
    code: 'PLATFORM.VALIDATION_FAILED',
    status: 400,
    meaning: 'The body, path or query does not match the route (each problem in `errors`)',
  },
  { code: 'PLATFORM.UNAUTHENTICATED', status: 401, meaning: 'No API key was sent' },
  { code: 'PLATFORM.INVALID_API_KEY', status: 401, meaning: 'The API key is unknown or revoked' },
  { code: 'PLATFORM.KEY_EXPIRED', status: 401, meaning: 'The API key has passed its expiry date (`expiresAt`)' },
  { code: 'PLATFORM.FORBIDDEN', status: 403, meaning: "The key's role may not do this" },
  { code: 'PLATFORM.NOT_FOUND', status: 404, meaning: 'No such route' },
  { code: 'PLATFORM.METHOD_NOT_ALLOWED', status: 405, meaning: 'The route does not take this method' },
  { code: 'PLATFORM.CONFLICT', status: 409, meaning: 'A conflict with no more specific code' },
  { code: 'PLATFORM.TOO_MANY_REQUESTS', status: 429, meaning: 'Too many requests' },
  {
    code: 'PLATFORM.RATE_LIMITED',
    status: 429,
    meaning: 'The key made more than `WEIR_RATE_LIMIT_PER_MINUTE` requests; wait `Retry-After` seconds',
  },
  { code: 'PLATFORM.UNAVAILABLE', status: 503, meaning: 'A dependency is unavailable' },
  { code: 'PLATFORM.UNHEALTHY', status: 503, meaning: '/health: a check is down (named in `checks`)' },
];
