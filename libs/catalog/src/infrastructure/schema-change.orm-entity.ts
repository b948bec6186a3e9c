import { Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { DatasetContract } from '../domain/contract';
import { DatasetOrmEntity } from './dataset.orm-entity';

/** catalog.schema_changes: every contract version of every dataset, classified. */
@Entity({ schema: 'catalog', name: 'schema_changes' })
@Unique('UQ_schema_changes_dataset_version', ['datasetId', 'version'])
export class SchemaChangeOrmEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_schema_changes' })
  id: string;

  @Column({ name: 'dataset_id', type: 'uuid' })
  datasetId: string;

  @ManyToOne(() => DatasetOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'dataset_id', foreignKeyConstraintName: 'FK_schema_changes_dataset' })
  dataset?: DatasetOrmEntity;

  @Column({ type: 'integer' })
  version: number;

  /** initial | none | additive | widening | breaking */
  @Column({ type: 'varchar', length: 16 })
  kind: string;

  @Column({ type: 'jsonb' })
  details: string[];

  @Column({ type: 'jsonb' })
  contract: DatasetContract;

  /** Who changed it: `api:<key name>`, `drift:evolve:<source>` … */
  @Column({ name: 'changed_by', type: 'varchar', length: 200 })
  changedBy: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
