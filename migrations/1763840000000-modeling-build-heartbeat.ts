import { MigrationInterface, QueryRunner } from 'typeorm';

/** modeling.builds.heartbeat_at: a running build's process says it is alive; a silent one is taken as interrupted. */
export class ModelingBuildHeartbeat1763840000000 implements MigrationInterface {
  name = 'ModelingBuildHeartbeat1763840000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "modeling"."builds" ADD "heartbeat_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "modeling"."builds" DROP COLUMN "heartbeat_at"`);
  }
}
