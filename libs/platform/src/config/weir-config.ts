import * as path from 'node:path';

/** The roles a Weir process can play; one process may play several. */
export const WEIR_ROLES = ['api', 'scheduler', 'worker'] as const;
export type WeirRole = (typeof WEIR_ROLES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Typed, validated process configuration. Built once at boot by {@link loadConfig}. */
export interface WeirConfig {
  /** Control-plane database; undefined means "start the embedded PostgreSQL". */
  databaseUrl?: string;
  /** Data-plane database; defaults to the control-plane database. */
  warehouseUrl?: string;
  port: number;
  host: string;
  dataDir: string;
  adminApiKey?: string;
  roles: ReadonlySet<WeirRole>;
  logLevel: LogLevel;
  migrate: 'auto' | 'off';
  /** Port of the embedded PostgreSQL (PORT_REGISTRY: embedded-postgres). */
  embeddedPgPort: number;
  /** Days dispatched outbox rows are kept (WEIR_OUTBOX_RETENTION_DAYS, default 7; 0 keeps them). */
  outboxRetentionDays: number;
  /** Days audit log rows are kept (WEIR_AUDIT_RETENTION_DAYS, default 365; 0 keeps them). */
  auditRetentionDays: number;
  /** A running run or build without a heartbeat for this long is taken as interrupted (WEIR_RUN_STALE_SECONDS, default 60). */
  runStaleMs: number;
  /**
   * How long an idle HTTP keep-alive connection is kept open (WEIR_HTTP_KEEPALIVE_SECONDS, default
   * 65: above the 60 s idle timeout of common load balancers, and far above Node's 5 s, which a
   * client whose event loop is busy for a few seconds can race into a reset connection).
   */
  httpKeepAliveMs: number;
  /** statement_timeout of a quality check's statements, custom SQL included (WEIR_CHECK_TIMEOUT_SECONDS, default 600). */
  checkTimeoutMs: number;
  /** Longest one model template may render (WEIR_TEMPLATE_MAX_MS, default 5000). */
  templateMaxMs: number;
  /** Longest a whole project compile may take before its worker is stopped (WEIR_COMPILE_MAX_MS, default 120000). */
  compileMaxMs: number;
  /** Heap bound of the compile worker (WEIR_COMPILE_MAX_MB, default 1024). */
  compileMaxMb: number;
  /**
   * Largest JSON request body, bytes (WEIR_BODY_MAX_BYTES, default 1 MiB); larger ones are refused
   * with 413 `PLATFORM.PAYLOAD_TOO_LARGE`. Uploads and OpenLineage events have their own limits.
   */
  bodyMaxBytes: number;
  /**
   * statement_timeout of every warehouse statement made on behalf of an HTTP request: previews,
   * counts, dead letters, suite runs and exports asked for over HTTP (WEIR_REQUEST_STATEMENT_TIMEOUT_MS,
   * default 30000). Past it the statement is cancelled and the answer is 503 `PLATFORM.STATEMENT_TIMEOUT`.
   */
  requestStatementTimeoutMs: number;
  /**
   * The shortest time between two fire times a schedule (a pipeline's, a source's) may have when it
   * is defined or changed (WEIR_MIN_SCHEDULE_INTERVAL_SECONDS, default 60).
   */
  minScheduleIntervalMs: number;
  /** The variables this configuration was read from: each slice's `<slice>.config.ts` reads its own from here. */
  env: Readonly<Env>;
}

/** Thrown when an environment variable has a bad value; the message names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`Invalid configuration: ${variable} ${reason}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function nonEmpty(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function parsePort(env: Env, name: string, fallback: number): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) {
    throw new ConfigError(name, `must be a TCP port between 1 and 65535 (got "${raw}")`);
  }
  return Number(raw);
}

function parsePostgresUrl(env: Env, name: string): string | undefined {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, 'must be a postgres:// URL (could not parse it)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(name, `must be a postgres:// URL (got protocol "${url.protocol}")`);
  }
  return raw;
}

/** A whole number of days, 0 or more (0: keep forever). */
export function parseRetentionDays(env: Env, name: string, fallback: number): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > 36500)
    throw new ConfigError(name, `must be a whole number of days, 0 to keep forever (got "${raw}")`);
  return Number(raw);
}

function parseSeconds(env: Env, name: string, fallback: number): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number of seconds (got "${raw}")`);
  return Number(raw);
}

/** A whole number of `unit`, at least 1. */
export function parsePositive(env: Env, name: string, fallback: number, unit: string): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw new ConfigError(name, `must be a whole number of ${unit}, at least 1 (got "${raw}")`);
  return Number(raw);
}

/** A whole number of `unit`, from 1 to `max`. */
function parseBounded(env: Env, name: string, fallback: number, unit: string, max: number): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max)
    throw new ConfigError(name, `must be a whole number of ${unit}, from 1 to ${max} (got "${raw}")`);
  return Number(raw);
}

function parseEnum<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  const v = raw.toLowerCase() as T;
  if (!allowed.includes(v)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got "${raw}")`);
  }
  return v;
}

