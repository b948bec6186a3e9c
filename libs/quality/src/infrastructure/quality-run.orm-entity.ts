import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { SuiteOrmEntity } from './suite.orm-entity';

/** quality.runs: one run of a suite on a table (the dataset's, or staged rows for a gate). */
@Entity({ schema: 'quality', name: 'runs' })
@Index('IDX_quality_runs_suite_started', ['suiteId', 'startedAt'])
@Check('CHK_quality_runs_status', `"status" IN ('passed', 'warned', 'failed')`)
export class QualityRunOrmEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_quality_runs' })
  id: string;

  @Column({ name: 'suite_id', type: 'uuid' })
  suiteId: string;

  @ManyToOne(() => SuiteOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'suite_id', foreignKeyConstraintName: 'FK_quality_runs_suite' })
  suite?: SuiteOrmEntity;

  @Column({ type: 'varchar', length: 63 })
  dataset: string;

  @Column({ name: 'target_schema', type: 'varchar', length: 63 })
  targetSchema: string;

  @Column({ name: 'target_table', type: 'varchar', length: 63 })
  targetTable: string;

  /** passed | warned (only warn-severity failures) | failed (an error-severity failure) */
  @Column({ type: 'varchar', length: 16 })
  status: string;

  /** api | gate */
  @Column({ type: 'varchar', length: 16 })
  trigger: string;

  /** For gates: the run (e.g. ingestion run id) whose staged rows were checked. */
  @Column({ name: 'trigger_ref', type: 'varchar', length: 100, nullable: true })
  triggerRef: string | null;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz' })
  finishedAt: Date;

  @Column({ name: 'row_count', type: 'bigint' })
  rowCount: string;
}
