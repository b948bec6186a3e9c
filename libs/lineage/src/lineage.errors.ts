import { DomainError } from '@weir/platform';

/**
 * Every error the lineage slice raises on purpose: one class per stable code. The kind, not the class,
 * decides the HTTP status (in the problem filter); the message becomes problem+json `detail`.
 */

/** `LINEAGE.BAD_BATCH` (invalid): A batch is a JSON array of OpenLineage events, or an object { "events": [...] } */
export class BadBatchError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('LINEAGE.BAD_BATCH', 'invalid', message, extra);
  }
}

/** `LINEAGE.BAD_DEPTH` (invalid): depth must be an integer from 0 to … */
export class BadDepthError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('LINEAGE.BAD_DEPTH', 'invalid', message, extra);
  }
}

/** `LINEAGE.BAD_NODE_ID` (invalid): nodeId must be dataset:<namespace>:<name>, job:<namespace>:<name> or datasetField:<namespace>:<name>:<field> */
export class BadNodeIdError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('LINEAGE.BAD_NODE_ID', 'invalid', message, extra);
  }
}

/** `LINEAGE.BAD_SCHEMAS` (invalid): … is not valid JSON: … */
export class BadSchemasError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('LINEAGE.BAD_SCHEMAS', 'invalid', message, extra);
  }
}

/** `LINEAGE.BATCH_TOO_LARGE` (invalid): A batch holds at most … events (got …) */
export class BatchTooLargeError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('LINEAGE.BATCH_TOO_LARGE', 'invalid', message, extra);
  }
}

/** `LINEAGE.COLUMN_NOT_FOUND` (not_found): The lineage graph knows no column … on … */
export class ColumnNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('LINEAGE.COLUMN_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `LINEAGE.DATASET_NOT_FOUND` (not_found): No dataset … in namespace … */
export class DatasetNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('LINEAGE.DATASET_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `LINEAGE.EMPTY_BATCH` (invalid): The batch holds no events */
export class EmptyBatchError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('LINEAGE.EMPTY_BATCH', 'invalid', message, extra);
  }
}

/** `LINEAGE.FILE_NOT_READABLE` (invalid): Cannot read the … …: … */
export class FileNotReadableError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('LINEAGE.FILE_NOT_READABLE', 'invalid', message, extra);
  }
}

/** `LINEAGE.GRAPH_TOO_LARGE` (unprocessable) */
export class RenderTooLargeError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('LINEAGE.GRAPH_TOO_LARGE', 'unprocessable', message, extra);
  }
}

/** `LINEAGE.INVALID_EVENT` (invalid): The event is not a valid OpenLineage … (spec 2-0-2): … …` : 'invalid'}… more)` : ''} */
export class InvalidEventError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('LINEAGE.INVALID_EVENT', 'invalid', message, extra);
  }
}

/** `LINEAGE.JOB_NOT_FOUND` (not_found): No job … in namespace … */
export class JobNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('LINEAGE.JOB_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `LINEAGE.NAMESPACE_NOT_FOUND` (not_found): No namespace … */
export class NamespaceNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('LINEAGE.NAMESPACE_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `LINEAGE.NODE_NOT_FOUND` (not_found): No node … in the lineage graph */
export class NodeNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('LINEAGE.NODE_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `LINEAGE.RUN_NOT_FOUND` (not_found): No run … in the lineage graph */
export class RunNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('LINEAGE.RUN_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `LINEAGE.SQL_PARSE_ERROR` (invalid): The SQL does not parse (PostgreSQL grammar): ……` : ''} */
export class SqlParseErrorError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('LINEAGE.SQL_PARSE_ERROR', 'invalid', message, extra);
  }
}

/** `LINEAGE.UNSTORABLE_EVENT` (invalid): The event is valid OpenLineage but cannot be stored: … */
export class UnstorableEventError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('LINEAGE.UNSTORABLE_EVENT', 'invalid', message, extra);
  }
}
