import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { DatasetContract } from '../domain/contract';

/** catalog.datasets: every relation Weir knows, with its current contract and version. */
@Entity({ schema: 'catalog', name: 'datasets' })
@Unique('UQ_datasets_name', ['name'])
export class DatasetOrmEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_datasets' })
  id: string;

  @Column({ type: 'varchar', length: 63 })
  name: string;

  @Column({ name: 'warehouse_schema', type: 'varchar', length: 63 })
  warehouseSchema: string;

  @Column({ name: 'warehouse_table', type: 'varchar', length: 63 })
  warehouseTable: string;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  owner: string | null;

  @Column({ type: 'jsonb' })
  tags: string[];

  @Column({ type: 'jsonb' })
  contract: DatasetContract;

  @Column({ type: 'integer' })
  version: number;

  /** Published version of a versioned dataset (model config `version`); null when not versioned. */
  @Column({ type: 'integer', nullable: true })
  release: number | null;

  /** Who may write the relation: `ingestion` (loaded by sources) or `modeling:<project>` (built by that project). */
  @Column({ name: 'managed_by', type: 'varchar', length: 200, default: 'ingestion' })
  managedBy: string;

  @Column({ name: 'last_load_at', type: 'timestamptz', nullable: true })
  lastLoadAt: Date | null;

  @Column({ name: 'last_load_run_id', type: 'uuid', nullable: true })
  lastLoadRunId: string | null;

  @Column({ name: 'last_load_rows', type: 'bigint', nullable: true })
  lastLoadRows: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
