import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * orchestration.dataset_updates: for a data-aware schedule waiting for all of its datasets, the
 * updates seen since its last run (one row per pipeline and dataset, the latest update).
 */
export class OrchestrationDatasetUpdates1763945000000 implements MigrationInterface {
  name = 'OrchestrationDatasetUpdates1763945000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "orchestration"."dataset_updates" (
        "pipeline_id" uuid NOT NULL,
        "dataset" character varying(200) NOT NULL,
        "event_id" bigint NOT NULL,
        "run_id" character varying(64) NOT NULL,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_orchestration_dataset_updates" PRIMARY KEY ("pipeline_id", "dataset"),
        CONSTRAINT "FK_orchestration_dataset_updates_pipeline" FOREIGN KEY ("pipeline_id") REFERENCES "orchestration"."pipelines"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "orchestration"."dataset_updates"`);
  }
}
