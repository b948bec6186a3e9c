import { Column, Entity, PrimaryColumn } from 'typeorm';

/** ingestion.inbox_files: files a scheduled source picked up from its inbox, each once (by checksum). */
@Entity({ schema: 'ingestion', name: 'inbox_files' })
export class InboxFileOrmEntity {
  @PrimaryColumn({ name: 'source_id', type: 'uuid', primaryKeyConstraintName: 'PK_inbox_files' })
  sourceId: string;

  @PrimaryColumn({ type: 'char', length: 64, primaryKeyConstraintName: 'PK_inbox_files' })
  checksum: string;

  @Column({ type: 'text' })
  path: string;

  @Column({ name: 'run_id', type: 'uuid' })
  runId: string;

  @Column({ name: 'seen_at', type: 'timestamptz', default: () => 'now()' })
  seenAt: Date;
}
