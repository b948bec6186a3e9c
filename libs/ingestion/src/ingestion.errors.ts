import { DomainError } from '@weir/platform';
import type { QualityGateResult } from '@weir/quality';
import type { RowCounts } from './domain/source';

/**
 * Every error the ingestion slice raises on purpose: one class per stable code. The kind, not the class,
 * decides the HTTP status (in the problem filter); the message becomes problem+json `detail`.
 */

/** A load that stopped on purpose: the run fails with this code, with its row counts so far; nothing is published. */
export abstract class LoadFailedError extends DomainError {
  constructor(
    code: string,
    message: string,
    readonly counts?: Partial<RowCounts>,
    readonly quality?: QualityGateResult,
  ) {
    super(code, 'unprocessable', message);
  }
}

/** `INGESTION.BAD_UPLOAD` (invalid) */
export class BadUploadError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.BAD_UPLOAD', 'invalid', message, extra);
  }
}

/** `INGESTION.EMPTY_INPUT` (unprocessable): The input has no records; a replace would empty the table, so nothing was published */
export class EmptyInputError extends LoadFailedError {
  constructor(message: string, counts?: Partial<RowCounts>, quality?: QualityGateResult) {
    super('INGESTION.EMPTY_INPUT', message, counts, quality);
  }
}

/** `INGESTION.EMPTY_UPLOAD` (invalid): The upload is empty: send the file as the body or as a multipart "file" field */
export class EmptyUploadError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.EMPTY_UPLOAD', 'invalid', message, extra);
  }
}

/** `INGESTION.FILE_NOT_FOUND` (not_found): The input file is gone: … */
export class FileNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.FILE_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `INGESTION.CANCELLED` (conflict): the run was cancelled (by hand, or its pipeline run was); nothing was published */
export class RunCancelledError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.CANCELLED', 'conflict', message, extra);
  }
}

/** `INGESTION.INTERRUPTED` (conflict): Run … was taken as interrupted (no heartbeat for … s) before it could publish; nothing was published, trigger it again */
export class InterruptedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.INTERRUPTED', 'conflict', message, extra);
  }
}

/** `INGESTION.INVALID_IDEMPOTENCY_KEY` (invalid): idempotencyKey is at most 200 characters */
export class InvalidIdempotencyKeyError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.INVALID_IDEMPOTENCY_KEY', 'invalid', message, extra);
  }
}

/** `INGESTION.INVALID_PARTITION` (invalid): partition …: use 1 to 200 letters, digits and _ . = - / (no "..") */
export class InvalidPartitionError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.INVALID_PARTITION', 'invalid', message, extra);
  }
}

/** `INGESTION.INVALID_PATH` (invalid): A path is required */
export class InvalidPathError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.INVALID_PATH', 'invalid', message, extra);
  }
}

/** `INGESTION.INVALID_SCHEDULE` (unprocessable): a source's cron never fires, or fires more often than WEIR_MIN_SCHEDULE_INTERVAL_SECONDS (`reason`: never_fires, too_frequent) */
export class InvalidScheduleError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.INVALID_SCHEDULE', 'unprocessable', message, extra);
  }
}

/** `INGESTION.INVALID_SOURCE` (invalid): The source is invalid: … */
export class InvalidSourceError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.INVALID_SOURCE', 'invalid', message, extra);
  }
}

/** `INGESTION.NOTHING_TO_PUBLISH` (unprocessable): No record of … passed; a replace would empty the table, so nothing was published */
export class NothingToPublishError extends LoadFailedError {
  constructor(message: string, counts?: Partial<RowCounts>, quality?: QualityGateResult) {
    super('INGESTION.NOTHING_TO_PUBLISH', message, counts, quality);
  }
}

/** `INGESTION.NOT_A_DIRECTORY` (invalid): … is not a directory */
export class NotADirectoryError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.NOT_A_DIRECTORY', 'invalid', message, extra);
  }
}

/** `INGESTION.NOT_A_FILE` (invalid): … is …, not a file */
export class NotAFileError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.NOT_A_FILE', 'invalid', message, extra);
  }
}

/** `INGESTION.NO_INPUT` (invalid): Source "…" has no location.path; give "path" in the request */
export class NoInputError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.NO_INPUT', 'invalid', message, extra);
  }
}

/** `INGESTION.PARTITION_REQUIRED` (invalid): The path … holds {partition}: give the run a partition */
export class PartitionRequiredError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.PARTITION_REQUIRED', 'invalid', message, extra);
  }
}

