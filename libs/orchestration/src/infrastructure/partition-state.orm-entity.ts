import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { PipelineOrmEntity } from './pipeline.orm-entity';

/**
 * orchestration.partition_states: a partition's latest run and its last success, kept by a trigger
 * on orchestration.runs (migration 1763970000000); read by the partitions page and backfills.
 */
@Entity({ schema: 'orchestration', name: 'partition_states' })
export class PartitionStateOrmEntity {
  @PrimaryColumn({ name: 'pipeline_id', type: 'uuid', primaryKeyConstraintName: 'PK_orchestration_partition_states' })
  pipelineId: string;

  @PrimaryColumn({ type: 'varchar', length: 200, primaryKeyConstraintName: 'PK_orchestration_partition_states' })
  partition: string;

  @ManyToOne(() => PipelineOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'pipeline_id', foreignKeyConstraintName: 'FK_orchestration_partition_states_pipeline' })
  pipeline?: PipelineOrmEntity;

  @Column({ name: 'run_id', type: 'uuid' })
  runId: string;

  @Column({ type: 'varchar', length: 16 })
  status: string;

  @Column({ name: 'last_run_at', type: 'timestamptz' })
  lastRunAt: Date;

  @Column({ name: 'last_success_at', type: 'timestamptz', nullable: true })
  lastSuccessAt: Date | null;
}
