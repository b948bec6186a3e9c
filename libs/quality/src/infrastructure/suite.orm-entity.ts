import { Column, DeleteDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { Expectation } from '../domain/expectations';

/** quality.suites: a named list of expectations attached to a dataset. */
@Entity({ schema: 'quality', name: 'suites' })
@Index('UQ_suites_name', ['name'], { unique: true, where: '"deleted_at" IS NULL' })
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

  /**
   * When it was deleted (soft: its history stays readable); null while it exists. TypeORM's reads
   * (find…) leave deleted rows out unless `withDeleted`; raw SQL says `deleted_at IS NULL` itself.
   */
  @DeleteDateColumn({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
}
