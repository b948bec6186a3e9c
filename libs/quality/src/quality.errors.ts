import { DomainError } from '@weir/platform';

/**
 * Every error the quality slice raises on purpose: one class per stable code. The kind, not the class,
 * decides the HTTP status (in the problem filter); the message becomes problem+json `detail`.
 */

/** `QUALITY.GATE_FAILED` (unprocessable): audit failed, the old version stays live: … */
export class GateFailedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('QUALITY.GATE_FAILED', 'unprocessable', message, extra);
  }
}

/** `QUALITY.INVALID_ROW_CONDITION` (unprocessable): The suite is invalid: … */
export class InvalidRowConditionError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('QUALITY.INVALID_ROW_CONDITION', 'unprocessable', message, extra);
  }
}

/** `QUALITY.INVALID_SUITE` (invalid): expectations must be a list */
export class InvalidSuiteError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('QUALITY.INVALID_SUITE', 'invalid', message, extra);
  }
}

/** `QUALITY.NOTHING_TO_RUN` (invalid): Name a suite or a dataset */
export class NothingToRunError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('QUALITY.NOTHING_TO_RUN', 'invalid', message, extra);
  }
}

/** `QUALITY.NO_SUITES` (not_found): Dataset … has no quality suite */
export class NoSuitesError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('QUALITY.NO_SUITES', 'not_found', message, extra);
  }
}

/** `QUALITY.RUN_NOT_FOUND` (not_found): No quality run with id … */
export class RunNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('QUALITY.RUN_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `QUALITY.SUITE_EXISTS` (conflict): A suite named "…" already exists */
export class SuiteExistsError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('QUALITY.SUITE_EXISTS', 'conflict', message, extra);
  }
}

/** `QUALITY.SUITE_IN_USE` (conflict): Suite "…" is in use: … (pipeline steps that run it; listed as `dependents`) */
export class SuiteInUseError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('QUALITY.SUITE_IN_USE', 'conflict', message, extra);
  }
}

/** `QUALITY.SUITE_NOT_FOUND` (not_found): No suite … */
export class SuiteNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('QUALITY.SUITE_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `QUALITY.TABLE_NOT_FOUND` (not_found): The table ….… does not exist (load the dataset first) */
export class TableNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('QUALITY.TABLE_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `QUALITY.UNKNOWN_EXPECTATION_TYPE` (invalid): Unknown expectation type… …; supported: … (GET /api/quality/expectation-types lists their kwargs) */
export class UnknownExpectationTypeError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('QUALITY.UNKNOWN_EXPECTATION_TYPE', 'invalid', message, extra);
  }
}

/** `QUALITY.RUN_FAILED` (internal): recorded when a suite could not be run at all (its message says why). */
export class QualityRunFailedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('QUALITY.RUN_FAILED', 'internal', message, extra);
  }
}
