import { MigrationInterface, QueryRunner } from 'typeorm';

/** orchestration schema: pipelines and their versions, runs and step runs (the run queue). */
export class Orchestration1763910000000 implements MigrationInterface {
  name = 'Orchestration1763910000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA IF NOT EXISTS "orchestration"`);
    await q.query(`
      CREATE TABLE "orchestration"."pipelines" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" character varying(63) NOT NULL,
        "version" integer NOT NULL,
        "spec" jsonb NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_pipelines" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_pipelines_name" UNIQUE ("name")
      )`);
    await q.query(`
      CREATE TABLE "orchestration"."pipeline_versions" (
        "pipeline_id" uuid NOT NULL,
        "version" integer NOT NULL,
        "spec" jsonb NOT NULL,
        "created_by" character varying(200),
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_pipeline_versions" PRIMARY KEY ("pipeline_id", "version"),
        CONSTRAINT "FK_pipeline_versions_pipeline" FOREIGN KEY ("pipeline_id") REFERENCES "orchestration"."pipelines"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`
      CREATE TABLE "orchestration"."runs" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "pipeline_id" uuid NOT NULL,
        "version" integer NOT NULL,
        "status" character varying(16) NOT NULL,
        "trigger" character varying(16) NOT NULL,
        "partition" character varying(200),
        "params" jsonb NOT NULL DEFAULT '{}',
        "idempotency_key" character varying(200) NOT NULL,
        "created_by" character varying(200),
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "started_at" TIMESTAMP WITH TIME ZONE,
        "finished_at" TIMESTAMP WITH TIME ZONE,
        "error" text,
        CONSTRAINT "PK_orchestration_runs" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_orchestration_runs_status" CHECK ("status" IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
        CONSTRAINT "FK_orchestration_runs_pipeline" FOREIGN KEY ("pipeline_id") REFERENCES "orchestration"."pipelines"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(
      `CREATE INDEX "IDX_orchestration_runs_pipeline_created" ON "orchestration"."runs" ("pipeline_id", "created_at")`,
    );
    await q.query(
      `CREATE INDEX "IDX_orchestration_runs_key" ON "orchestration"."runs" ("pipeline_id", "idempotency_key")`,
    );
    await q.query(`
      CREATE TABLE "orchestration"."step_runs" (
        "id" BIGSERIAL NOT NULL,
        "run_id" uuid NOT NULL,
        "step_id" character varying(100) NOT NULL,
        "kind" character varying(16) NOT NULL,
        "status" character varying(16) NOT NULL,
        "attempt" integer NOT NULL DEFAULT 0,
        "max_attempts" integer NOT NULL,
        "ready_at" TIMESTAMP WITH TIME ZONE,
        "lease_owner" character varying(100),
        "lease_expires_at" TIMESTAMP WITH TIME ZONE,
        "started_at" TIMESTAMP WITH TIME ZONE,
        "finished_at" TIMESTAMP WITH TIME ZONE,
        "error_code" character varying(100),
        "error" text,
        "ref" jsonb,
        "output" jsonb,
        CONSTRAINT "PK_step_runs" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_step_runs_run_step" UNIQUE ("run_id", "step_id"),
        CONSTRAINT "CHK_step_runs_status" CHECK ("status" IN ('pending', 'queued', 'running', 'retrying', 'succeeded', 'failed', 'skipped', 'cancelled')),
        CONSTRAINT "FK_step_runs_run" FOREIGN KEY ("run_id") REFERENCES "orchestration"."runs"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`CREATE INDEX "IDX_step_runs_ready" ON "orchestration"."step_runs" ("status", "ready_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "orchestration"."step_runs"`);
    await q.query(`DROP TABLE "orchestration"."runs"`);
    await q.query(`DROP TABLE "orchestration"."pipeline_versions"`);
    await q.query(`DROP TABLE "orchestration"."pipelines"`);
    await q.query(`DROP SCHEMA IF EXISTS "orchestration"`);
  }
}
