import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { WEIR_CONFIG, WeirConfig } from '@weir/platform';
import { CatalogModule } from '@weir/catalog';
import { IngestionModule } from '@weir/ingestion';
import { ModelingModule } from '@weir/modeling';
import { QualityModule } from '@weir/quality';
import { ORCHESTRATION_ENTITIES } from './orchestration.entities';
import { ORCHESTRATION_CONFIG, orchestrationConfig } from './orchestration.config';
import { PIPELINE_STORE } from './application/ports/pipeline-store.port';
import { RUN_QUEUE } from './application/ports/run-queue.port';
import { TICK_LEDGER } from './application/ports/tick-ledger.port';
import { BACKFILL_STORE } from './application/ports/backfill-store.port';
import { DATASET_TRIGGERS } from './application/ports/dataset-triggers.port';
import { DatasetTriggersService } from './application/dataset-triggers.service';
import { SourceSchedulesService } from './application/source-schedules.service';
import { ProjectPipelinesService } from './application/project-pipelines.service';
import { PgDatasetTriggers } from './infrastructure/dataset-triggers.repository';
import { BackfillsService } from './application/backfills.service';
import { PartitionsService } from './application/partitions.service';
import { OrchestrationMetrics } from './application/orchestration.metrics';
import { PgBackfillStore } from './infrastructure/backfill.store';
import { SchedulerService } from './application/scheduler.service';
import { PgTickLedger } from './infrastructure/tick-ledger.repository';
import { PipelinesService } from './application/pipelines.service';
import { PipelineRunsService } from './application/pipeline-runs.service';
import { StepExecutorService } from './application/step-executor.service';
import { StepWorkerService } from './application/step-worker.service';
import { PgPipelineStore } from './infrastructure/pipeline.store';
import { PgRunQueue } from './infrastructure/run-queue.repository';
import { PipelinesController } from './http/pipelines.controller';
import { POOL_STORE } from './application/ports/pool-store.port';
import { PgPoolStore } from './infrastructure/pool.store';
import { PoolsService } from './application/pools.service';
import { PoolsController } from './http/pools.controller';
import { DependencyStepsService } from './application/dependency-steps.service';
import { ALERT_STORE } from './application/ports/alert-store.port';
import { SLA_LEDGER } from './application/ports/sla-ledger.port';
import { PgAlertStore } from './infrastructure/alert.store';
import { PgSlaLedger } from './infrastructure/sla-ledger.repository';
import { AlertsService } from './application/alerts.service';
import { AlertSourcesService } from './application/alert-sources.service';
import { PipelineDependentsService } from './application/pipeline-dependents.service';
import { SlaService } from './application/sla.service';
import { AlertsController } from './http/alerts.controller';

/** The orchestration slice: pipelines (DAGs of steps across the slices), their runs and the run queue, alerts and SLAs. */
@Module({
  imports: [
    TypeOrmModule.forFeature(ORCHESTRATION_ENTITIES),
    CatalogModule,
    IngestionModule,
    ModelingModule,
    QualityModule,
  ],
  controllers: [PipelinesController, PoolsController, AlertsController],
  providers: [
    { provide: ORCHESTRATION_CONFIG, useFactory: (c: WeirConfig) => orchestrationConfig(c.env), inject: [WEIR_CONFIG] },
    { provide: PIPELINE_STORE, useClass: PgPipelineStore },
    { provide: RUN_QUEUE, useClass: PgRunQueue },
    { provide: TICK_LEDGER, useClass: PgTickLedger },
    { provide: BACKFILL_STORE, useClass: PgBackfillStore },
    { provide: DATASET_TRIGGERS, useClass: PgDatasetTriggers },
    DatasetTriggersService,
    SourceSchedulesService,
    ProjectPipelinesService,
    PipelineDependentsService,
    { provide: ALERT_STORE, useClass: PgAlertStore },
    { provide: SLA_LEDGER, useClass: PgSlaLedger },
    PipelinesService,
    PipelineRunsService,
    StepExecutorService,
    StepWorkerService,
    SchedulerService,
    BackfillsService,
    PartitionsService,
    OrchestrationMetrics,
    { provide: POOL_STORE, useClass: PgPoolStore },
    PoolsService,
    DependencyStepsService,
    AlertsService,
    AlertSourcesService,
    SlaService,
  ],
  exports: [PipelinesService, PipelineRunsService],
})
export class OrchestrationModule {}
