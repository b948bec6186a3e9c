import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * ingestion.schedule_ticks: one row per (source, scheduled time). Inserting it claims the tick,
 * so with several instances on one database each tick runs once.
 */
@Entity({ schema: 'ingestion', name: 'schedule_ticks' })
export class ScheduleTickOrmEntity {
  @PrimaryColumn({ name: 'source_id', type: 'uuid', primaryKeyConstraintName: 'PK_schedule_ticks' })
  sourceId: string;

  @PrimaryColumn({ name: 'scheduled_at', type: 'timestamptz', primaryKeyConstraintName: 'PK_schedule_ticks' })
  scheduledAt: Date;

  @Column({ name: 'claimed_by', type: 'varchar', length: 200 })
  claimedBy: string;

  @Column({ name: 'claimed_at', type: 'timestamptz', default: () => 'now()' })
  claimedAt: Date;

  @Column({ name: 'run_ids', type: 'jsonb' })
  runIds: string[];
}
