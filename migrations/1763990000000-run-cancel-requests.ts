import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cancelling an ingestion run or a build that is running (a pipeline run cancelled, or by hand): the
 * request is recorded on it, and the process running it stops at its next heartbeat, before
 * anything is published (a load's publish and a model's swap are single transactions).
 */
export class RunCancelRequests1763990000000 implements MigrationInterface {
  name = 'RunCancelRequests1763990000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "ingestion"."runs" ADD "cancel_requested_at" TIMESTAMP WITH TIME ZONE`);
    await q.query(`ALTER TABLE "modeling"."builds" ADD "cancel_requested_at" TIMESTAMP WITH TIME ZONE`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "modeling"."builds" DROP COLUMN "cancel_requested_at"`);
    await q.query(`ALTER TABLE "ingestion"."runs" DROP COLUMN "cancel_requested_at"`);
  }
}
