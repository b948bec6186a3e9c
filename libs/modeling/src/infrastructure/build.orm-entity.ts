import { Check, Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ProjectOrmEntity } from './project.orm-entity';

/** modeling.builds: one build of a selection of a project's DAG. */
@Entity({ schema: 'modeling', name: 'builds' })
@Check('CHK_builds_status', `"status" IN ('running', 'succeeded', 'failed')`)
export class BuildOrmEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_builds' })
  id: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @ManyToOne(() => ProjectOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id', foreignKeyConstraintName: 'FK_builds_project' })
  project?: ProjectOrmEntity;

  @Column({ type: 'text', nullable: true })
  selector: string | null;

  /** The build may take over relations recorded for another owner (recorded as catalog changes). */
  @Column({ name: 'take_over', type: 'boolean', default: false })
  takeOver: boolean;

  /** The run that asked for it (a pipeline run, `{ job, runId }`): its OpenLineage parent. */
  @Column({ type: 'jsonb', nullable: true })
  parent: { job: string; runId: string } | null;

  /** dbt's command when the dbt runtime runs the build (build, run, seed, test …); null for Weir's own builds. */
  @Column({ type: 'varchar', length: 30, nullable: true })
  command: string | null;

  /** The dbt invocation's other arguments: select, exclude, vars, failFast. */
  @Column({ name: 'dbt_args', type: 'jsonb', nullable: true })
  dbtArgs: Record<string, unknown> | null;

  @Column({ name: 'full_refresh', type: 'boolean' })
  fullRefresh: boolean;

  @Column({ type: 'varchar', length: 16 })
  status: string;

  @Column({ name: 'started_at', type: 'timestamptz', default: () => 'now()' })
  startedAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  /** Someone asked to cancel the build: no step starts after its next heartbeat. */
  @Column({ name: 'cancel_requested_at', type: 'timestamptz', nullable: true })
  cancelRequestedAt: Date | null;

  /** Touched every few seconds by the process running the build. */
  @Column({ name: 'heartbeat_at', type: 'timestamptz', default: () => 'now()' })
  heartbeatAt: Date;
}
