import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ingestion sources' schedules become one-step pipelines of the orchestration slice (one scheduler
 * in the code base): a pipeline records what manages it (`managed_by`, e.g. `ingestion:source:<id>`);
 * ingestion's own tick table goes (orchestration.schedule_ticks claims every tick now).
 */
export class SourceSchedulesAsPipelines1763980000000 implements MigrationInterface {
  name = 'SourceSchedulesAsPipelines1763980000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "orchestration"."pipelines" ADD "managed_by" character varying(200)`);
    await q.query(
      `CREATE UNIQUE INDEX "UQ_orchestration_pipelines_managed_by" ON "orchestration"."pipelines" ("managed_by")`,
    );
    await q.query(`DROP TABLE "ingestion"."schedule_ticks"`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "ingestion"."schedule_ticks" (
        "source_id" uuid NOT NULL,
        "scheduled_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "claimed_by" character varying(200) NOT NULL,
        "claimed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "run_ids" jsonb NOT NULL,
        CONSTRAINT "PK_schedule_ticks" PRIMARY KEY ("source_id", "scheduled_at")
      )`);
    await q.query(`DROP INDEX "orchestration"."UQ_orchestration_pipelines_managed_by"`);
    await q.query(`ALTER TABLE "orchestration"."pipelines" DROP COLUMN "managed_by"`);
  }
}
