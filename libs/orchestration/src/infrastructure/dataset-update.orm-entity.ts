import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { PipelineOrmEntity } from './pipeline.orm-entity';

/** orchestration.dataset_updates: an update a data-aware schedule (`when: all`) has seen since its last run. */
@Entity({ schema: 'orchestration', name: 'dataset_updates' })
export class DatasetUpdateOrmEntity {
  @PrimaryColumn({ name: 'pipeline_id', type: 'uuid', primaryKeyConstraintName: 'PK_orchestration_dataset_updates' })
  pipelineId: string;

  @PrimaryColumn({ type: 'varchar', length: 200, primaryKeyConstraintName: 'PK_orchestration_dataset_updates' })
  dataset: string;

  @ManyToOne(() => PipelineOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'pipeline_id', foreignKeyConstraintName: 'FK_orchestration_dataset_updates_pipeline' })
  pipeline?: PipelineOrmEntity;

  /** The outbox event of the update. */
  @Column({ name: 'event_id', type: 'bigint' })
  eventId: string;

  /** The run that wrote the dataset. */
  @Column({ name: 'run_id', type: 'varchar', length: 64 })
  runId: string;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
