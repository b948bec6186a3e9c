import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { PipelineOrmEntity } from './pipeline.orm-entity';

/** orchestration.schedule_ticks: a scheduled time of a pipeline, claimed by one instance (exactly once). */
@Entity({ schema: 'orchestration', name: 'schedule_ticks' })
export class ScheduleTickOrmEntity {
  @PrimaryColumn({ name: 'pipeline_id', type: 'uuid', primaryKeyConstraintName: 'PK_orchestration_schedule_ticks' })
  pipelineId: string;

  @PrimaryColumn({
    name: 'scheduled_at',
    type: 'timestamptz',
    primaryKeyConstraintName: 'PK_orchestration_schedule_ticks',
  })
  scheduledAt: Date;

  @ManyToOne(() => PipelineOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'pipeline_id', foreignKeyConstraintName: 'FK_orchestration_schedule_ticks_pipeline' })
  pipeline?: PipelineOrmEntity;

  @Column({ name: 'claimed_by', type: 'varchar', length: 100 })
  claimedBy: string;

  @Column({ name: 'run_id', type: 'uuid', nullable: true })
  runId: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