/**
 * Reads and validates the environment. Throws {@link ConfigError} naming the first bad variable.
 * Pure: takes the env as an argument so it can be tested without touching `process.env`.
 */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): WeirConfig {
  const rolesRaw = nonEmpty(env, 'WEIR_ROLES') ?? 'api,scheduler,worker';
  const roles = rolesRaw
    .split(',')
    .map((r) => r.trim().toLowerCase())
    .filter((r) => r !== '');
  for (const r of roles) {
    if (!(WEIR_ROLES as readonly string[]).includes(r)) {
      throw new ConfigError(
        'WEIR_ROLES',
        `must be a comma-separated list of ${WEIR_ROLES.join(', ')} (unknown role "${r}")`,
      );
    }
  }
  if (roles.length === 0) throw new ConfigError('WEIR_ROLES', 'must name at least one role');

  const adminApiKey = nonEmpty(env, 'WEIR_ADMIN_API_KEY');
  if (adminApiKey !== undefined && adminApiKey.length < 16) {
    throw new ConfigError('WEIR_ADMIN_API_KEY', 'must be at least 16 characters long');
  }

  return {
    databaseUrl: parsePostgresUrl(env, 'DATABASE_URL'),
    warehouseUrl: parsePostgresUrl(env, 'WEIR_WAREHOUSE_URL'),
    port: parsePort(env, 'PORT', 3000),
    host: nonEmpty(env, 'HOST') ?? '0.0.0.0',
    dataDir: path.resolve(cwd, nonEmpty(env, 'WEIR_DATA_DIR') ?? '.weir'),
    adminApiKey,
    roles: new Set(roles as WeirRole[]),
    logLevel: parseEnum(env, 'WEIR_LOG_LEVEL', LOG_LEVELS, 'info'),
    migrate: parseEnum(env, 'WEIR_MIGRATE', ['auto', 'off'] as const, 'auto'),
    embeddedPgPort: parsePort(env, 'WEIR_PG_PORT', 5433),
    outboxRetentionDays: parseRetentionDays(env, 'WEIR_OUTBOX_RETENTION_DAYS', 7),
    auditRetentionDays: parseRetentionDays(env, 'WEIR_AUDIT_RETENTION_DAYS', 365),
    runStaleMs: parseSeconds(env, 'WEIR_RUN_STALE_SECONDS', 60) * 1000,
    httpKeepAliveMs: parseSeconds(env, 'WEIR_HTTP_KEEPALIVE_SECONDS', 65) * 1000,
    checkTimeoutMs: parsePositive(env, 'WEIR_CHECK_TIMEOUT_SECONDS', 600, 'seconds') * 1000,
    templateMaxMs: parsePositive(env, 'WEIR_TEMPLATE_MAX_MS', 5000, 'milliseconds'),
    compileMaxMs: parsePositive(env, 'WEIR_COMPILE_MAX_MS', 120_000, 'milliseconds'),
    compileMaxMb: parsePositive(env, 'WEIR_COMPILE_MAX_MB', 1024, 'MiB'),
    bodyMaxBytes: parseBounded(env, 'WEIR_BODY_MAX_BYTES', 1024 * 1024, 'bytes', 1024 ** 3),
    requestStatementTimeoutMs: parseBounded(
      env,
      'WEIR_REQUEST_STATEMENT_TIMEOUT_MS',
      30_000,
      'milliseconds',
      2_147_483_647, // PostgreSQL's largest statement_timeout
    ),
    minScheduleIntervalMs: parsePositive(env, 'WEIR_MIN_SCHEDULE_INTERVAL_SECONDS', 60, 'seconds') * 1000,
    env: Object.freeze({ ...env }),
  };
}

/** Like {@link loadConfig}, but a bad value ends the process with one clear line (exit code 78, EX_CONFIG). */
export function loadConfigOrExit(env: Env = process.env): WeirConfig {
  return configOrExit(() => loadConfig(env));
}

/** Reads settings (the kernel's or a slice's); a {@link ConfigError} ends the process with one clear line (exit code 78). */
export function configOrExit<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`weir: ${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
}

/**
 * An environment variable read when it is used: a secret a source names by reference
 * (`{"env": "SRC_PG_PASSWORD"}`: read at connect time, never stored, returned or logged) or a
 * client library's own variable (`AWS_REGION`). With the loaders above, the only readers of the
 * process environment.
 */
export function environmentVariable(name: string): string | undefined {
  return process.env[name];
}

/** The process environment as it is now (a tap's PATH, HOME and LANG are handed over from it). */
export function processEnvironment(): Readonly<Record<string, string | undefined>> {
  return process.env;
}
