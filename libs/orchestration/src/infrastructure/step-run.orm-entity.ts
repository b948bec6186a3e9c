import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { PipelineRunOrmEntity } from './pipeline-run.orm-entity';

/** orchestration.step_runs: one step of a run, leased by one worker at a time (the run queue). */
@Entity({ schema: 'orchestration', name: 'step_runs' })
@Unique('UQ_step_runs_run_step', ['runId', 'stepId'])
@Index('IDX_step_runs_ready', ['status', 'readyAt'])
@Index('IDX_step_runs_queued', ['readyAt', 'id'], { where: `status = 'queued'` })
@Check(
  'CHK_step_runs_status',
  `"status" IN ('pending', 'queued', 'running', 'retrying', 'succeeded', 'failed', 'skipped', 'cancelled')`,
)
export class StepRunOrmEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'PK_step_runs' })
  id: string;

  @Column({ name: 'run_id', type: 'uuid' })
  runId: string;

  @ManyToOne(() => PipelineRunOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'FK_step_runs_run' })
  run?: PipelineRunOrmEntity;

  @Column({ name: 'step_id', type: 'varchar', length: 100 })
  stepId: string;

  @Column({ type: 'varchar', length: 16 })
  kind: string;

  @Column({ type: 'varchar', length: 16 })
  status: string;

  /** The step's pool (a named concurrency limit, orchestration.pools), copied from the step when the run is created. */
  @Column({ type: 'varchar', length: 63, nullable: true })
  pool: string | null;

  @Column({ type: 'integer', default: 0 })
  attempt: number;

  @Column({ name: 'max_attempts', type: 'integer' })
  maxAttempts: number;

  /** When the step may be leased (queued now, or after its backoff). */
  @Column({ name: 'ready_at', type: 'timestamptz', nullable: true })
  readyAt: Date | null;

  @Column({ name: 'lease_owner', type: 'varchar', length: 100, nullable: true })
  leaseOwner: string | null;

  @Column({ name: 'lease_expires_at', type: 'timestamptz', nullable: true })
  leaseExpiresAt: Date | null;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  @Column({ name: 'error_code', type: 'varchar', length: 100, nullable: true })
  errorCode: string | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** The run underneath: { ingestionRun } | { build } | { qualityRuns } | { pipelineRun } (a `pipeline` step's child run). */
  @Column({ type: 'jsonb', nullable: true })
  ref: Record<string, unknown> | null;

  /** Counts from the step's slice (rows read, loaded, …). */
  @Column({ type: 'jsonb', nullable: true })
  output: Record<string, unknown> | null;
}