/** `INGESTION.PATH_OUTSIDE_ROOT` (invalid): The path … is outside the ingest root (WEIR_INGEST_ROOT) */
export class PathOutsideRootError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.PATH_OUTSIDE_ROOT', 'invalid', message, extra);
  }
}

/** `INGESTION.RUN_NOT_FOUND` (not_found): No run with id … */
export class RunNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.RUN_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `INGESTION.SEPARATE_WAREHOUSE_UNSUPPORTED` (unsupported): Ingestion needs the warehouse in the control-plane database (WEIR_WAREHOUSE_URL unset or equal to DATABASE_URL) so that publishing stays one… */
export class SeparateWarehouseUnsupportedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.SEPARATE_WAREHOUSE_UNSUPPORTED', 'unsupported', message, extra);
  }
}

/** `INGESTION.SOURCE_EXISTS` (conflict): A source named "…" already exists */
export class SourceExistsError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.SOURCE_EXISTS', 'conflict', message, extra);
  }
}

/** `INGESTION.SOURCE_IN_USE` (conflict): Source "…" is in use: … (a run going, a pipeline step; listed as `dependents`) */
export class SourceInUseError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.SOURCE_IN_USE', 'conflict', message, extra);
  }
}

/** `INGESTION.SOURCE_NOT_FOUND` (not_found): No source … */
export class SourceNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.SOURCE_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `INGESTION.STRATEGY_NEEDS_CURSOR` (unprocessable): Strategy incremental needs a cursor column */
export class StrategyNeedsCursorError extends LoadFailedError {
  constructor(message: string, counts?: Partial<RowCounts>, quality?: QualityGateResult) {
    super('INGESTION.STRATEGY_NEEDS_CURSOR', message, counts, quality);
  }
}

/** `INGESTION.STRATEGY_NEEDS_KEY` (unprocessable): Strategy merge needs a primary key in the contract of dataset "…" */
export class StrategyNeedsKeyError extends LoadFailedError {
  constructor(message: string, counts?: Partial<RowCounts>, quality?: QualityGateResult) {
    super('INGESTION.STRATEGY_NEEDS_KEY', message, counts, quality);
  }
}

/** `INGESTION.TABLE_CONTRACT_MISMATCH` (unprocessable): … lacks contract columns … (a breaking contract change?); load once with strategy replace to rebuild it */
export class TableContractMismatchError extends LoadFailedError {
  constructor(message: string, counts?: Partial<RowCounts>, quality?: QualityGateResult) {
    super('INGESTION.TABLE_CONTRACT_MISMATCH', message, counts, quality);
  }
}

/** `INGESTION.TOO_MANY_REJECTED` (unprocessable): … of … records rejected (…%), above the source's maxRejectedRatio …; nothing was published */
export class TooManyRejectedError extends LoadFailedError {
  constructor(message: string, counts?: Partial<RowCounts>, quality?: QualityGateResult) {
    super('INGESTION.TOO_MANY_REJECTED', message, counts, quality);
  }
}

/** `INGESTION.UNKNOWN_FORMAT` (invalid): Cannot tell the format from …; pass format=csv|ndjson|json|parquet */
export class UnknownFormatError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.UNKNOWN_FORMAT', 'invalid', message, extra);
  }
}

/** `INGESTION.UNKNOWN_REASON` (invalid): reason must be one of … */
export class UnknownReasonError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.UNKNOWN_REASON', 'invalid', message, extra);
  }
}

/** `INGESTION.UNREADABLE_INPUT` (invalid): Cannot read … as …: … */
export class UnreadableInputError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.UNREADABLE_INPUT', 'invalid', message, extra);
  }
}

/** `INGESTION.UPLOAD_TOO_LARGE` (too_large): The upload exceeds WEIR_UPLOAD_MAX_BYTES (… bytes) */
export class UploadTooLargeError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.UPLOAD_TOO_LARGE', 'too_large', message, extra);
  }
}

/** `QUALITY.GATE_FAILED` (unprocessable): The quality gate failed, nothing was published: ……)` : ''} */
export class LoadGateFailedError extends LoadFailedError {
  constructor(message: string, counts?: Partial<RowCounts>, quality?: QualityGateResult) {
    super('QUALITY.GATE_FAILED', message, counts, quality);
  }
}

/** `INGESTION.LOAD_FAILED` (internal): recorded on a run that stopped on an unexpected error (its message says which). */
export class UnexpectedLoadError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.LOAD_FAILED', 'internal', message, extra);
  }
}

/** `INGESTION.UPLOAD_LOST` (unavailable): recorded on an upload run whose instance (and file) is gone; upload the file again. */
export class UploadLostError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.UPLOAD_LOST', 'unavailable', message, extra);
  }
}

