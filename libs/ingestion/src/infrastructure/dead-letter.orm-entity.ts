import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { RunOrmEntity } from './run.orm-entity';

/** ingestion.dead_letters: every rejected record with its reason (written with COPY, in batches). */
@Entity({ schema: 'ingestion', name: 'dead_letters' })
@Index('IDX_dead_letters_run_reason', ['runId', 'reason'])
export class DeadLetterOrmEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'PK_dead_letters' })
  id: string;

  @Column({ name: 'run_id', type: 'uuid' })
  runId: string;

  @ManyToOne(() => RunOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'FK_dead_letters_run' })
  run?: RunOrmEntity;

  /** 1-based record number in the input (data records, header excluded). */
  @Column({ name: 'record_number', type: 'bigint' })
  recordNumber: string;

  @Column({ type: 'varchar', length: 32 })
  reason: string;

  @Column({ name: 'column_name', type: 'varchar', length: 63, nullable: true })
  columnName: string | null;

  /** The offending value; `***` for PII columns. */
  @Column({ type: 'text', nullable: true })
  value: string | null;

  @Column({ type: 'text' })
  message: string;

  /** The record as read ({field: value}); PII is masked when served over HTTP. */
  @Column({ name: 'raw_record', type: 'jsonb', nullable: true })
  rawRecord: Record<string, unknown> | null;

  /** For unparseable input: the raw text. */
  @Column({ name: 'raw_text', type: 'text', nullable: true })
  rawText: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
