import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';

/** lineage.namespaces: OpenLineage namespaces (e.g. `postgres://host:5432`, `weir`). */
@Entity({ schema: 'lineage', name: 'namespaces' })
export class LineageNamespaceOrmEntity {
  @PrimaryColumn({ type: 'varchar', length: 1024, primaryKeyConstraintName: 'PK_lineage_namespaces' })
  name: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}

/** lineage.datasets: one node per (namespace, name); facets merged from the events that named it. */
@Entity({ schema: 'lineage', name: 'datasets' })
@Unique('UQ_lineage_datasets_name', ['namespace', 'name'])
export class LineageDatasetOrmEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'PK_lineage_datasets' })
  id: string;

  @Column({ type: 'varchar', length: 1024 })
  namespace: string;

  @ManyToOne(() => LineageNamespaceOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'namespace', foreignKeyConstraintName: 'FK_lineage_datasets_namespace' })
  namespaceRef?: LineageNamespaceOrmEntity;

  @Column({ type: 'varchar', length: 1024 })
  name: string;

  @Column({ name: 'current_version', type: 'integer', default: 0 })
  currentVersion: number;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  facets: Record<string, unknown>;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}

/** lineage.dataset_versions: a dataset's schema, one row each time its field list changed. */
@Entity({ schema: 'lineage', name: 'dataset_versions' })
export class LineageDatasetVersionOrmEntity {
  @PrimaryColumn({ name: 'dataset_id', type: 'bigint', primaryKeyConstraintName: 'PK_lineage_dataset_versions' })
  datasetId: string;

  @ManyToOne(() => LineageDatasetOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'dataset_id', foreignKeyConstraintName: 'FK_lineage_dataset_versions_dataset' })
  dataset?: LineageDatasetOrmEntity;

  @PrimaryColumn({ type: 'integer', primaryKeyConstraintName: 'PK_lineage_dataset_versions' })
  version: number;

  @Column({ type: 'jsonb' })
  fields: { name: string; type?: string; description?: string }[];

  @Column({ name: 'run_id', type: 'uuid', nullable: true })
  runId: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}

/** lineage.fields: every column ever seen on a dataset (the nodes of column lineage). */
@Entity({ schema: 'lineage', name: 'fields' })
@Unique('UQ_lineage_fields_name', ['datasetId', 'name'])
export class LineageFieldOrmEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'PK_lineage_fields' })
  id: string;

  @Column({ name: 'dataset_id', type: 'bigint' })
  datasetId: string;

  @ManyToOne(() => LineageDatasetOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'dataset_id', foreignKeyConstraintName: 'FK_lineage_fields_dataset' })
  dataset?: LineageDatasetOrmEntity;

  @Column({ type: 'varchar', length: 1024 })
  name: string;

  @Column({ type: 'varchar', length: 1024, nullable: true })
  type: string | null;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}

/** lineage.jobs: one node per (namespace, name): an ingestion source, a model, a quality suite, or any OpenLineage job. */
@Entity({ schema: 'lineage', name: 'jobs' })
@Unique('UQ_lineage_jobs_name', ['namespace', 'name'])
export class LineageJobOrmEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'PK_lineage_jobs' })
  id: string;

  @Column({ type: 'varchar', length: 1024 })
  namespace: string;

  @ManyToOne(() => LineageNamespaceOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'namespace', foreignKeyConstraintName: 'FK_lineage_jobs_namespace' })
  namespaceRef?: LineageNamespaceOrmEntity;

  @Column({ type: 'varchar', length: 1024 })
  name: string;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  facets: Record<string, unknown>;

  @Column({ name: 'latest_run_id', type: 'uuid', nullable: true })
  latestRunId: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}

/** lineage.runs: one row per OpenLineage runId, in its latest state. */
@Entity({ schema: 'lineage', name: 'runs' })
@Index('IDX_lineage_runs_job', ['jobId', 'eventTime'])
@Check('CHK_lineage_runs_state', `"state" IN ('START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER')`)
export class LineageRunOrmEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'PK_lineage_runs' })
  id: string;

  @Column({ name: 'job_id', type: 'bigint' })
  jobId: string;

  @ManyToOne(() => LineageJobOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id', foreignKeyConstraintName: 'FK_lineage_runs_job' })
  job?: LineageJobOrmEntity;

  @Column({ type: 'varchar', length: 16 })
  state: string;

  @Column({ name: 'parent_run_id', type: 'uuid', nullable: true })
  parentRunId: string | null;

  @Column({ name: 'nominal_start_time', type: 'timestamptz', nullable: true })
  nominalStartTime: Date | null;

  @Column({ name: 'nominal_end_time', type: 'timestamptz', nullable: true })
  nominalEndTime: Date | null;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt: Date | null;

  @Column({ name: 'event_time', type: 'timestamptz' })
  eventTime: Date;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  facets: Record<string, unknown>;

  /** The datasets the run's events declared: {"i<dataset id>": 1, "o<dataset id>": 1}. */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  declared: Record<string, number>;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}