/** `INGESTION.SOURCE_UNREACHABLE` (unavailable): Cannot connect to the source database …: … (its secrets are never shown) */
export class SourceUnreachableError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.SOURCE_UNREACHABLE', 'unavailable', message, extra);
  }
}

/** `INGESTION.SOURCE_QUERY_FAILED` (unprocessable): The source database refused the read: … (table or column missing, permission) */
export class SourceQueryFailedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.SOURCE_QUERY_FAILED', 'unprocessable', message, extra);
  }
}

/** `INGESTION.SOURCE_ACCESS_DENIED` (forbidden): The source refused the credentials: … (an object store's or an API's 401/403; the secret is never shown) */
export class SourceAccessDeniedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.SOURCE_ACCESS_DENIED', 'forbidden', message, extra);
  }
}

/** `INGESTION.OBJECT_CHANGED` (conflict): The object changed since its run was queued (another ETag): its new version is queued by the next scheduled load */
export class ObjectChangedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.OBJECT_CHANGED', 'conflict', message, extra);
  }
}

/** `INGESTION.SOURCE_HTTP_FAILED` (unprocessable): The API answered an error (or no JSON) after its retries: … */
export class SourceHttpFailedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.SOURCE_HTTP_FAILED', 'unprocessable', message, extra);
  }
}

/** `INGESTION.REPLICA_IDENTITY` (unprocessable): a CDC source table whose changes cannot be keyed: it needs a primary key (or REPLICA IDENTITY FULL) matching the dataset contract's primary key */
export class ReplicaIdentityError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.REPLICA_IDENTITY', 'unprocessable', message, extra);
  }
}

/** `INGESTION.CDC_SOURCE_UNSUITABLE` (unprocessable): the source database cannot be replicated from (unreachable, wal_level not logical, no such table, no replication privilege) */
export class CdcSourceUnsuitableError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.CDC_SOURCE_UNSUITABLE', 'unprocessable', message, extra);
  }
}

/** `INGESTION.CDC_SCHEMA_DRIFT` (unprocessable): the source table changed (a new column, a type change) and the drift policy freeze refuses it: the stream is failed */
export class CdcSchemaDriftError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.CDC_SCHEMA_DRIFT', 'unprocessable', message, extra);
  }
}

/** `INGESTION.CDC_TRUNCATE_REFUSED` (unprocessable): the source table was truncated and the source's truncate setting is refuse: the stream is failed before that transaction */
export class CdcTruncateRefusedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.CDC_TRUNCATE_REFUSED', 'unprocessable', message, extra);
  }
}

/** `INGESTION.CDC_SLOT_TOO_LARGE` (unprocessable): a paused or failed CDC source retained more WAL than its maxSlotBytes: its slot was dropped and the stream failed */
export class CdcSlotTooLargeError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.CDC_SLOT_TOO_LARGE', 'unprocessable', message, extra);
  }
}

/** `INGESTION.NOT_CDC_SOURCE` (invalid): the source is not a postgres_cdc source (it has no stream) */
export class NotCdcSourceError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.NOT_CDC_SOURCE', 'invalid', message, extra);
  }
}

/** `INGESTION.CDC_SNAPSHOT_FAILED` (unprocessable): the initial snapshot of a CDC source could not be loaded (a row breaks the contract, or the slot is gone): the stream is failed, nothing of it is kept */
export class CdcSnapshotFailedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.CDC_SNAPSHOT_FAILED', 'unprocessable', message, extra);
  }
}

/** `INGESTION.TAP_FAILED` (unprocessable): The tap exited with code …: … (the tail of its stderr, secrets masked); nothing was published */
export class TapFailedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.TAP_FAILED', 'unprocessable', message, extra);
  }
}

/** `INGESTION.TAP_SCHEMA_MISMATCH` (unprocessable): The tap's SCHEMA of stream … lacks the required contract columns … */
export class TapSchemaMismatchError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.TAP_SCHEMA_MISMATCH', 'unprocessable', message, extra);
  }
}

/** `INGESTION.TAP_NOT_ALLOWED` (forbidden): The tap's command or files must be inside WEIR_TAP_ROOT (…) */
export class TapNotAllowedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.TAP_NOT_ALLOWED', 'forbidden', message, extra);
  }
}

/** `INGESTION.STREAM_NOT_FOUND` (not_found): Source … is not a stream source (nats_jetstream) */
export class StreamNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('INGESTION.STREAM_NOT_FOUND', 'not_found', message, extra);
  }
}
