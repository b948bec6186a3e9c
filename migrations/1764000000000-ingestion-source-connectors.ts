import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sources read by a connector: `connector` (null: files, as before; else a database — query or
 * CDC — with its connection, secrets only as environment-variable references). A database source
 * has no file `format`.
 */
export class IngestionSourceConnectors1764000000000 implements MigrationInterface {
  name = 'IngestionSourceConnectors1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "ingestion"."sources" ADD "connector" jsonb`);
    await q.query(`ALTER TABLE "ingestion"."sources" ALTER COLUMN "format" DROP NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM "ingestion"."sources" WHERE "format" IS NULL`);
    await q.query(`ALTER TABLE "ingestion"."sources" ALTER COLUMN "format" SET NOT NULL`);
    await q.query(`ALTER TABLE "ingestion"."sources" DROP COLUMN "connector"`);
  }
}
