import { MigrationInterface, QueryRunner } from 'typeorm';

/** ingestion.sources.schedule_error: why a stored schedule could not be armed (it is then disabled, never fatal). */
export class IngestionScheduleError1763880000000 implements MigrationInterface {
  name = 'IngestionScheduleError1763880000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "ingestion"."sources" ADD "schedule_error" text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "ingestion"."sources" DROP COLUMN "schedule_error"`);
  }
}
