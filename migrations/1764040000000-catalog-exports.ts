import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * catalog.exports: the partitions of a dataset exported to a Parquet lake target (incremental
 * exports write only partitions not listed here), and `platform.weir_read_rows(query)`, the
 * reader's set-returning twin of `platform.weir_read`: an export streams it with COPY … TO STDOUT
 * (PostgreSQL keeps the rows in a tuplestore, spilled to disk past work_mem, never in Weir's memory).
 */
export class CatalogExports1764040000000 implements MigrationInterface {
  name = 'CatalogExports1764040000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "catalog"."exports" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "dataset_id" uuid NOT NULL,
        "target" character varying(1000) NOT NULL,
        "partition" text NOT NULL,
        "partition_values" jsonb NOT NULL,
        "rows" bigint NOT NULL,
        "files" jsonb NOT NULL,
        "dataset_version" integer NOT NULL,
        "exported_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_exports" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_exports_dataset_target_partition" UNIQUE ("dataset_id", "target", "partition"),
        CONSTRAINT "FK_exports_dataset" FOREIGN KEY ("dataset_id") REFERENCES "catalog"."datasets"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`
      DO $$
      BEGIN
        IF to_regrole('weir_reader') IS NULL THEN
          RETURN;
        END IF;
        CREATE OR REPLACE FUNCTION platform.weir_read_rows(query text) RETURNS SETOF record
          LANGUAGE plpgsql SECURITY DEFINER AS $f$
          BEGIN
            RETURN QUERY EXECUTE query;
          END $f$;
        REVOKE ALL ON FUNCTION platform.weir_read_rows(text) FROM PUBLIC;
        GRANT CREATE ON SCHEMA platform TO weir_reader;
        ALTER FUNCTION platform.weir_read_rows(text) OWNER TO weir_reader;
        REVOKE CREATE ON SCHEMA platform FROM weir_reader;
        EXECUTE format('GRANT EXECUTE ON FUNCTION platform.weir_read_rows(text) TO %I', current_user);
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS platform.weir_read_rows(text)`);
    await q.query(`DROP TABLE "catalog"."exports"`);
  }
}
