import { Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { PipelineOrmEntity } from './pipeline.orm-entity';

/** orchestration.sla_misses: a scheduled time whose run did not succeed by its deadline (recorded once). */
@Entity({ schema: 'orchestration', name: 'sla_misses' })
@Unique('UQ_sla_misses_pipeline_tick', ['pipelineId', 'scheduledFor'])
export class SlaMissOrmEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_sla_misses' })
  id: string;

  @Column({ name: 'pipeline_id', type: 'uuid' })
  pipelineId: string;

  @ManyToOne(() => PipelineOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'pipeline_id', foreignKeyConstraintName: 'FK_sla_misses_pipeline' })
  pipeline?: PipelineOrmEntity;

  /** The tick's run (null: it never started). */
  @Column({ name: 'run_id', type: 'uuid', nullable: true })
  runId: string | null;

  @Column({ name: 'scheduled_for', type: 'timestamptz' })
  scheduledFor: Date;

  @Column({ type: 'timestamptz' })
  deadline: Date;

  /** The run's status when the miss was seen (running, failed, …). */
  @Column({ name: 'run_status', type: 'varchar', length: 16, nullable: true })
  runStatus: string | null;

  @Column({ name: 'detected_at', type: 'timestamptz', default: () => 'now()' })
  detectedAt: Date;
}
