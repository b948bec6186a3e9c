import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { SourceOrmEntity } from './source.orm-entity';
import type { RunInput } from '../domain/source';

/** ingestion.runs: one accounted load. The accounting invariant is also a CHECK constraint. */
@Entity({ schema: 'ingestion', name: 'runs' })
@Index('IDX_runs_source_created', ['sourceId', 'createdAt'])
@Index('IDX_runs_idempotency', ['sourceId', 'idempotencyKey'])
@Check('CHK_runs_status', `"status" IN ('queued', 'running', 'succeeded', 'failed')`)
@Check(
  'CHK_runs_accounting',
  `"status" <> 'succeeded' OR "rows_read" = "rows_loaded" + "rows_rejected" + "rows_deduplicated"`,
)
export class RunOrmEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_runs' })
  id: string;

  @Column({ name: 'source_id', type: 'uuid' })
  sourceId: string;

  @ManyToOne(() => SourceOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'source_id', foreignKeyConstraintName: 'FK_runs_source' })
  source?: SourceOrmEntity;

  @Column({ type: 'varchar', length: 16 })
  status: string;

  /** api | upload | schedule | replay | cli */
  @Column({ type: 'varchar', length: 16 })
  trigger: string;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 200 })
  idempotencyKey: string;

  @Column({ type: 'jsonb' })
  input: RunInput;

  @Column({ name: 'created_by', type: 'varchar', length: 200, nullable: true })
  createdBy: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  /** Someone asked to cancel the run while it ran: its worker stops at its next heartbeat. */
  @Column({ name: 'cancel_requested_at', type: 'timestamptz', nullable: true })
  cancelRequestedAt: Date | null;

  @Column({ name: 'heartbeat_at', type: 'timestamptz', nullable: true })
  heartbeatAt: Date | null;

  /** The Weir instance running it (PresenceLock instance id), while and after it runs. */
  @Column({ name: 'claimed_by', type: 'varchar', length: 100, nullable: true })
  claimedBy: string | null;

  @Column({ name: 'bytes_read', type: 'bigint', default: 0 })
  bytesRead: string;

  @Column({ name: 'rows_read', type: 'bigint', default: 0 })
  rowsRead: string;

  @Column({ name: 'rows_loaded', type: 'bigint', default: 0 })
  rowsLoaded: string;

  @Column({ name: 'rows_rejected', type: 'bigint', default: 0 })
  rowsRejected: string;

  @Column({ name: 'rows_deduplicated', type: 'bigint', default: 0 })
  rowsDeduplicated: string;

  /** Source columns dropped by the discard_columns drift policy, with counts. */
  @Column({ name: 'columns_discarded', type: 'jsonb', nullable: true })
  columnsDiscarded: Record<string, number> | null;

  @Column({ name: 'watermark_before', type: 'text', nullable: true })
  watermarkBefore: string | null;

  @Column({ name: 'watermark_after', type: 'text', nullable: true })
  watermarkAfter: string | null;

  @Column({ type: 'jsonb', nullable: true })
  quality: unknown;

  @Column({ name: 'error_code', type: 'varchar', length: 64, nullable: true })
  errorCode: string | null;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage: string | null;
}
