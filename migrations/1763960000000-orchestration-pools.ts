import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * orchestration.pools (named concurrency limits shared by the steps of every pipeline), and the
 * pool of each step run (copied from its step when the run is created: the lease counts by it).
 */
export class OrchestrationPools1763960000000 implements MigrationInterface {
  name = 'OrchestrationPools1763960000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "orchestration"."pools" (
        "name" character varying(63) NOT NULL,
        "slots" integer NOT NULL,
        "description" text,
        "updated_by" character varying(200),
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_pools" PRIMARY KEY ("name"),
        CONSTRAINT "CHK_pools_slots" CHECK ("slots" >= 0 AND "slots" <= 10000)
      )`);
    await q.query(`ALTER TABLE "orchestration"."step_runs" ADD "pool" character varying(63)`);
    // steps of runs not finished get the pool of their step
    await q.query(`
      UPDATE "orchestration"."step_runs" s SET "pool" = e->>'pool'
        FROM "orchestration"."runs" r
        JOIN "orchestration"."pipeline_versions" v ON v."pipeline_id" = r."pipeline_id" AND v."version" = r."version",
             jsonb_array_elements(v."spec"->'steps') e
       WHERE s."run_id" = r."id" AND e->>'id' = s."step_id" AND e->>'pool' IS NOT NULL
         AND s."status" IN ('pending', 'queued', 'running', 'retrying')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "orchestration"."step_runs" DROP COLUMN "pool"`);
    await q.query(`DROP TABLE "orchestration"."pools"`);
  }
}
