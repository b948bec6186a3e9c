import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { QualityRunOrmEntity } from './quality-run.orm-entity';

/** quality.results: the outcome of each expectation of a run, with its evidence. */
@Entity({ schema: 'quality', name: 'results' })
@Index('IDX_quality_results_run', ['runId'])
export class QualityResultOrmEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'PK_quality_results' })
  id: string;

  @Column({ name: 'run_id', type: 'uuid' })
  runId: string;

  @ManyToOne(() => QualityRunOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'FK_quality_results_run' })
  run?: QualityRunOrmEntity;

  @Column({ name: 'expectation_index', type: 'integer' })
  expectationIndex: number;

  @Column({ name: 'expectation_type', type: 'varchar', length: 100 })
  expectationType: string;

  @Column({ type: 'jsonb' })
  kwargs: Record<string, unknown>;

  @Column({ type: 'varchar', length: 8 })
  severity: string;

  @Column({ type: 'boolean' })
  success: boolean;

  /** observed value, counts, percentages, sample unexpected values (PII masked) */
  @Column({ type: 'jsonb' })
  evidence: Record<string, unknown>;

  @Column({ type: 'text', nullable: true })
  exception: string | null;
}
