import { Column, DeleteDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** modeling.projects: a registered dbt-layout project (its files stay where they are). */
@Entity({ schema: 'modeling', name: 'projects' })
@Index('UQ_projects_name', ['name'], { unique: true, where: '"deleted_at" IS NULL' })
export class ProjectOrmEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_projects' })
  id: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ name: 'root_path', type: 'text' })
  rootPath: string;

  /** Default warehouse schema of models (dbt's target schema). */
  @Column({ name: 'model_schema', type: 'varchar', length: 63 })
  modelSchema: string;

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
