import { PipelineOrmEntity } from './infrastructure/pipeline.orm-entity';
import { PipelineVersionOrmEntity } from './infrastructure/pipeline-version.orm-entity';
import { PipelineRunOrmEntity } from './infrastructure/pipeline-run.orm-entity';
import { StepRunOrmEntity } from './infrastructure/step-run.orm-entity';
import { ScheduleTickOrmEntity } from './infrastructure/schedule-tick.orm-entity';
import { BackfillOrmEntity } from './infrastructure/backfill.orm-entity';
import { DatasetUpdateOrmEntity } from './infrastructure/dataset-update.orm-entity';
import { PoolOrmEntity } from './infrastructure/pool.orm-entity';
import { PartitionStateOrmEntity } from './infrastructure/partition-state.orm-entity';
import { AlertDestinationOrmEntity } from './infrastructure/alert-destination.orm-entity';
import { AlertDeliveryOrmEntity } from './infrastructure/alert-delivery.orm-entity';
import { SlaMissOrmEntity } from './infrastructure/sla-miss.orm-entity';

/** TypeORM entities of the orchestration slice, schema "orchestration" (the table generator adds to this list). */
export const ORCHESTRATION_ENTITIES: Function[] = [
  PipelineOrmEntity,
  PipelineVersionOrmEntity,
  PipelineRunOrmEntity,
  StepRunOrmEntity,
  ScheduleTickOrmEntity,
  BackfillOrmEntity,
  DatasetUpdateOrmEntity,
  PoolOrmEntity,
  PartitionStateOrmEntity,
  AlertDestinationOrmEntity,
  AlertDeliveryOrmEntity,
  SlaMissOrmEntity,
];
