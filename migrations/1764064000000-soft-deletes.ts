import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Soft deletes where history must stay readable: a deleted source, quality suite, pipeline or
 * modeling project keeps its row (`deleted_at` set) so that its runs, builds, versions and dead
 * letters stay; its name is free again, so the unique names become partial unique indexes over
 * the rows not deleted (same names as the constraints they replace). A pipeline's keeper
 * (`managed_by`) is unique among the pipelines not deleted too.
 */
export class SoftDeletes1764064000000 implements MigrationInterface {
  name = 'SoftDeletes1764064000000';

  private readonly named: [schema: string, table: string, constraint: string][] = [
    ['ingestion', 'sources', 'UQ_sources_name'],
    ['quality', 'suites', 'UQ_suites_name'],
    ['orchestration', 'pipelines', 'UQ_pipelines_name'],
    ['modeling', 'projects', 'UQ_projects_name'],
  ];

  async up(q: QueryRunner): Promise<void> {
    for (const [schema, table, constraint] of this.named) {
      await q.query(`ALTER TABLE "${schema}"."${table}" ADD "deleted_at" TIMESTAMP WITH TIME ZONE`);
      await q.query(`ALTER TABLE "${schema}"."${table}" DROP CONSTRAINT "${constraint}"`);
      await q.query(
        `CREATE UNIQUE INDEX "${constraint}" ON "${schema}"."${table}" ("name") WHERE "deleted_at" IS NULL`,
      );
    }
    await q.query(`DROP INDEX "orchestration"."UQ_orchestration_pipelines_managed_by"`);
    await q.query(
      `CREATE UNIQUE INDEX "UQ_orchestration_pipelines_managed_by" ON "orchestration"."pipelines" ("managed_by") WHERE "deleted_at" IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    // the deleted rows go (with what cascades from them): the old unique names cannot hold them
    await q.query(`DROP INDEX "orchestration"."UQ_orchestration_pipelines_managed_by"`);
    for (const [schema, table] of this.named)
      await q.query(`DELETE FROM "${schema}"."${table}" WHERE "deleted_at" IS NOT NULL`);
    await q.query(
      `CREATE UNIQUE INDEX "UQ_orchestration_pipelines_managed_by" ON "orchestration"."pipelines" ("managed_by")`,
    );
    for (const [schema, table, constraint] of this.named) {
      await q.query(`DROP INDEX "${schema}"."${constraint}"`);
      await q.query(`ALTER TABLE "${schema}"."${table}" ADD CONSTRAINT "${constraint}" UNIQUE ("name")`);
      await q.query(`ALTER TABLE "${schema}"."${table}" DROP COLUMN "deleted_at"`);
    }
  }
}
