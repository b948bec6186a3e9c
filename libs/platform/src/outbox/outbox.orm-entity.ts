import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * platform.outbox: events written in the same transaction as the state change they report, then
 * dispatched to their topic's handlers (at least once, in id order per topic, retried with backoff).
 */
@Entity({ schema: 'platform', name: 'outbox' })
// partial index (topic, available_at, id) WHERE dispatched_at IS NULL: created by the migration, not synchronised
@Index('IDX_outbox_pending', { synchronize: false })
// partial index (dispatched_at) WHERE dispatched_at IS NOT NULL, for retention: likewise
@Index('IDX_outbox_dispatched', { synchronize: false })
export class OutboxOrmEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'PK_outbox' })
  id: string;

  @Column({ type: 'varchar', length: 100 })
  topic: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  key: string | null;

  @Column({ type: 'jsonb' })
  payload: unknown;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'available_at', type: 'timestamptz', default: () => 'now()' })
  availableAt: Date;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'dispatched_at', type: 'timestamptz', nullable: true })
  dispatchedAt: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;
}
