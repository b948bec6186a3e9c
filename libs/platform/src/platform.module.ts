import { DynamicModule, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TerminusModule } from '@nestjs/terminus';
import { ScheduleModule } from '@nestjs/schedule';
import { LoggerModule } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { WEIR_CONFIG } from './config/config.tokens';
import type { WeirConfig } from './config/weir-config';
import { controlPlaneOptions } from './database/data-source';
import { Warehouse } from './warehouse/warehouse';
import { ApiKeyOrmEntity } from './auth/api-key.orm-entity';
import { PLATFORM_ENTITIES } from './platform.entities';
import { API_KEY_STORE, TypeOrmApiKeyStore } from './auth/api-key.store';
import { ApiKeysService } from './auth/api-keys.service';
import { ApiKeyGuard } from './auth/api-key.guard';
import { ApiKeysController } from './auth/http/api-keys.controller';
import { MetricsService } from './observability/metrics.service';
import { MetricsController } from './observability/metrics.controller';
import { HealthController } from './health/health.controller';
import { DatabaseProbe } from './health/database-probe';
import { LogDestination, loggerParams } from './observability/logging';
import { Outbox } from './outbox/outbox';
import { Retention } from './retention/retention';
import { PresenceLock } from './database/presence';
import { AuditLog } from './audit/audit-log';
import { AuditController } from './audit/http/audit.controller';

/** What the process resolved at boot and hands to the kernel. */
export interface PlatformModuleOptions {
  config: WeirConfig;
  /** Control-plane database URL (DATABASE_URL or the embedded server's). */
  databaseUrl: string;
  /** Data-plane database URL (WEIR_WAREHOUSE_URL, else the control-plane one). */
  warehouseUrl: string;
  /** Where the logs go instead of stdout (the tests: the run's log file, grepped for secrets). */
  logDestination?: LogDestination;
}

/**
 * The kernel every slice stands on: config, TypeORM on the control plane, the warehouse pool,
 * API keys (service, guard, `/api/platform/api-keys`), the audit log (`/api/platform/audit`), logging, `/health` and `/metrics`.
 * Global, imported once by the app with {@link PlatformModule.forRoot}.
 */
@Module({})
export class PlatformModule implements OnApplicationShutdown {
  constructor(@Inject(Warehouse) private readonly warehouse: Warehouse) {}

  static forRoot(opts: PlatformModuleOptions): DynamicModule {
    return {
      module: PlatformModule,
      global: true,
      imports: [
        LoggerModule.forRoot(loggerParams(opts.config.logLevel, opts.logDestination)),
        TypeOrmModule.forRoot({ ...controlPlaneOptions(opts.databaseUrl), autoLoadEntities: true }),
        TypeOrmModule.forFeature(PLATFORM_ENTITIES),
        TerminusModule.forRoot({ errorLogStyle: 'json' }),
        ScheduleModule.forRoot(),
      ],
      controllers: [HealthController, MetricsController, ApiKeysController, AuditController],
      providers: [
        { provide: WEIR_CONFIG, useValue: opts.config },
        { provide: 'WEIR_DATABASE_URL', useValue: opts.databaseUrl },
        PresenceLock,
        DatabaseProbe,
        {
          provide: Warehouse,
          useFactory: () =>
            new Warehouse(opts.warehouseUrl, { requestTimeoutMs: opts.config.requestStatementTimeoutMs }),
        },
        {
          provide: API_KEY_STORE,
          useFactory: (ds: DataSource) => new TypeOrmApiKeyStore(ds.getRepository(ApiKeyOrmEntity)),
          inject: [DataSource],
        },
        ApiKeysService,
        ApiKeyGuard,
        MetricsService,
        Retention,
        Outbox,
        AuditLog,
      ],
      exports: [
        WEIR_CONFIG,
        Warehouse,
        ApiKeysService,
        ApiKeyGuard,
        MetricsService,
        Outbox,
        Retention,
        PresenceLock,
        AuditLog,
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.warehouse.close();
  }
}
