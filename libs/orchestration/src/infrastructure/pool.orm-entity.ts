import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/** orchestration.pools: a named concurrency limit shared by the steps of every pipeline, on every instance. */
@Entity({ schema: 'orchestration', name: 'pools' })
@Check('CHK_pools_slots', `"slots" >= 0 AND "slots" <= 10000`)
export class PoolOrmEntity {
  @PrimaryColumn({ type: 'varchar', length: 63, primaryKeyConstraintName: 'PK_pools' })
  name: string;

  /** Step runs of the pool running at once (0 holds the pool's steps queued). */
  @Column({ type: 'integer' })
  slots: number;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ name: 'updated_by', type: 'varchar', length: 200, nullable: true })
  updatedBy: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
