/**
 * @weir/platform: the kernel. This barrel is its only public surface.
 */
export { PlatformModule } from './platform.module';
export type { PlatformModuleOptions } from './platform.module';

export {
  loadConfig,
  loadConfigOrExit,
  configOrExit,
  ConfigError,
  parsePositive,
  parseRetentionDays,
  environmentVariable,
  processEnvironment,
} from './config/weir-config';
export type { WeirConfig, WeirRole, LogLevel } from './config/weir-config';
export { WEIR_CONFIG } from './config/config.tokens';

export { DomainError } from './errors/domain-error';
export type { ErrorKind } from './errors/domain-error';
export {
  ForbiddenError,
  MalformedBodyError,
  PayloadTooLargeError,
  StatementTimeoutError,
  UnsupportedMediaTypeError,
} from './errors/platform.errors';
export { ProblemDetailsFilter } from './errors/problem.filter';
export { PROBLEM_CONTENT_TYPE, KIND_STATUS } from './errors/problem';
export type { ProblemDetails } from './errors/problem';
export { ProblemResponseDto } from './errors/problem.dto';
export { describeDependents, DependentDto, InUseProblemDto } from './errors/dependents';
export type { Dependent } from './errors/dependents';
export { VALIDATION_OPTIONS, validateAs, Optional } from './errors/validation';

export { controlPlaneOptions, runMigrations, revertLastMigration, MIGRATIONS_TABLE } from './database/data-source';
export type { MigrationReport } from './database/data-source';
export { PresenceLock, PRESENCE_LOCK_SQL, presenceHolders, instanceAliveSql } from './database/presence';
export type { PresenceHolder } from './database/presence';
export { startEmbeddedPostgres, freePort } from './database/embedded-postgres';
export type { EmbeddedPostgresHandle, EmbeddedPostgresOptions } from './database/embedded-postgres';
export { resolveDatabase } from './database/database-startup';
export type { ResolvedDatabase } from './database/database-startup';
export { workspaceRoot } from './database/workspace-root';
export { cronGapBelow, describeInterval } from './lifecycle/cron-interval';

export { multipartFile } from './http/multipart.parser';
export type { MultipartFile } from './http/multipart.parser';
export { Warehouse, copyTextValue } from './warehouse/warehouse';
export type { TableRef, CopyOptions, WarehouseLease } from './warehouse/warehouse';
export {
  REQUEST_TIMEOUT_SETTING,
  statementTimeoutSql,
  tighterTimeout,
  isStatementTimeout,
  asStatementTimeout,
} from './warehouse/statement-timeout';
export { validateIdentifier, quoteIdent, qualifiedTable, parseQualifiedName } from './warehouse/identifiers';
export type { IdentifierKind } from './warehouse/identifiers';
export { assertDataPlane, prepareReader } from './warehouse/control-plane';
export {
  WRITER_ROLE,
  readAsReader,
  writeAsWriter,
  inlineParameters,
  prepareWriter,
  enterWriter,
  leaveWriter,
  grantLoadTarget,
} from './warehouse/restricted-sql';

export { ApiKeysService, hashApiKey } from './auth/api-keys.service';
export type { ApiKeyView, CreatedApiKey } from './auth/api-keys.service';
export { parseKeyDuration, resolveKeyExpiry } from './auth/key-durations';
export { authConfig } from './auth/auth.config';
export { ApiKeyGuard, extractApiKey } from './auth/api-key.guard';
export { CurrentPrincipal } from './auth/auth.decorators';
export { API_KEY_ROLES, accessDenied, seesPii } from './auth/roles';
export type { ApiKeyRole, Principal } from './auth/roles';

export { MetricsService } from './observability/metrics.service';
export { redactUrl, requestId } from './observability/logging';

export { Outbox } from './outbox/outbox';
export { Retention, deleteOldest } from './retention/retention';
export { AuditLog, recordAudit, outcomeOf } from './audit/audit-log';
export type { AuditEntry, AuditRecord, AuditQuery, AuditOutcome } from './audit/audit-log';
export { redactForAudit } from './audit/redact';
export { periodic, HEARTBEAT_MS, liveStaleMs } from './lifecycle/periodic';
export type { PeriodicTask } from './lifecycle/periodic';
export type { RetentionPolicy } from './retention/retention';
export type { Queryable, OutboxMessage, OutboxHandler } from './outbox/outbox';
export { RUN_EVENTS_TOPIC } from './outbox/run-events';
export type { RunStateEvent, RunDatasetRef, RunColumnMapping, RunQuality } from './outbox/run-events';
export { isUuid, rowsOf } from './database/rows';
export { installSafetyNet } from './lifecycle/safety-net';
export { inputGuard } from './http/input.guard';
