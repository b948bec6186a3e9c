import { DomainError } from '@weir/platform';

/**
 * Every error the modeling slice raises on purpose: one class per stable code. The kind, not the class,
 * decides the HTTP status (in the problem filter); the message becomes problem+json `detail`.
 */

/** `MODELING.ARCHIVE_TOO_LARGE` (too_large): The project archive exceeds WEIR_PROJECT_ARCHIVE_MAX_BYTES (… bytes) */
export class ArchiveTooLargeError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.ARCHIVE_TOO_LARGE', 'too_large', message, extra);
  }
}

/** `MODELING.ARCHIVE_EXTRACTS_TOO_LARGE` (too_large): The project archive inflates or extracts to more than WEIR_PROJECT_ARCHIVE_MAX_EXTRACTED_BYTES (… bytes) */
export class ArchiveExtractsTooLargeError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.ARCHIVE_EXTRACTS_TOO_LARGE', 'too_large', message, extra);
  }
}

/** `MODELING.ARCHIVE_TOO_MANY_FILES` (unprocessable): The project archive holds more than WEIR_PROJECT_ARCHIVE_MAX_FILES (…) files and directories */
export class ArchiveTooManyFilesError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.ARCHIVE_TOO_MANY_FILES', 'unprocessable', message, extra);
  }
}

/** `MODELING.BAD_ARCHIVE` (invalid) */
export class BadArchiveError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.BAD_ARCHIVE', 'invalid', message, extra);
  }
}

/** `MODELING.BAD_CONFIG` (unprocessable): …: quote_columns must be true or false */
export class BadConfigError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.BAD_CONFIG', 'unprocessable', message, extra);
  }
}

/** `MODELING.BAD_SELECTOR` (invalid): (e as Error).message */
export class BadSelectorError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.BAD_SELECTOR', 'invalid', message, extra);
  }
}

/** `MODELING.BREAKING_CHANGE` (conflict): …: breaking change to … v… (…); downstream: …. Declare version: … to publish it as a new version (v… stays readable as …_v…) */
export class BreakingChangeError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.BREAKING_CHANGE', 'conflict', message, extra);
  }
}

/** `MODELING.BUILD_NOT_FOUND` (not_found): No build … */
export class BuildNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.BUILD_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `MODELING.COMPILE_FAILED` (invalid) */
export class CompileFailedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.COMPILE_FAILED', 'invalid', message, extra);
  }
}

/** `MODELING.CONTRACT_VIOLATED` (unprocessable): …: the enforced contract does not match the built columns: … */
export class ContractViolatedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.CONTRACT_VIOLATED', 'unprocessable', message, extra);
  }
}

/** `MODELING.DEPENDENT_OBJECTS` (conflict): … has dependent views; build them in the same selection (…+) */
export class DependentObjectsError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.DEPENDENT_OBJECTS', 'conflict', message, extra);
  }
}

/** `MODELING.INTERRUPTED` (conflict): build … was taken as interrupted; … not started */
export class InterruptedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.INTERRUPTED', 'conflict', message, extra);
  }
}

/** `MODELING.MODEL_NOT_FOUND` (not_found): No model ……` : ''} */
export class ModelNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.MODEL_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `MODELING.MODEL_SQL_FAILED` (unprocessable): …: … */
export class ModelSqlFailedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.MODEL_SQL_FAILED', 'unprocessable', message, extra);
  }
}

/** `MODELING.NOT_A_SNAPSHOT_TABLE` (conflict): …: … exists as a ……` : ''}, not a snapshot table; nothing was written. Drop or rename it to start the snapshot */
export class NotASnapshotTableError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.NOT_A_SNAPSHOT_TABLE', 'conflict', message, extra);
  }
}

/** `MODELING.PATH_OUTSIDE_ROOT` (invalid): The project path … is outside WEIR_PROJECTS_ROOT */
export class PathOutsideRootError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.PATH_OUTSIDE_ROOT', 'invalid', message, extra);
  }
}

/** `MODELING.PROJECT_IN_USE` (conflict): Project "…" is in use: … (a build running, pipeline steps; listed as `dependents`) */
export class ProjectInUseError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.PROJECT_IN_USE', 'conflict', message, extra);
  }
}

/** `MODELING.PROJECT_NOT_FOUND` (not_found): No dbt_project.yml in … */
export class ProjectNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.PROJECT_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `MODELING.SCHEMA_CHANGED` (unprocessable): …: the columns changed (added …; removed …) and on_schema_change is fail */
export class SchemaChangedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.SCHEMA_CHANGED', 'unprocessable', message, extra);
  }
}

/** `MODELING.SEED_FAILED` (unprocessable): r.reason === 'no_header' ? `…: …` : `seed …: …` */
export class SeedFailedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.SEED_FAILED', 'unprocessable', message, extra);
  }
}

/** `MODELING.UNSUPPORTED_TEST` (invalid): problems.join('; ') */
export class UnsupportedTestError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.UNSUPPORTED_TEST', 'invalid', message, extra);
  }
}

/** `MODELING.VERSION_REGRESSION` (unprocessable): …: version … is below the published version … */
export class VersionRegressionError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.VERSION_REGRESSION', 'unprocessable', message, extra);
  }
}

/** `MODELING.ARTIFACT_NOT_FOUND` (not_found): the build has no such dbt artifact (not a dbt build, or not written by its command). */
export class ArtifactNotFoundError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.ARTIFACT_NOT_FOUND', 'not_found', message, extra);
  }
}

/** `MODELING.TEST_FAILED` (unprocessable): recorded on the step of a dbt data test that failed (its failures under refs.dbt). */
export class TestFailedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.TEST_FAILED', 'unprocessable', message, extra);
  }
}

/** `MODELING.STEP_FAILED` (internal): recorded on a build step that stopped on an unexpected error. */
export class StepFailedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.STEP_FAILED', 'internal', message, extra);
  }
}

/** `MODELING.BUILD_FAILED` (internal): recorded on a build that stopped on an unexpected error, or whose process died. */
export class BuildFailedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('MODELING.BUILD_FAILED', 'internal', message, extra);
  }
}
