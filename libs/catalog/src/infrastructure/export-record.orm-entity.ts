import { Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { ExportedFile } from '../application/ports/lake-export.port';
import { DatasetOrmEntity } from './dataset.orm-entity';

/** catalog.exports: one exported partition of a dataset at a target, with its files. */
@Entity({ schema: 'catalog', name: 'exports' })
@Unique('UQ_exports_dataset_target_partition', ['datasetId', 'target', 'partition'])
export class ExportRecordOrmEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_exports' })
  id: string;

  @Column({ name: 'dataset_id', type: 'uuid' })
  datasetId: string;

  @ManyToOne(() => DatasetOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'dataset_id', foreignKeyConstraintName: 'FK_exports_dataset' })
  dataset?: DatasetOrmEntity;

  @Column({ type: 'varchar', length: 1000 })
  target: string;

  /** `order_date=2026-11-21` (empty: an unpartitioned export). */
  @Column({ type: 'text' })
  partition: string;

  @Column({ name: 'partition_values', type: 'jsonb' })
  partitionValues: Record<string, string | null>;

  @Column({ type: 'bigint' })
  rows: string;

  @Column({ type: 'jsonb' })
  files: ExportedFile[];

  @Column({ name: 'dataset_version', type: 'integer' })
  datasetVersion: number;

  @Column({ name: 'exported_at', type: 'timestamptz', default: () => 'now()' })
  exportedAt: Date;
}
