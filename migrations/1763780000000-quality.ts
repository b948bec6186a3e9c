import { MigrationInterface, QueryRunner } from 'typeorm';

/** quality schema: suites, runs, results (evidence), metrics (history). */
export class Quality1763780000000 implements MigrationInterface {
  name = 'Quality1763780000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA IF NOT EXISTS "quality"`);
    await q.query(`
      CREATE TABLE "quality"."suites" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" character varying(100) NOT NULL,
        "dataset" character varying(63) NOT NULL,
        "expectations" jsonb NOT NULL,
        "meta" jsonb,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_suites" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_suites_name" UNIQUE ("name")
      )`);
    await q.query(`
      CREATE TABLE "quality"."runs" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "suite_id" uuid NOT NULL,
        "dataset" character varying(63) NOT NULL,
        "target_schema" character varying(63) NOT NULL,
        "target_table" character varying(63) NOT NULL,
        "status" character varying(16) NOT NULL,
        "trigger" character varying(16) NOT NULL,
        "trigger_ref" character varying(100),
        "started_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "finished_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "row_count" bigint NOT NULL,
        CONSTRAINT "PK_quality_runs" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_quality_runs_status" CHECK ("status" IN ('passed', 'warned', 'failed')),
        CONSTRAINT "FK_quality_runs_suite" FOREIGN KEY ("suite_id") REFERENCES "quality"."suites"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`CREATE INDEX "IDX_quality_runs_suite_started" ON "quality"."runs" ("suite_id", "started_at")`);
    await q.query(`
      CREATE TABLE "quality"."results" (
        "id" BIGSERIAL NOT NULL,
        "run_id" uuid NOT NULL,
        "expectation_index" integer NOT NULL,
        "expectation_type" character varying(100) NOT NULL,
        "kwargs" jsonb NOT NULL,
        "severity" character varying(8) NOT NULL,
        "success" boolean NOT NULL,
        "evidence" jsonb NOT NULL,
        "exception" text,
        CONSTRAINT "PK_quality_results" PRIMARY KEY ("id"),
        CONSTRAINT "FK_quality_results_run" FOREIGN KEY ("run_id") REFERENCES "quality"."runs"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`CREATE INDEX "IDX_quality_results_run" ON "quality"."results" ("run_id")`);
    await q.query(`
      CREATE TABLE "quality"."metrics" (
        "id" BIGSERIAL NOT NULL,
        "dataset" character varying(63) NOT NULL,
        "run_id" uuid NOT NULL,
        "metric" character varying(200) NOT NULL,
        "value" double precision NOT NULL,
        "recorded_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_quality_metrics" PRIMARY KEY ("id"),
        CONSTRAINT "FK_quality_metrics_run" FOREIGN KEY ("run_id") REFERENCES "quality"."runs"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(
      `CREATE INDEX "IDX_quality_metrics_dataset_metric" ON "quality"."metrics" ("dataset", "metric", "recorded_at")`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "quality"."metrics"`);
    await q.query(`DROP TABLE "quality"."results"`);
    await q.query(`DROP TABLE "quality"."runs"`);
    await q.query(`DROP TABLE "quality"."suites"`);
    await q.query(`DROP SCHEMA IF EXISTS "quality"`);
  }
}
