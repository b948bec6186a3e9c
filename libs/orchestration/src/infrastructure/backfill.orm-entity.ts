import { Check, Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { PipelineOrmEntity } from './pipeline.orm-entity';

/** orchestration.backfills: runs of a pipeline over a range of partitions, a bounded number at once. */
@Entity({ schema: 'orchestration', name: 'backfills' })
@Check('CHK_backfills_status', `"status" IN ('running', 'paused', 'cancelled', 'succeeded', 'failed')`)
export class BackfillOrmEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_backfills' })
  id: string;

  @Column({ name: 'pipeline_id', type: 'uuid' })
  pipelineId: string;

  @ManyToOne(() => PipelineOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'pipeline_id', foreignKeyConstraintName: 'FK_backfills_pipeline' })
  pipeline?: PipelineOrmEntity;

  /** The partitions in the order they run. */
  @Column({ type: 'text', array: true })
  partitions: string[];

  /** How many of them have a run. */
  @Column({ name: 'next_index', type: 'integer', default: 0 })
  nextIndex: number;

  @Column({ name: 'max_parallel', type: 'integer' })
  maxParallel: number;

  @Column({ type: 'varchar', length: 16 })
  status: string;

  @Column({ name: 'created_by', type: 'varchar', length: 200, nullable: true })
  createdBy: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;
}
