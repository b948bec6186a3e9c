import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Alerts and SLAs: orchestration.alert_destinations (webhooks), alert_deliveries (one per alert and
 * destination, retried until delivered or out of attempts) and sla_misses (one per pipeline and
 * scheduled time, so a miss is recorded once across instances).
 */
export class OrchestrationAlerts1763950000000 implements MigrationInterface {
  name = 'OrchestrationAlerts1763950000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "orchestration"."alert_destinations" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" character varying(63) NOT NULL,
        "url" text NOT NULL,
        "format" character varying(8) NOT NULL,
        "events" text array NOT NULL,
        "pipelines" text array,
        "created_by" character varying(200),
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_alert_destinations" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_alert_destinations_name" UNIQUE ("name"),
        CONSTRAINT "CHK_alert_destinations_format" CHECK ("format" IN ('json', 'slack'))
      )`);
    await q.query(`
      CREATE TABLE "orchestration"."alert_deliveries" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "destination_id" uuid NOT NULL,
        "alert_type" character varying(32) NOT NULL,
        "dedupe_key" character varying(300) NOT NULL,
        "pipeline" character varying(63),
        "payload" jsonb NOT NULL,
        "status" character varying(16) NOT NULL DEFAULT 'pending',
        "attempts" integer NOT NULL DEFAULT 0,
        "max_attempts" integer NOT NULL,
        "attempt_log" jsonb NOT NULL DEFAULT '[]',
        "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "last_error" text,
        "response_status" integer,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "delivered_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "PK_alert_deliveries" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_alert_deliveries_key" UNIQUE ("destination_id", "dedupe_key"),
        CONSTRAINT "CHK_alert_deliveries_status" CHECK ("status" IN ('pending', 'delivered', 'failed')),
        CONSTRAINT "FK_alert_deliveries_destination" FOREIGN KEY ("destination_id") REFERENCES "orchestration"."alert_destinations"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(
      `CREATE INDEX "IDX_alert_deliveries_due" ON "orchestration"."alert_deliveries" ("status", "next_attempt_at")`,
    );
    await q.query(`CREATE INDEX "IDX_alert_deliveries_created" ON "orchestration"."alert_deliveries" ("created_at")`);
    await q.query(`
      CREATE TABLE "orchestration"."sla_misses" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "pipeline_id" uuid NOT NULL,
        "run_id" uuid,
        "scheduled_for" TIMESTAMP WITH TIME ZONE NOT NULL,
        "deadline" TIMESTAMP WITH TIME ZONE NOT NULL,
        "run_status" character varying(16),
        "detected_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_sla_misses" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_sla_misses_pipeline_tick" UNIQUE ("pipeline_id", "scheduled_for"),
        CONSTRAINT "FK_sla_misses_pipeline" FOREIGN KEY ("pipeline_id") REFERENCES "orchestration"."pipelines"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "orchestration"."sla_misses"`);
    await q.query(`DROP INDEX "orchestration"."IDX_alert_deliveries_created"`);
    await q.query(`DROP INDEX "orchestration"."IDX_alert_deliveries_due"`);
    await q.query(`DROP TABLE "orchestration"."alert_deliveries"`);
    await q.query(`DROP TABLE "orchestration"."alert_destinations"`);
  }
}