/** lineage.job_datasets: the job-reads-dataset (`input`) and job-writes-dataset (`output`) edges. */
@Entity({ schema: 'lineage', name: 'job_datasets' })
@Index('IDX_lineage_job_datasets_dataset', ['datasetId', 'direction', 'jobId'])
@Check('CHK_lineage_job_datasets_direction', `"direction" IN ('input', 'output')`)
export class LineageJobDatasetOrmEntity {
  @PrimaryColumn({ name: 'job_id', type: 'bigint', primaryKeyConstraintName: 'PK_lineage_job_datasets' })
  jobId: string;

  @ManyToOne(() => LineageJobOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id', foreignKeyConstraintName: 'FK_lineage_job_datasets_job' })
  job?: LineageJobOrmEntity;

  @PrimaryColumn({ type: 'varchar', length: 6, primaryKeyConstraintName: 'PK_lineage_job_datasets' })
  direction: 'input' | 'output';

  @PrimaryColumn({ name: 'dataset_id', type: 'bigint', primaryKeyConstraintName: 'PK_lineage_job_datasets' })
  datasetId: string;

  @ManyToOne(() => LineageDatasetOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'dataset_id', foreignKeyConstraintName: 'FK_lineage_job_datasets_dataset' })
  dataset?: LineageDatasetOrmEntity;

  /** Output edges: digest of the column lineage the job last gave for the dataset (unchanged lineage is not rewritten). */
  @Column({ name: 'column_lineage_hash', type: 'varchar', length: 64, nullable: true })
  columnLineageHash: string | null;

  @Column({ name: 'column_lineage_at', type: 'timestamptz', nullable: true })
  columnLineageAt: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}

/**
 * lineage.field_edges: target field derives from source field, with OpenLineage's transformation
 * type and subtype, once per job that says so (unique on the four plus COALESCE(job_id, 0): an
 * expression index made by the migration).
 */
@Entity({ schema: 'lineage', name: 'field_edges' })
@Index('UQ_lineage_field_edges', { synchronize: false })
@Index('IDX_lineage_field_edges_source', ['sourceFieldId', 'targetFieldId'])
@Index('IDX_lineage_field_edges_job', ['jobId'])
@Check('CHK_lineage_field_edges_type', `"type" IN ('DIRECT', 'INDIRECT')`)
export class LineageFieldEdgeOrmEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'PK_lineage_field_edges' })
  id: string;

  @Column({ name: 'target_field_id', type: 'bigint' })
  targetFieldId: string;

  @ManyToOne(() => LineageFieldOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'target_field_id', foreignKeyConstraintName: 'FK_lineage_field_edges_target' })
  target?: LineageFieldOrmEntity;

  @Column({ name: 'source_field_id', type: 'bigint' })
  sourceFieldId: string;

  @ManyToOne(() => LineageFieldOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'source_field_id', foreignKeyConstraintName: 'FK_lineage_field_edges_source' })
  source?: LineageFieldOrmEntity;

  @Column({ type: 'varchar', length: 8 })
  type: 'DIRECT' | 'INDIRECT';

  @Column({ type: 'varchar', length: 16 })
  subtype: string;

  @Column({ name: 'job_id', type: 'bigint', nullable: true })
  jobId: string | null;

  @ManyToOne(() => LineageJobOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id', foreignKeyConstraintName: 'FK_lineage_field_edges_job' })
  job?: LineageJobOrmEntity;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}

/** lineage.events: every accepted OpenLineage event, as received. */
@Entity({ schema: 'lineage', name: 'events' })
@Index('IDX_lineage_events_run', ['runId'])
@Index('IDX_lineage_events_received', ['receivedAt'])
@Index('IDX_lineage_events_time', ['eventTime', 'id'])
@Check('CHK_lineage_events_kind', `"kind" IN ('RunEvent', 'DatasetEvent', 'JobEvent')`)
export class LineageEventOrmEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'PK_lineage_events' })
  id: string;

  @Column({ type: 'varchar', length: 12 })
  kind: string;

  @Column({ name: 'event_type', type: 'varchar', length: 16, nullable: true })
  eventType: string | null;

  @Column({ name: 'event_time', type: 'timestamptz' })
  eventTime: Date;

  @Column({ name: 'run_id', type: 'uuid', nullable: true })
  runId: string | null;

  @Column({ name: 'job_namespace', type: 'varchar', length: 1024, nullable: true })
  jobNamespace: string | null;

  @Column({ name: 'job_name', type: 'varchar', length: 1024, nullable: true })
  jobName: string | null;

  @Column({ type: 'text' })
  producer: string;

  @Column({ type: 'jsonb' })
  payload: unknown;

  /** Deviations of a leniently accepted event (formats, a missing schemaURL, run ids mapped to UUIDs); null when none. */
  @Column({ type: 'jsonb', nullable: true })
  warnings: unknown;

  @Column({ name: 'received_at', type: 'timestamptz', default: () => 'now()' })
  receivedAt: Date;
}

export const LINEAGE_ORM_ENTITIES: Function[] = [
  LineageNamespaceOrmEntity,
  LineageDatasetOrmEntity,
  LineageDatasetVersionOrmEntity,
  LineageFieldOrmEntity,
  LineageJobOrmEntity,
  LineageRunOrmEntity,
  LineageJobDatasetOrmEntity,
  LineageFieldEdgeOrmEntity,
  LineageEventOrmEntity,
];
