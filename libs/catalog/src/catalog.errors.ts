import { DomainError } from '@weir/platform';

/**
 * Every error the catalog slice raises on purpose: one class per stable code. The kind, not the class,
 * decides the HTTP status (in the problem filter); the message becomes problem+json `detail`.
 */

/** `CATALOG.BAD_VERSION` (invalid): Only versions below the published one (…) can be retired */
export class BadVersionError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('CATALOG.BAD_VERSION', 'invalid', message, extra);
  }
}

/** `CATALOG.BREAKING_CHANGE` (conflict): This contract change is breaking (…); send "allowBreaking": true to accept it */
export class BreakingChangeError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('CATALOG.BREAKING_CHANGE', 'conflict', message, extra);
  }
}

/** `CATALOG.DATASET_EXISTS` (conflict): A dataset named "…" already exists */
export class DatasetExistsError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('CATALOG.DATASET_EXISTS', 'conflict', message, extra);
  }
}

/** `CATALOG.DATASET_IN_USE` (conflict): Dataset "…" is in use: … (the 409 lists them as `dependents`) */
export class DatasetInUseError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('CATALOG.DATASET_IN_USE', 'conflict', message, extra);
  }
}

/** `CATALOG.DATASET_NOT_FOUND` (not_found): No dataset named "…" */
export class DatasetNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('CATALOG.DATASET_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `CATALOG.PREVIEW_LIMIT_TOO_LARGE` (invalid): limit … is above the most rows a preview may return, … (WEIR_PREVIEW_MAX_ROWS) */
export class PreviewLimitTooLargeError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('CATALOG.PREVIEW_LIMIT_TOO_LARGE', 'invalid', message, extra);
  }
}

/** `CATALOG.INVALID_CONTRACT` (invalid): The contract is invalid: … */
export class InvalidContractError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('CATALOG.INVALID_CONTRACT', 'invalid', message, extra);
  }
}

/** `CATALOG.INVALID_NAME` (invalid): A dataset name is lower_snake_case */
export class InvalidNameError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('CATALOG.INVALID_NAME', 'invalid', message, extra);
  }
}

/** `CATALOG.TABLE_NOT_FOUND` (not_found): ….… does not exist yet (load or build the dataset first) */
export class TableNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('CATALOG.TABLE_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `CATALOG.TABLE_TAKEN` (conflict): Another dataset already uses the table ….… */
export class TableTakenError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('CATALOG.TABLE_TAKEN', 'conflict', message, extra);
  }
}

/** `CATALOG.VERSIONED_BREAKING_CHANGE` (conflict): "…" is a versioned dataset (v…): a breaking change (…) must be published as a new version by its model (config version: …); allowBreaking do… */
export class VersionedBreakingChangeError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('CATALOG.VERSIONED_BREAKING_CHANGE', 'conflict', message, extra);
  }
}

/** `CATALOG.VERSION_NOT_FOUND` (not_found): … does not exist (already retired?) */
export class VersionNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('CATALOG.VERSION_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `MODELING.RELATION_OWNED_ELSEWHERE`, `INGESTION.RELATION_OWNED_ELSEWHERE`, `CATALOG.RELATION_OWNED_ELSEWHERE` (conflict): the relation or name is recorded for another owner; the code names who asked. */
export class RelationOwnedElsewhereError extends DomainError {
  constructor(code: string, message: string, extra?: Record<string, unknown>) {
    super(code, 'conflict', message, extra);
  }
}

/** `CATALOG.INVALID_EXPORT` (invalid): The export request is invalid: … (every problem with its path) */
export class InvalidExportError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('CATALOG.INVALID_EXPORT', 'invalid', message, extra);
  }
}

/** `CATALOG.EXPORT_TARGET_REFUSED` (forbidden): … is outside the export root (…): exports go to a folder inside it */
export class ExportTargetRefusedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('CATALOG.EXPORT_TARGET_REFUSED', 'forbidden', message, extra);
  }
}

/** `CATALOG.EXPORT_TARGET_FAILED` (unavailable): an S3 call failed (Writing/Listing s3://…/… failed: …) or a credential's variable is unset */
export class ExportTargetError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('CATALOG.EXPORT_TARGET_FAILED', 'unavailable', message, extra);
  }
}

/** `CATALOG.CODEC_UNAVAILABLE` (unsupported): zstd is unavailable: neither node:zlib's (Node.js 22.15+) nor the WebAssembly one loaded */
export class CodecUnavailableError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('CATALOG.CODEC_UNAVAILABLE', 'unsupported', message, extra);
  }
}
