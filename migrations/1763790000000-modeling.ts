import { MigrationInterface, QueryRunner } from 'typeorm';

/** modeling schema: projects, builds, build_steps. */
export class Modeling1763790000000 implements MigrationInterface {
  name = 'Modeling1763790000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA IF NOT EXISTS "modeling"`);
    await q.query(`
      CREATE TABLE "modeling"."projects" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" character varying(100) NOT NULL,
        "root_path" text NOT NULL,
        "model_schema" character varying(63) NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_projects" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_projects_name" UNIQUE ("name")
      )`);
    await q.query(`
      CREATE TABLE "modeling"."builds" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "project_id" uuid NOT NULL,
        "selector" text,
        "full_refresh" boolean NOT NULL,
        "status" character varying(16) NOT NULL,
        "started_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "finished_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "PK_builds" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_builds_status" CHECK ("status" IN ('running', 'succeeded', 'failed')),
        CONSTRAINT "FK_builds_project" FOREIGN KEY ("project_id") REFERENCES "modeling"."projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`
      CREATE TABLE "modeling"."build_steps" (
        "id" BIGSERIAL NOT NULL,
        "build_id" uuid NOT NULL,
        "node_id" character varying(200) NOT NULL,
        "materialized" character varying(20),
        "status" character varying(16) NOT NULL,
        "started_at" TIMESTAMP WITH TIME ZONE,
        "finished_at" TIMESTAMP WITH TIME ZONE,
        "rows_affected" bigint,
        "compiled_sql" text,
        "error" text,
        "refs" jsonb,
        CONSTRAINT "PK_build_steps" PRIMARY KEY ("id"),
        CONSTRAINT "FK_build_steps_build" FOREIGN KEY ("build_id") REFERENCES "modeling"."builds"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`CREATE INDEX "IDX_build_steps_build" ON "modeling"."build_steps" ("build_id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "modeling"."build_steps"`);
    await q.query(`DROP TABLE "modeling"."builds"`);
    await q.query(`DROP TABLE "modeling"."projects"`);
    await q.query(`DROP SCHEMA IF EXISTS "modeling"`);
  }
}
