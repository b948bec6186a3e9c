import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { AlertDestinationOrmEntity } from './alert-destination.orm-entity';

/** orchestration.alert_deliveries: one alert to one destination, each attempt recorded, retried with backoff. */
@Entity({ schema: 'orchestration', name: 'alert_deliveries' })
@Unique('UQ_alert_deliveries_key', ['destinationId', 'dedupeKey'])
@Index('IDX_alert_deliveries_due', ['status', 'nextAttemptAt'])
@Index('IDX_alert_deliveries_created', ['createdAt'])
@Check('CHK_alert_deliveries_status', `"status" IN ('pending', 'delivered', 'failed')`)
export class AlertDeliveryOrmEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_alert_deliveries' })
  id: string;

  @Column({ name: 'destination_id', type: 'uuid' })
  destinationId: string;

  @ManyToOne(() => AlertDestinationOrmEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'destination_id', foreignKeyConstraintName: 'FK_alert_deliveries_destination' })
  destination?: AlertDestinationOrmEntity;

  @Column({ name: 'alert_type', type: 'varchar', length: 32 })
  alertType: string;

  /** What the alert is about (`run_failed:<run>`, …): an alert is recorded once per destination. */
  @Column({ name: 'dedupe_key', type: 'varchar', length: 300 })
  dedupeKey: string;

  @Column({ type: 'varchar', length: 63, nullable: true })
  pipeline: string | null;

  /** The body posted (in the destination's format). */
  @Column({ type: 'jsonb' })
  payload: Record<string, unknown>;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: string;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'max_attempts', type: 'integer' })
  maxAttempts: number;

  /** Every attempt: { attempt, at, status?, error?, ms }. */
  @Column({ name: 'attempt_log', type: 'jsonb', default: () => "'[]'" })
  attemptLog: unknown[];

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'response_status', type: 'integer', nullable: true })
  responseStatus: number | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;
}
