import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { QualityRunOrmEntity } from './quality-run.orm-entity';

/** quality.metrics: numeric metrics per dataset and run (row_count, observed values…), for history and anomalies. */
@Entity({ schema: 'quality', name: 'metrics' })
@Index('IDX_quality_metrics_dataset_metric', ['dataset', 'metric', 'recordedAt'])
export class QualityMetricOrmEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'PK_quality_metrics' })
  id: string;

  @Column({ type: 'varchar', length: 63 })
  dataset: string;

  @Column({ name: 'run_id', type: 'uuid' })
  runId: string;

  @ManyToOne(() => QualityRunOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'FK_quality_metrics_run' })
  run?: QualityRunOrmEntity;

  @Column({ type: 'varchar', length: 200 })
  metric: string;

  @Column({ type: 'double precision' })
  value: number;

  @Column({ name: 'recorded_at', type: 'timestamptz', default: () => 'now()' })
  recordedAt: Date;
}
