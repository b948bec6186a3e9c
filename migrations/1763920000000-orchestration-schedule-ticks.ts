import { MigrationInterface, QueryRunner } from 'typeorm';

/** orchestration.schedule_ticks: one row per (pipeline, scheduled time), claimed once across instances. */
export class OrchestrationScheduleTicks1763920000000 implements MigrationInterface {
  name = 'OrchestrationScheduleTicks1763920000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "orchestration"."schedule_ticks" (
        "pipeline_id" uuid NOT NULL,
        "scheduled_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "claimed_by" character varying(100) NOT NULL,
        "run_id" uuid,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_orchestration_schedule_ticks" PRIMARY KEY ("pipeline_id", "scheduled_at"),
        CONSTRAINT "FK_orchestration_schedule_ticks_pipeline" FOREIGN KEY ("pipeline_id") REFERENCES "orchestration"."pipelines"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "orchestration"."schedule_ticks"`);
  }
}
