import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The run that asked for a build (a pipeline run): its OpenLineage parent, kept so that a build
 * another instance fails after a crash still names it. (Ingestion runs keep theirs in `input`.)
 */
export class RunParents1763940000000 implements MigrationInterface {
  name = 'RunParents1763940000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "modeling"."builds" ADD "parent" jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "modeling"."builds" DROP COLUMN "parent"`);
  }
}
