import { MigrationInterface, QueryRunner } from 'typeorm';

/** catalog schema: datasets (current contract) and schema_changes (every version, classified). */
export class CatalogDatasets1763760000000 implements MigrationInterface {
  name = 'CatalogDatasets1763760000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA IF NOT EXISTS "catalog"`);
    await q.query(`
      CREATE TABLE "catalog"."datasets" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" character varying(63) NOT NULL,
        "warehouse_schema" character varying(63) NOT NULL,
        "warehouse_table" character varying(63) NOT NULL,
        "description" text,
        "owner" character varying(100),
        "tags" jsonb NOT NULL,
        "contract" jsonb NOT NULL,
        "version" integer NOT NULL,
        "last_load_at" TIMESTAMP WITH TIME ZONE,
        "last_load_run_id" uuid,
        "last_load_rows" bigint,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_datasets" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_datasets_name" UNIQUE ("name")
      )`);
    await q.query(`
      CREATE TABLE "catalog"."schema_changes" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "dataset_id" uuid NOT NULL,
        "version" integer NOT NULL,
        "kind" character varying(16) NOT NULL,
        "details" jsonb NOT NULL,
        "contract" jsonb NOT NULL,
        "changed_by" character varying(200) NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_schema_changes" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_schema_changes_dataset_version" UNIQUE ("dataset_id", "version"),
        CONSTRAINT "FK_schema_changes_dataset" FOREIGN KEY ("dataset_id") REFERENCES "catalog"."datasets"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "catalog"."schema_changes"`);
    await q.query(`DROP TABLE "catalog"."datasets"`);
    await q.query(`DROP SCHEMA IF EXISTS "catalog"`);
  }
}
