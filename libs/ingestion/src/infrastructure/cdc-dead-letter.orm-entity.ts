import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { SourceOrmEntity } from './source.orm-entity';

/** ingestion.cdc_dead_letters: a change of a CDC source that failed the contract, with its reason. */
@Entity({ schema: 'ingestion', name: 'cdc_dead_letters' })
@Index('IDX_ingestion_cdc_dead_letters_source', ['sourceId', 'createdAt'])
export class CdcDeadLetterOrmEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_ingestion_cdc_dead_letters' })
  id: string;

  @Column({ name: 'source_id', type: 'uuid' })
  sourceId: string;

  @ManyToOne(() => SourceOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'source_id', foreignKeyConstraintName: 'FK_ingestion_cdc_dead_letters_source' })
  source?: SourceOrmEntity;

  @Column({ type: 'varchar', length: 32 })
  lsn: string;

  @Column({ type: 'jsonb' })
  record: Record<string, unknown>;

  @Column({ type: 'varchar', length: 64 })
  reason: string;

  @Column({ type: 'text' })
  message: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
