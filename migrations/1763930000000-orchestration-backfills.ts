import { MigrationInterface, QueryRunner } from 'typeorm';

/** orchestration.backfills, the backfill of a run, and the index the partitions page reads. */
export class OrchestrationBackfills1763930000000 implements MigrationInterface {
  name = 'OrchestrationBackfills1763930000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "orchestration"."backfills" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "pipeline_id" uuid NOT NULL,
        "partitions" text array NOT NULL,
        "next_index" integer NOT NULL DEFAULT 0,
        "max_parallel" integer NOT NULL,
        "status" character varying(16) NOT NULL,
        "created_by" character varying(200),
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "finished_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "PK_backfills" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_backfills_status" CHECK ("status" IN ('running', 'paused', 'cancelled', 'succeeded', 'failed')),
        CONSTRAINT "FK_backfills_pipeline" FOREIGN KEY ("pipeline_id") REFERENCES "orchestration"."pipelines"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`ALTER TABLE "orchestration"."runs" ADD "backfill_id" uuid`);
    await q.query(
      `CREATE INDEX "IDX_orchestration_runs_partition" ON "orchestration"."runs" ("pipeline_id", "partition", "created_at")`,
    );
    await q.query(`CREATE INDEX "IDX_orchestration_runs_backfill" ON "orchestration"."runs" ("backfill_id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "orchestration"."IDX_orchestration_runs_backfill"`);
    await q.query(`DROP INDEX "orchestration"."IDX_orchestration_runs_partition"`);
    await q.query(`ALTER TABLE "orchestration"."runs" DROP COLUMN "backfill_id"`);
    await q.query(`DROP TABLE "orchestration"."backfills"`);
  }
}
