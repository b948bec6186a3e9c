import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { SourceOrmEntity } from './source.orm-entity';

/**
 * ingestion.cdc_streams: a `postgres_cdc` source's stream — state, slot and publication, the LSN
 * confirmed with the last applied batch, the consumer's lease, counts and slot lag.
 */
@Entity({ schema: 'ingestion', name: 'cdc_streams' })
export class CdcStreamOrmEntity {
  @PrimaryColumn({ name: 'source_id', type: 'uuid', primaryKeyConstraintName: 'PK_ingestion_cdc_streams' })
  sourceId: string;

  @ManyToOne(() => SourceOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'source_id', foreignKeyConstraintName: 'FK_ingestion_cdc_streams_source' })
  source?: SourceOrmEntity;

  @Column({ type: 'varchar', length: 16 })
  state: string;

  @Column({ type: 'varchar', length: 63 })
  slot: string;

  @Column({ type: 'varchar', length: 63 })
  publication: string;

  @Column({ name: 'confirmed_lsn', type: 'varchar', length: 32, nullable: true })
  confirmedLsn: string | null;

  @Column({ name: 'lease_owner', type: 'varchar', length: 32, nullable: true })
  leaseOwner: string | null;

  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true })
  leaseUntil: Date | null;

  @Column({ name: 'changes_read', type: 'bigint', default: 0 })
  changesRead: string;

  @Column({ name: 'changes_applied', type: 'bigint', default: 0 })
  changesApplied: string;

  @Column({ name: 'changes_deduplicated', type: 'bigint', default: 0 })
  changesDeduplicated: string;

  @Column({ name: 'dead_letters', type: 'bigint', default: 0 })
  deadLetters: string;

  @Column({ name: 'lag_bytes', type: 'bigint', nullable: true })
  lagBytes: string | null;

  @Column({ name: 'lag_alert', type: 'boolean', default: false })
  lagAlert: boolean;

  @Column({ name: 'last_change_at', type: 'timestamptz', nullable: true })
  lastChangeAt: Date | null;

  @Column({ name: 'last_applied_at', type: 'timestamptz', nullable: true })
  lastAppliedAt: Date | null;

  @Column({ name: 'error_code', type: 'varchar', length: 64, nullable: true })
  errorCode: string | null;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
