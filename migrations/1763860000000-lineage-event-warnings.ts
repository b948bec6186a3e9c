import { MigrationInterface, QueryRunner } from 'typeorm';

/** lineage.events.warnings: what a leniently accepted event deviated in (formats, schemaURL, mapped run ids). */
export class LineageEventWarnings1763860000000 implements MigrationInterface {
  name = 'LineageEventWarnings1763860000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "lineage"."events" ADD "warnings" jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "lineage"."events" DROP COLUMN "warnings"`);
  }
}
