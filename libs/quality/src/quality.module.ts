import { Module } from '@nestjs/common';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Warehouse, WEIR_CONFIG, WeirConfig } from '@weir/platform';
import { CatalogModule } from '@weir/catalog';
import { GxSuiteService } from './application/gx-suite.service';
import { QUALITY_RUN_STORE } from './application/ports/quality-run-store.port';
import { QUALITY_RUNS } from './application/ports/quality-runs.port';
import { SUITE_SCANNER } from './application/ports/suite-scanner.port';
import { SUITE_STORE } from './application/ports/suite-store.port';
import { QUALITY_GATE, QUALITY_SUITES } from './application/quality-gate.port';
import { QualityGateService } from './application/quality-gate.service';
import { QualityRunEventsPublisher } from './application/quality-run-events.publisher';
import { QualityRunsService } from './application/quality-runs.service';
import { QualitySuitesService } from './application/quality-suites.service';
import { QUALITY_EVENTS, QualityEvents } from './application/quality.events';
import { RegisterSuiteService } from './application/register-suite.service';
import { RunQueriesService } from './application/run-queries.service';
import { RunSuiteService } from './application/run-suite.service';
import { SuiteQueriesService } from './application/suite-queries.service';
import { SuiteValidationService } from './application/suite-validation.service';
import { WebhookNotifier } from './application/webhook.notifier';
import { QualityController } from './http/quality.controller';
import { TypeOrmQualityRunStore } from './infrastructure/quality-run.store';
import { SuiteOrmEntity } from './infrastructure/suite.orm-entity';
import { PgSuiteScanner } from './infrastructure/suite.scanner';
import { TypeOrmSuiteStore } from './infrastructure/suite.store';
import { QUALITY_CONFIG, QualityConfig, qualityConfig } from './quality.config';
import { QUALITY_ENTITIES } from './quality.entities';

/** The quality slice: GX-compatible suites, runs with evidence, metric history, and the QUALITY_GATE port. */
@Module({
  imports: [TypeOrmModule.forFeature(QUALITY_ENTITIES), CatalogModule],
  controllers: [QualityController],
  providers: [
    SuiteValidationService,
    SuiteQueriesService,
    RegisterSuiteService,
    GxSuiteService,
    RunQueriesService,
    RunSuiteService,
    QualityRunEventsPublisher,
    QualityGateService,
    QualitySuitesService,
    QualityRunsService,
    { provide: QUALITY_GATE, useExisting: QualityGateService },
    { provide: QUALITY_SUITES, useExisting: QualitySuitesService },
    { provide: QUALITY_RUNS, useExisting: QualityRunsService },
    { provide: QUALITY_EVENTS, useFactory: () => new QualityEvents() },
    WebhookNotifier,
    { provide: QUALITY_CONFIG, useFactory: (c: WeirConfig) => qualityConfig(c.env), inject: [WEIR_CONFIG] },
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
    {
      provide: SUITE_SCANNER,
      useFactory: (w: Warehouse, c: WeirConfig, q: QualityConfig) =>
        new PgSuiteScanner(w, c.checkTimeoutMs, q.sampleMax),
      inject: [Warehouse, WEIR_CONFIG, QUALITY_CONFIG],
    },
  ],
  exports: [QUALITY_GATE, QUALITY_EVENTS, QUALITY_SUITES, QUALITY_RUNS],
})
export class QualityModule {}
