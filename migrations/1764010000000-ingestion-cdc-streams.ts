import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * CDC sources (`postgres_cdc`): ingestion.cdc_streams holds each stream's state, its slot and
 * publication, the confirmed LSN (written in the same transaction as the batch it covers), the
 * consumer's lease (one consumer per source across instances) and its counts; ingestion.
 * cdc_dead_letters the changes that failed the contract, with their reason.
 */
export class IngestionCdcStreams1764010000000 implements MigrationInterface {
  name = 'IngestionCdcStreams1764010000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "ingestion"."cdc_streams" (
        "source_id" uuid NOT NULL,
        "state" character varying(16) NOT NULL,
        "slot" character varying(63) NOT NULL,
        "publication" character varying(63) NOT NULL,
        "confirmed_lsn" character varying(32),
        "lease_owner" character varying(32),
        "lease_until" TIMESTAMP WITH TIME ZONE,
        "changes_read" bigint NOT NULL DEFAULT 0,
        "changes_applied" bigint NOT NULL DEFAULT 0,
        "changes_deduplicated" bigint NOT NULL DEFAULT 0,
        "dead_letters" bigint NOT NULL DEFAULT 0,
        "lag_bytes" bigint,
        "lag_alert" boolean NOT NULL DEFAULT false,
        "last_change_at" TIMESTAMP WITH TIME ZONE,
        "last_applied_at" TIMESTAMP WITH TIME ZONE,
        "error_code" character varying(64),
        "error_message" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_ingestion_cdc_streams" PRIMARY KEY ("source_id"),
        CONSTRAINT "FK_ingestion_cdc_streams_source" FOREIGN KEY ("source_id") REFERENCES "ingestion"."sources"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`
      CREATE TABLE "ingestion"."cdc_dead_letters" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "source_id" uuid NOT NULL,
        "lsn" character varying(32) NOT NULL,
        "record" jsonb NOT NULL,
        "reason" character varying(64) NOT NULL,
        "message" text NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_ingestion_cdc_dead_letters" PRIMARY KEY ("id"),
        CONSTRAINT "FK_ingestion_cdc_dead_letters_source" FOREIGN KEY ("source_id") REFERENCES "ingestion"."sources"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(
      `CREATE INDEX "IDX_ingestion_cdc_dead_letters_source" ON "ingestion"."cdc_dead_letters" ("source_id", "created_at")`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "ingestion"."cdc_dead_letters"`);
    await q.query(`DROP TABLE "ingestion"."cdc_streams"`);
  }
}
