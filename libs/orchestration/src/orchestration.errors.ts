import { DomainError } from '@weir/platform';

/**
 * Every error the orchestration slice raises on purpose: one class per stable code. The kind, not the
 * class, decides the HTTP status (in the problem filter); the message becomes problem+json `detail`.
 */

/** `ORCHESTRATION.INVALID_PIPELINE` (invalid): every problem of the definition, each with its path (also in `problems`) */
export class InvalidPipelineError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('ORCHESTRATION.INVALID_PIPELINE', 'invalid', message, extra);
  }
}

/** `ORCHESTRATION.INVALID_SCHEDULE` (unprocessable): the schedule never fires, or fires more often than WEIR_MIN_SCHEDULE_INTERVAL_SECONDS (`reason`: never_fires, too_frequent) */
export class InvalidScheduleError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('ORCHESTRATION.INVALID_SCHEDULE', 'unprocessable', message, extra);
  }
}

/** `ORCHESTRATION.PIPELINE_NOT_FOUND` (not_found): No pipeline … */
export class PipelineNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('ORCHESTRATION.PIPELINE_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `ORCHESTRATION.PIPELINE_EXISTS` (conflict): A pipeline named … already exists */
export class PipelineExistsError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('ORCHESTRATION.PIPELINE_EXISTS', 'conflict', message, extra);
  }
}

/** `ORCHESTRATION.PIPELINE_IN_USE` (conflict): Pipeline "…" is in use: … (runs not finished, other pipelines' steps; listed as `dependents`) */
export class PipelineInUseError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('ORCHESTRATION.PIPELINE_IN_USE', 'conflict', message, extra);
  }
}

/** `ORCHESTRATION.PIPELINE_MANAGED` (conflict): the pipeline is kept by another slice (a source's schedule); change it there */
export class PipelineManagedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('ORCHESTRATION.PIPELINE_MANAGED', 'conflict', message, extra);
  }
}

/** `ORCHESTRATION.RUN_NOT_FOUND` (not_found): No pipeline run … */
export class PipelineRunNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('ORCHESTRATION.RUN_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `ORCHESTRATION.INVALID_RUN_REQUEST` (invalid): a bad partition, idempotency key or parameters */
export class InvalidRunRequestError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('ORCHESTRATION.INVALID_RUN_REQUEST', 'invalid', message, extra);
  }
}

/** `ORCHESTRATION.STEP_FAILED` (unprocessable): a step's own failure, as recorded on the step run */
export class StepFailedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('ORCHESTRATION.STEP_FAILED', 'unprocessable', message, extra);
  }
}

/** `ORCHESTRATION.STEP_TIMEOUT` (unavailable): the step ran past its timeout */
export class StepTimeoutError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('ORCHESTRATION.STEP_TIMEOUT', 'unavailable', message, extra);
  }
}

/** `ORCHESTRATION.STEP_UNSUPPORTED` (unsupported): a step kind this version cannot run yet */
export class StepUnsupportedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('ORCHESTRATION.STEP_UNSUPPORTED', 'unsupported', message, extra);
  }
}

/** `ORCHESTRATION.WAIT_TIMED_OUT` (unavailable): a wait_for step gave up after its `wait` */
export class WaitTimedOutError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('ORCHESTRATION.WAIT_TIMED_OUT', 'unavailable', message, extra);
  }
}

/** `ORCHESTRATION.WAIT_TARGET_NOT_FOUND` (not_found): the pipeline or dataset a wait_for step waits for does not exist */
export class WaitTargetNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('ORCHESTRATION.WAIT_TARGET_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `ORCHESTRATION.SUB_PIPELINE_REFUSED` (unprocessable): a pipeline step that would run a pipeline of its own chain again, or nest too deep */
export class SubPipelineRefusedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('ORCHESTRATION.SUB_PIPELINE_REFUSED', 'unprocessable', message, extra);
  }
}

/** `ORCHESTRATION.INVALID_POOL` (invalid): a bad pool name, slots or description */
export class InvalidPoolError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('ORCHESTRATION.INVALID_POOL', 'invalid', message, extra);
  }
}

/** `ORCHESTRATION.POOL_NOT_FOUND` (not_found): No pool … defined */
export class PoolNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('ORCHESTRATION.POOL_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `ORCHESTRATION.INVALID_ALERT_DESTINATION` (invalid): every problem of the destination (also in `problems`) */
export class InvalidAlertDestinationError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('ORCHESTRATION.INVALID_ALERT_DESTINATION', 'invalid', message, extra);
  }
}

/** `ORCHESTRATION.ALERT_DESTINATION_NOT_FOUND` (not_found): No alert destination … */
export class AlertDestinationNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('ORCHESTRATION.ALERT_DESTINATION_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `ORCHESTRATION.ALERT_DESTINATION_EXISTS` (conflict): An alert destination named … already exists */
export class AlertDestinationExistsError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('ORCHESTRATION.ALERT_DESTINATION_EXISTS', 'conflict', message, extra);
  }
}

/** `ORCHESTRATION.ALERT_DESTINATION_IN_USE` (conflict): pipelines name the destination in their `alerts` */
export class AlertDestinationInUseError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('ORCHESTRATION.ALERT_DESTINATION_IN_USE', 'conflict', message, extra);
  }
}
