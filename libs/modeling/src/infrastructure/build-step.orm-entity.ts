import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { BuildOrmEntity } from './build.orm-entity';

/** modeling.build_steps: one node of a build: status, timings, rows, compiled SQL, error. */
@Entity({ schema: 'modeling', name: 'build_steps' })
@Index('IDX_build_steps_build', ['buildId'])
export class BuildStepOrmEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'PK_build_steps' })
  id: string;

  @Column({ name: 'build_id', type: 'uuid' })
  buildId: string;

  @ManyToOne(() => BuildOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'build_id', foreignKeyConstraintName: 'FK_build_steps_build' })
  build?: BuildOrmEntity;

  /** model.<name> | seed.<name> */
  @Column({ name: 'node_id', type: 'varchar', length: 600 })
  nodeId: string;

  @Column({ type: 'varchar', length: 20, nullable: true })
  materialized: string | null;

  /** pending | running | succeeded | failed | skipped */
  @Column({ type: 'varchar', length: 16 })
  status: string;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  @Column({ name: 'rows_affected', type: 'bigint', nullable: true })
  rowsAffected: string | null;

  @Column({ name: 'compiled_sql', type: 'text', nullable: true })
  compiledSql: string | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** The stable code of a failed step's error (e.g. MODELING.RELATION_OWNED_ELSEWHERE). */
  @Column({ name: 'error_code', type: 'varchar', length: 100, nullable: true })
  errorCode: string | null;

  /** ingestion run (seeds) or quality runs (audits) behind this step */
  @Column({ type: 'jsonb', nullable: true })
  refs: Record<string, unknown> | null;
}
