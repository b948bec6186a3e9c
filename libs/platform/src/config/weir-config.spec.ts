import * as path from 'node:path';
import { ConfigError, loadConfig } from './weir-config';

describe('loadConfig', () => {
  it('gives sane defaults with an empty environment', () => {
    const c = loadConfig({}, '/srv/weir');
    expect(c.databaseUrl).toBeUndefined();
    expect(c.port).toBe(3000);
    expect(c.dataDir).toBe(path.resolve('/srv/weir/.weir'));
    expect([...c.roles]).toEqual(['api', 'scheduler', 'worker']);
    expect(c.logLevel).toBe('info');
    expect(c.migrate).toBe('auto');
    expect(c.embeddedPgPort).toBe(5433);
    expect([c.runStaleMs, c.outboxRetentionDays]).toEqual([60_000, 7]);
    expect(c.minScheduleIntervalMs).toBe(60_000);
    expect([c.httpKeepAliveMs, c.checkTimeoutMs, c.templateMaxMs, c.compileMaxMs, c.compileMaxMb]).toEqual([
      65_000, 600_000, 5000, 120_000, 1024,
    ]);
    expect([c.bodyMaxBytes, c.requestStatementTimeoutMs]).toEqual([1_048_576, 30_000]);
  });

  it('reads every variable', () => {
    const c = loadConfig(
      {
        DATABASE_URL: 'postgres://u:p@db:5432/weir',
        WEIR_WAREHOUSE_URL: 'postgresql://u@wh/dw',
        PORT: '8080',
        WEIR_DATA_DIR: '/var/lib/weir',
        WEIR_ADMIN_API_KEY: 'a-long-enough-admin-key',
        WEIR_ROLES: 'worker, scheduler',
        WEIR_LOG_LEVEL: 'DEBUG',
        WEIR_MIGRATE: 'off',
        WEIR_PG_PORT: '6543',
        WEIR_RUN_STALE_SECONDS: '0',
        WEIR_CHECK_TIMEOUT_SECONDS: '30',
        WEIR_TEMPLATE_MAX_MS: '2000',
        WEIR_COMPILE_MAX_MS: '60000',
        WEIR_COMPILE_MAX_MB: '512',
        WEIR_BODY_MAX_BYTES: '4096',
        WEIR_REQUEST_STATEMENT_TIMEOUT_MS: '250',
        WEIR_MIN_SCHEDULE_INTERVAL_SECONDS: '5',
      },
      '/x',
    );
    expect(c).toMatchObject({
      databaseUrl: 'postgres://u:p@db:5432/weir',
      warehouseUrl: 'postgresql://u@wh/dw',
      port: 8080,
      dataDir: '/var/lib/weir',
      logLevel: 'debug',
      migrate: 'off',
      embeddedPgPort: 6543,
      runStaleMs: 0,
    });
    expect([...c.roles].sort()).toEqual(['scheduler', 'worker']);
    expect([c.checkTimeoutMs, c.templateMaxMs, c.compileMaxMs, c.compileMaxMb]).toEqual([30_000, 2000, 60_000, 512]);
    expect([c.bodyMaxBytes, c.requestStatementTimeoutMs]).toEqual([4096, 250]);
    expect(c.minScheduleIntervalMs).toBe(5000);
  });

  it.each([
    ['PORT', 'abc', /PORT must be a TCP port/],
    [
      'WEIR_MIN_SCHEDULE_INTERVAL_SECONDS',
      '0',
      /WEIR_MIN_SCHEDULE_INTERVAL_SECONDS must be a whole number of seconds, at least 1/,
    ],
    ['WEIR_RUN_STALE_SECONDS', '1m', /WEIR_RUN_STALE_SECONDS must be a whole number of seconds/],
    ['PORT', '70000', /PORT must be a TCP port/],
    ['WEIR_PG_PORT', '-1', /WEIR_PG_PORT must be a TCP port/],
    ['DATABASE_URL', 'mysql://x/y', /DATABASE_URL must be a postgres:\/\/ URL/],
    ['DATABASE_URL', 'not a url', /DATABASE_URL must be a postgres:\/\/ URL/],
    ['WEIR_WAREHOUSE_URL', 'http://x', /WEIR_WAREHOUSE_URL must be a postgres:\/\/ URL/],
    ['WEIR_ROLES', 'api,web', /WEIR_ROLES .*unknown role "web"/],
    ['WEIR_ROLES', ' , ', /WEIR_ROLES must name at least one role/],
    ['WEIR_LOG_LEVEL', 'loud', /WEIR_LOG_LEVEL must be one of/],
    ['WEIR_MIGRATE', 'yes', /WEIR_MIGRATE must be one of auto, off/],
    ['WEIR_ADMIN_API_KEY', 'short', /WEIR_ADMIN_API_KEY must be at least 16/],
    ['WEIR_CHECK_TIMEOUT_SECONDS', '0', /WEIR_CHECK_TIMEOUT_SECONDS must be a whole number of seconds, at least 1/],
    ['WEIR_TEMPLATE_MAX_MS', '5s', /WEIR_TEMPLATE_MAX_MS must be a whole number of milliseconds/],
    ['WEIR_COMPILE_MAX_MS', '-1', /WEIR_COMPILE_MAX_MS must be a whole number of milliseconds/],
    ['WEIR_COMPILE_MAX_MB', 'lots', /WEIR_COMPILE_MAX_MB must be a whole number of MiB/],
    ['WEIR_BODY_MAX_BYTES', '1mb', /WEIR_BODY_MAX_BYTES must be a whole number of bytes, from 1 to 1073741824/],
    ['WEIR_BODY_MAX_BYTES', '0', /WEIR_BODY_MAX_BYTES must be a whole number of bytes, from 1/],
    [
      'WEIR_REQUEST_STATEMENT_TIMEOUT_MS',
      '0',
      /WEIR_REQUEST_STATEMENT_TIMEOUT_MS must be a whole number of milliseconds/,
    ],
    ['WEIR_REQUEST_STATEMENT_TIMEOUT_MS', '30s', /WEIR_REQUEST_STATEMENT_TIMEOUT_MS must be a whole number/],
    ['WEIR_REQUEST_STATEMENT_TIMEOUT_MS', '2147483648', /from 1 to 2147483647/],
  ])('rejects %s=%s with one line naming the variable', (name, value, message) => {
    let err: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(name);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });
});
