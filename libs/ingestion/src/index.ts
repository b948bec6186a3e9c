/**
 * @weir/ingestion: the only public surface of the ingestion slice.
 */
export { IngestionModule } from './ingestion.module';
export { ingestionConfig } from './ingestion.config';
export type { IngestionConfig } from './ingestion.config';
export { INGESTION_RUNS } from './application/ports/ingestion-runs.port';
export type { IngestionRunsPort, StartIngestionRun, StartDueRuns } from './application/ports/ingestion-runs.port';
export { SEED_LOADER } from './application/ports/seed-loader.port';
export type { SeedLoaderPort, SeedLoad, SeedLoaded } from './application/ports/seed-loader.port';
export { RunsService } from './application/runs.service';
export type { RunView, TriggerRequest } from './application/runs.service';
export { SourcesService } from './application/sources.service';
export { StreamConsumersService } from './application/stream-consumers.service';
export type { StreamStatus } from './application/stream-consumers.service';
export type { SourceView, SourceInput } from './application/sources.service';
export { CdcStreamsService } from './application/cdc-streams.service';
export type { CdcStatusView } from './application/cdc-streams.service';
export type { SourceFormat, StrategySpec, DriftPolicy } from './domain/source';
export { inferContract } from './domain/infer';
export { CsvParser } from './infrastructure/readers/csv.parser';
