import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { PipelineOrmEntity } from './pipeline.orm-entity';

/** orchestration.runs: one run of a pipeline (a version, a partition, an idempotency key). */
@Entity({ schema: 'orchestration', name: 'runs' })
@Index('IDX_orchestration_runs_pipeline_created', ['pipelineId', 'createdAt'])
@Index('IDX_orchestration_runs_key', ['pipelineId', 'idempotencyKey'])
@Index('IDX_orchestration_runs_partition', ['pipelineId', 'partition', 'createdAt'])
@Index('IDX_orchestration_runs_backfill', ['backfillId'])
@Check('CHK_orchestration_runs_status', `"status" IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')`)
export class PipelineRunOrmEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_orchestration_runs' })
  id: string;

  @Column({ name: 'pipeline_id', type: 'uuid' })
  pipelineId: string;

  @ManyToOne(() => PipelineOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'pipeline_id', foreignKeyConstraintName: 'FK_orchestration_runs_pipeline' })
  pipeline?: PipelineOrmEntity;

  @Column({ type: 'integer' })
  version: number;

  @Column({ type: 'varchar', length: 16 })
  status: string;

  /** api | schedule | backfill | pipeline | dataset | cli */
  @Column({ type: 'varchar', length: 16 })
  trigger: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  partition: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  params: Record<string, unknown>;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 200 })
  idempotencyKey: string;

  @Column({ name: 'created_by', type: 'varchar', length: 200, nullable: true })
  createdBy: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** The backfill that started the run, if one did. */
  @Column({ name: 'backfill_id', type: 'uuid', nullable: true })
  backfillId: string | null;
}
