import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * platform.outbox: the transactional outbox (an event row written in the same transaction as the
 * state change it reports, then dispatched).
 * lineage schema: the graph store fed by OpenLineage events: namespaces, datasets with schema
 * versions, fields, jobs, runs, job-reads/writes-dataset edges, field-derives-from-field edges, and
 * the raw events as received.
 */
export class LineageAndOutbox1763810000000 implements MigrationInterface {
  name = 'LineageAndOutbox1763810000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "platform"."outbox" (
        "id" BIGSERIAL NOT NULL,
        "topic" character varying(100) NOT NULL,
        "key" character varying(200),
        "payload" jsonb NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "available_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "attempts" integer NOT NULL DEFAULT 0,
        "dispatched_at" TIMESTAMP WITH TIME ZONE,
        "last_error" text,
        CONSTRAINT "PK_outbox" PRIMARY KEY ("id")
      )`);
    await q.query(
      `CREATE INDEX "IDX_outbox_pending" ON "platform"."outbox" ("topic", "available_at", "id") WHERE "dispatched_at" IS NULL`,
    );

    await q.query(`CREATE SCHEMA IF NOT EXISTS "lineage"`);
    await q.query(`
      CREATE TABLE "lineage"."namespaces" (
        "name" character varying(1024) NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_lineage_namespaces" PRIMARY KEY ("name")
      )`);
    await q.query(`
      CREATE TABLE "lineage"."datasets" (
        "id" BIGSERIAL NOT NULL,
        "namespace" character varying(1024) NOT NULL,
        "name" character varying(1024) NOT NULL,
        "current_version" integer NOT NULL DEFAULT 0,
        "facets" jsonb NOT NULL DEFAULT '{}',
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_lineage_datasets" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_lineage_datasets_name" UNIQUE ("namespace", "name"),
        CONSTRAINT "FK_lineage_datasets_namespace" FOREIGN KEY ("namespace") REFERENCES "lineage"."namespaces"("name") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`
      CREATE TABLE "lineage"."dataset_versions" (
        "dataset_id" bigint NOT NULL,
        "version" integer NOT NULL,
        "fields" jsonb NOT NULL,
        "run_id" uuid,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_lineage_dataset_versions" PRIMARY KEY ("dataset_id", "version"),
        CONSTRAINT "FK_lineage_dataset_versions_dataset" FOREIGN KEY ("dataset_id") REFERENCES "lineage"."datasets"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`
      CREATE TABLE "lineage"."fields" (
        "id" BIGSERIAL NOT NULL,
        "dataset_id" bigint NOT NULL,
        "name" character varying(1024) NOT NULL,
        "type" character varying(1024),
        "description" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_lineage_fields" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_lineage_fields_name" UNIQUE ("dataset_id", "name"),
        CONSTRAINT "FK_lineage_fields_dataset" FOREIGN KEY ("dataset_id") REFERENCES "lineage"."datasets"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`
      CREATE TABLE "lineage"."jobs" (
        "id" BIGSERIAL NOT NULL,
        "namespace" character varying(1024) NOT NULL,
        "name" character varying(1024) NOT NULL,
        "facets" jsonb NOT NULL DEFAULT '{}',
        "latest_run_id" uuid,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_lineage_jobs" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_lineage_jobs_name" UNIQUE ("namespace", "name"),
        CONSTRAINT "FK_lineage_jobs_namespace" FOREIGN KEY ("namespace") REFERENCES "lineage"."namespaces"("name") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`
      CREATE TABLE "lineage"."runs" (
        "id" uuid NOT NULL,
        "job_id" bigint NOT NULL,
        "state" character varying(16) NOT NULL,
        "parent_run_id" uuid,
        "nominal_start_time" TIMESTAMP WITH TIME ZONE,
        "nominal_end_time" TIMESTAMP WITH TIME ZONE,
        "started_at" TIMESTAMP WITH TIME ZONE,
        "ended_at" TIMESTAMP WITH TIME ZONE,
        "event_time" TIMESTAMP WITH TIME ZONE NOT NULL,
        "facets" jsonb NOT NULL DEFAULT '{}',
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_lineage_runs" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_lineage_runs_state" CHECK ("state" IN ('START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER')),
        CONSTRAINT "FK_lineage_runs_job" FOREIGN KEY ("job_id") REFERENCES "lineage"."jobs"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`CREATE INDEX "IDX_lineage_runs_job" ON "lineage"."runs" ("job_id", "event_time")`);
    await q.query(`
      CREATE TABLE "lineage"."job_datasets" (
        "job_id" bigint NOT NULL,
        "direction" character varying(6) NOT NULL,
        "dataset_id" bigint NOT NULL,
        "column_lineage_hash" character varying(64),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_lineage_job_datasets" PRIMARY KEY ("job_id", "direction", "dataset_id"),
        CONSTRAINT "CHK_lineage_job_datasets_direction" CHECK ("direction" IN ('input', 'output')),
        CONSTRAINT "FK_lineage_job_datasets_job" FOREIGN KEY ("job_id") REFERENCES "lineage"."jobs"("id") ON DELETE CASCADE ON UPDATE NO ACTION,
        CONSTRAINT "FK_lineage_job_datasets_dataset" FOREIGN KEY ("dataset_id") REFERENCES "lineage"."datasets"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(
      `CREATE INDEX "IDX_lineage_job_datasets_dataset" ON "lineage"."job_datasets" ("dataset_id", "direction", "job_id")`,
    );
    await q.query(`
      CREATE TABLE "lineage"."field_edges" (
        "id" BIGSERIAL NOT NULL,
        "target_field_id" bigint NOT NULL,
        "source_field_id" bigint NOT NULL,
        "type" character varying(8) NOT NULL,
        "subtype" character varying(16) NOT NULL,
        "job_id" bigint,
        "description" text,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_lineage_field_edges" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_lineage_field_edges_type" CHECK ("type" IN ('DIRECT', 'INDIRECT')),
        CONSTRAINT "FK_lineage_field_edges_target" FOREIGN KEY ("target_field_id") REFERENCES "lineage"."fields"("id") ON DELETE CASCADE ON UPDATE NO ACTION,
        CONSTRAINT "FK_lineage_field_edges_source" FOREIGN KEY ("source_field_id") REFERENCES "lineage"."fields"("id") ON DELETE CASCADE ON UPDATE NO ACTION,
        CONSTRAINT "FK_lineage_field_edges_job" FOREIGN KEY ("job_id") REFERENCES "lineage"."jobs"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    // one edge per job that asserts it (a DatasetEvent's lineage has no job: 0)
    await q.query(
      `CREATE UNIQUE INDEX "UQ_lineage_field_edges" ON "lineage"."field_edges" ("target_field_id", "source_field_id", "type", "subtype", (COALESCE("job_id", 0)))`,
    );
    await q.query(
      `CREATE INDEX "IDX_lineage_field_edges_source" ON "lineage"."field_edges" ("source_field_id", "target_field_id")`,
    );
    await q.query(`CREATE INDEX "IDX_lineage_field_edges_job" ON "lineage"."field_edges" ("job_id")`);
    await q.query(`
      CREATE TABLE "lineage"."events" (
        "id" BIGSERIAL NOT NULL,
        "kind" character varying(12) NOT NULL,
        "event_type" character varying(16),
        "event_time" TIMESTAMP WITH TIME ZONE NOT NULL,
        "run_id" uuid,
        "job_namespace" character varying(1024),
        "job_name" character varying(1024),
        "producer" text NOT NULL,
        "payload" jsonb NOT NULL,
        "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_lineage_events" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_lineage_events_kind" CHECK ("kind" IN ('RunEvent', 'DatasetEvent', 'JobEvent'))
      )`);
    await q.query(`CREATE INDEX "IDX_lineage_events_run" ON "lineage"."events" ("run_id")`);
    await q.query(`CREATE INDEX "IDX_lineage_events_received" ON "lineage"."events" ("received_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP SCHEMA "lineage" CASCADE`);
    await q.query(`DROP TABLE "platform"."outbox"`);
  }
}
