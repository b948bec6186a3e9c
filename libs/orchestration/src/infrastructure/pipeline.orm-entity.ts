import { Column, DeleteDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { PipelineSpec } from '../domain/pipeline';

/** orchestration.pipelines: a pipeline and its current version. */
@Entity({ schema: 'orchestration', name: 'pipelines' })
@Index('UQ_pipelines_name', ['name'], { unique: true, where: '"deleted_at" IS NULL' })
export class PipelineOrmEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_pipelines' })
  id: string;

  @Column({ type: 'varchar', length: 63 })
  name: string;

  @Column({ type: 'integer' })
  version: number;

  @Column({ type: 'jsonb' })
  spec: PipelineSpec;

  /** What keeps the pipeline (`ingestion:source:<id>`: a source's schedule); null: defined by people. */
  @Index('UQ_orchestration_pipelines_managed_by', { unique: true, where: '"deleted_at" IS NULL' })
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
