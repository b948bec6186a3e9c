import { Module } from '@nestjs/common';
import { WEIR_CONFIG, WeirConfig } from '@weir/platform';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CatalogModule } from '@weir/catalog';
import { QualityRunsService } from './application/quality-runs.service';
import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { SUITE_STORE } from './application/ports/suite-store.port';
import { QUALITY_RUN_STORE } from './application/ports/quality-run-store.port';
import { TypeOrmQualityRunStore } from './infrastructure/quality-run.store';
import { TypeOrmSuiteStore } from './infrastructure/suite.store';
import { SuiteOrmEntity } from './infrastructure/suite.orm-entity';
import { QUALITY_CONFIG, qualityConfig } from './quality.config';
import { QUALITY_RUNS } from './application/ports/quality-runs.port';
import { QUALITY_GATE, QUALITY_SUITES } from './application/quality-gate.port';
import { QualityService } from './application/quality.service';
import { QUALITY_ENTITIES } from './quality.entities';
import { QualityController } from './http/quality.controller';
import { QUALITY_EVENTS, QualityEvents } from './application/quality-events';
import { WebhookNotifier } from './application/webhook-notifier';

/** The quality slice: GX-compatible suites, runs with evidence, metric history, and the QUALITY_GATE port. */
@Module({
  imports: [TypeOrmModule.forFeature(QUALITY_ENTITIES), CatalogModule],
  controllers: [QualityController],
  providers: [
    QualityService,
    { provide: QUALITY_GATE, useExisting: QualityService },
    { provide: QUALITY_SUITES, useExisting: QualityService },
    { provide: QUALITY_EVENTS, useFactory: () => new QualityEvents() },
    WebhookNotifier,
    { provide: QUALITY_CONFIG, useFactory: (c: WeirConfig) => qualityConfig(c.env), inject: [WEIR_CONFIG] },
    QualityRunsService,
    {
      provide: SUITE_STORE,
      useFactory: (ds: DataSource) => new TypeOrmSuiteStore(ds.getRepository(SuiteOrmEntity)),
      inject: [getDataSourceToken()],
    },
    {
      provide: QUALITY_RUN_STORE,
      useFactory: (ds: DataSource) => new TypeOrmQualityRunStore(ds),
      inject: [getDataSourceToken()],
    },
    { provide: QUALITY_RUNS, useExisting: QualityRunsService },
  ],
  exports: [QUALITY_GATE, QUALITY_EVENTS, QUALITY_SUITES, QUALITY_RUNS],
})
export class QualityModule {}
