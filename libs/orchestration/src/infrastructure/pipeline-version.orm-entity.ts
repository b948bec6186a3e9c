import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { PipelineSpec } from '../domain/pipeline';
import { PipelineOrmEntity } from './pipeline.orm-entity';

/** orchestration.pipeline_versions: every version of every pipeline, kept. */
@Entity({ schema: 'orchestration', name: 'pipeline_versions' })
export class PipelineVersionOrmEntity {
  @PrimaryColumn({ name: 'pipeline_id', type: 'uuid', primaryKeyConstraintName: 'PK_pipeline_versions' })
  pipelineId: string;

  @PrimaryColumn({ type: 'integer', primaryKeyConstraintName: 'PK_pipeline_versions' })
  version: number;

  @ManyToOne(() => PipelineOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'pipeline_id', foreignKeyConstraintName: 'FK_pipeline_versions_pipeline' })
  pipeline?: PipelineOrmEntity;

  @Column({ type: 'jsonb' })
  spec: PipelineSpec;

  @Column({ name: 'created_by', type: 'varchar', length: 200, nullable: true })
  createdBy: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
