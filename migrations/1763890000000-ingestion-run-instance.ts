import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * ingestion.runs.claimed_by: the Weir instance (PresenceLock instance id) running a run, so a dead
 * instance's runs are taken as interrupted at once — by itself at its next start, or by a survivor
 * that sees its presence connection gone — rather than after a heartbeat timeout.
 */
export class IngestionRunInstance1763890000000 implements MigrationInterface {
  name = 'IngestionRunInstance1763890000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "ingestion"."runs" ADD "claimed_by" character varying(100)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "ingestion"."runs" DROP COLUMN "claimed_by"`);
  }
}
