import { Column, DeleteDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { SourceLocation, SourceOptions, SourceSchedule, StrategySpec } from '../domain/source';
import type { ConnectorSpec } from '../domain/connector';

/** ingestion.sources: a dataset contract + format + location + strategy + drift policy. */
@Entity({ schema: 'ingestion', name: 'sources' })
@Index('UQ_sources_name', ['name'], { unique: true, where: '"deleted_at" IS NULL' })
export class SourceOrmEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_sources' })
  id: string;

  @Column({ type: 'varchar', length: 63 })
  name: string;

  /** Catalog dataset name (its contract is read through the CATALOG port). */
  @Column({ type: 'varchar', length: 63 })
  dataset: string;

  /** The file format (file sources); null for a database source. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  format: string | null;

  /** Where records come from: null for files (`format`, `location`), else a database connector. */
  @Column({ type: 'jsonb', nullable: true })
  connector: ConnectorSpec | null;

  @Column({ type: 'jsonb' })
  location: SourceLocation;

  @Column({ type: 'jsonb' })
  strategy: StrategySpec;

  @Column({ type: 'varchar', length: 20 })
  drift: string;

  @Column({ type: 'jsonb' })
  options: SourceOptions;

  @Column({ name: 'max_rejected_ratio', type: 'double precision' })
  maxRejectedRatio: number;

  @Column({ type: 'jsonb', nullable: true })
  schedule: SourceSchedule | null;

  /** Why the schedule could not be armed (it is disabled until the source is changed); null when armed or none. */
  @Column({ name: 'schedule_error', type: 'text', nullable: true })
  scheduleError: string | null;

  /** Incremental strategy: highest cursor value published so far (text form). */
  @Column({ type: 'text', nullable: true })
  watermark: string | null;

  /** null for a user's source; `modeling:<project>` for the seed sources a project loads through. */
  @Column({ name: 'managed_by', type: 'varchar', length: 200, nullable: true })
  managedBy: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;

  /**
   * When it was deleted (soft: its history stays readable); null while it exists. TypeORM's reads
   * (find…) leave deleted rows out unless `withDeleted`; raw SQL says `deleted_at IS NULL` itself.
   */
  @DeleteDateColumn({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
}
