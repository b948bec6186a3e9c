import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CatalogModule } from '@weir/catalog';
import { INGESTION_RUNS } from './application/ports/ingestion-runs.port';
import { SEED_LOADER } from './application/ports/seed-loader.port';
import { SeedLoaderService } from './application/seed-loader.service';
import { TriggerRunService } from './application/trigger-run.service';
import { RunWorkerService } from './application/run-worker.service';
import { RunRecoveryService } from './application/run-recovery.service';
import { RunEventsPublisher } from './application/run-events.publisher';
import { RunMetrics } from './application/run.metrics';
import { QualityModule } from '@weir/quality';
import { WEIR_CONFIG, WeirConfig } from '@weir/platform';
import { INGESTION_ENTITIES } from './ingestion.entities';
import { INGESTION_CONFIG, ingestionConfig } from './ingestion.config';
import { SourcesService } from './application/sources.service';
import { RunsService } from './application/runs.service';
import { DeadLettersService } from './application/dead-letters.service';
import { UploadsService } from './application/uploads.service';
import { InferService } from './application/infer.service';
import { DueRunsService } from './application/due-runs.service';
import { CancelRunService } from './application/cancel-run.service';
import { RUN_LEDGER } from './application/ports/run-ledger.port';
import { SOURCE_REPOSITORY } from './application/ports/source-repository.port';
import { PgRunLedger } from './infrastructure/run-ledger.repository';
import { PgSourceRepository } from './infrastructure/source.repository';
import { SOURCE_CONNECTORS } from './application/ports/source-connector.port';
import { SourceConnectorsReader } from './infrastructure/connectors/source-connectors.reader';
import { STREAM_CONSUMERS } from './application/ports/stream-consumer.port';
import { STREAM_LEASES } from './application/ports/stream-lease.port';
import { StreamConsumersService } from './application/stream-consumers.service';
import { NatsJetStreamReader } from './infrastructure/streams/nats-jetstream.reader';
import { StreamLeaseStore } from './infrastructure/streams/stream-lease.store';
import { SourcesController } from './http/sources.controller';
import { RunsController } from './http/runs.controller';
import { InferController } from './http/infer.controller';
import { CdcController } from './http/cdc.controller';
import { CDC_STREAM_STORE } from './application/ports/cdc-stream-store.port';
import { CDC_REPLICATION } from './application/ports/cdc-replication.port';
import { PgCdcStreamStore } from './infrastructure/cdc/cdc-stream.store';
import { PgCdcReplication } from './infrastructure/cdc/pg-cdc.engine';
import { CdcStreamsService } from './application/cdc-streams.service';
import { CdcConsumersService } from './application/cdc-consumers.service';
import { CdcMetrics } from './application/cdc.metrics';

/** The ingestion slice: sources, accounted runs, dead letters, uploads, schedules, stream consumers. */
@Module({
  imports: [TypeOrmModule.forFeature(INGESTION_ENTITIES), CatalogModule, QualityModule],
  controllers: [SourcesController, RunsController, InferController, CdcController],
  providers: [
    { provide: INGESTION_CONFIG, useFactory: (c: WeirConfig) => ingestionConfig(c, c.env), inject: [WEIR_CONFIG] },
    { provide: RUN_LEDGER, useClass: PgRunLedger },
    { provide: SOURCE_REPOSITORY, useClass: PgSourceRepository },
    { provide: SOURCE_CONNECTORS, useClass: SourceConnectorsReader },
    { provide: STREAM_CONSUMERS, useClass: NatsJetStreamReader },
    { provide: STREAM_LEASES, useClass: StreamLeaseStore },
    StreamConsumersService,
    SourcesService,
    RunsService,
    TriggerRunService,
    RunWorkerService,
    RunRecoveryService,
    RunEventsPublisher,
    RunMetrics,
    DeadLettersService,
    UploadsService,
    InferService,
    DueRunsService,
    CancelRunService,
    SeedLoaderService,
    { provide: CDC_STREAM_STORE, useClass: PgCdcStreamStore },
    { provide: CDC_REPLICATION, useClass: PgCdcReplication },
    CdcStreamsService,
    CdcConsumersService,
    CdcMetrics,
    { provide: INGESTION_RUNS, useExisting: RunsService },
    { provide: SEED_LOADER, useExisting: SeedLoaderService },
  ],
  exports: [INGESTION_RUNS, SEED_LOADER, RunsService, SourcesService, CdcStreamsService, StreamConsumersService],
})
export class IngestionModule {}
