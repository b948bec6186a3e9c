import { MigrationInterface, QueryRunner } from 'typeorm';

/** ingestion schema: sources, runs (accounted), dead_letters, schedule_ticks, inbox_files. */
export class Ingestion1763770000000 implements MigrationInterface {
  name = 'Ingestion1763770000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA IF NOT EXISTS "ingestion"`);
    await q.query(`
      CREATE TABLE "ingestion"."sources" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" character varying(63) NOT NULL,
        "dataset" character varying(63) NOT NULL,
        "format" character varying(16) NOT NULL,
        "location" jsonb NOT NULL,
        "strategy" jsonb NOT NULL,
        "drift" character varying(20) NOT NULL,
        "options" jsonb NOT NULL,
        "max_rejected_ratio" double precision NOT NULL,
        "schedule" jsonb,
        "watermark" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_sources" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_sources_name" UNIQUE ("name")
      )`);
    await q.query(`
      CREATE TABLE "ingestion"."runs" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "source_id" uuid NOT NULL,
        "status" character varying(16) NOT NULL,
        "trigger" character varying(16) NOT NULL,
        "idempotency_key" character varying(200) NOT NULL,
        "input" jsonb NOT NULL,
        "created_by" character varying(200),
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "started_at" TIMESTAMP WITH TIME ZONE,
        "finished_at" TIMESTAMP WITH TIME ZONE,
        "heartbeat_at" TIMESTAMP WITH TIME ZONE,
        "bytes_read" bigint NOT NULL DEFAULT '0',
        "rows_read" bigint NOT NULL DEFAULT '0',
        "rows_loaded" bigint NOT NULL DEFAULT '0',
        "rows_rejected" bigint NOT NULL DEFAULT '0',
        "rows_deduplicated" bigint NOT NULL DEFAULT '0',
        "columns_discarded" jsonb,
        "watermark_before" text,
        "watermark_after" text,
        "quality" jsonb,
        "error_code" character varying(64),
        "error_message" text,
        CONSTRAINT "PK_runs" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_runs_status" CHECK ("status" IN ('queued', 'running', 'succeeded', 'failed')),
        CONSTRAINT "CHK_runs_accounting" CHECK ("status" <> 'succeeded' OR "rows_read" = "rows_loaded" + "rows_rejected" + "rows_deduplicated"),
        CONSTRAINT "FK_runs_source" FOREIGN KEY ("source_id") REFERENCES "ingestion"."sources"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`CREATE INDEX "IDX_runs_source_created" ON "ingestion"."runs" ("source_id", "created_at")`);
    await q.query(`CREATE INDEX "IDX_runs_idempotency" ON "ingestion"."runs" ("source_id", "idempotency_key")`);
    await q.query(`
      CREATE TABLE "ingestion"."dead_letters" (
        "id" BIGSERIAL NOT NULL,
        "run_id" uuid NOT NULL,
        "record_number" bigint NOT NULL,
        "reason" character varying(32) NOT NULL,
        "column_name" character varying(63),
        "value" text,
        "message" text NOT NULL,
        "raw_record" jsonb,
        "raw_text" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_dead_letters" PRIMARY KEY ("id"),
        CONSTRAINT "FK_dead_letters_run" FOREIGN KEY ("run_id") REFERENCES "ingestion"."runs"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`CREATE INDEX "IDX_dead_letters_run_reason" ON "ingestion"."dead_letters" ("run_id", "reason")`);
    await q.query(`
      CREATE TABLE "ingestion"."schedule_ticks" (
        "source_id" uuid NOT NULL,
        "scheduled_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "claimed_by" character varying(200) NOT NULL,
        "claimed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "run_ids" jsonb NOT NULL,
        CONSTRAINT "PK_schedule_ticks" PRIMARY KEY ("source_id", "scheduled_at")
      )`);
    await q.query(`
      CREATE TABLE "ingestion"."inbox_files" (
        "source_id" uuid NOT NULL,
        "checksum" character(64) NOT NULL,
        "path" text NOT NULL,
        "run_id" uuid NOT NULL,
        "seen_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_inbox_files" PRIMARY KEY ("source_id", "checksum")
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "ingestion"."inbox_files"`);
    await q.query(`DROP TABLE "ingestion"."schedule_ticks"`);
    await q.query(`DROP TABLE "ingestion"."dead_letters"`);
    await q.query(`DROP TABLE "ingestion"."runs"`);
    await q.query(`DROP TABLE "ingestion"."sources"`);
    await q.query(`DROP SCHEMA IF EXISTS "ingestion"`);
  }
}
