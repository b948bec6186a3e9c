import { Check, Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** orchestration.alert_destinations: a webhook that alerts are posted to (json or Slack blocks). */
@Entity({ schema: 'orchestration', name: 'alert_destinations' })
@Unique('UQ_alert_destinations_name', ['name'])
@Check('CHK_alert_destinations_format', `"format" IN ('json', 'slack')`)
export class AlertDestinationOrmEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_alert_destinations' })
  id: string;

  @Column({ type: 'varchar', length: 63 })
  name: string;

  /** The webhook URL (a secret: shown masked, never logged). */
  @Column({ type: 'text' })
  url: string;

  @Column({ type: 'varchar', length: 8 })
  format: string;

  @Column({ type: 'text', array: true })
  events: string[];

  /** Only these pipelines' alerts (null: any). */
  @Column({ type: 'text', array: true, nullable: true })
  pipelines: string[] | null;

  @Column({ name: 'created_by', type: 'varchar', length: 200, nullable: true })
  createdBy: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
