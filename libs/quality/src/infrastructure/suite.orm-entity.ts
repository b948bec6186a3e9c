import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { Expectation } from '../domain/expectations';

/** quality.suites: a named list of expectations attached to a dataset. */
@Entity({ schema: 'quality', name: 'suites' })
@Unique('UQ_suites_name', ['name'])
export class SuiteOrmEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_suites' })
  id: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'varchar', length: 63 })
  dataset: string;

  @Column({ type: 'jsonb' })
  expectations: Expectation[];

  @Column({ type: 'jsonb', nullable: true })
  meta: Record<string, unknown> | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
