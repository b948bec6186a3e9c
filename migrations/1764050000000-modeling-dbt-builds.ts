import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Builds run by the dbt runtime: `command` (dbt's command: build, run, seed, test, snapshot,
 * compile, docs generate) and `dbt_args` (select, exclude, vars, fail-fast …); null for Weir's own
 * builds. Step node ids take dbt's unique ids (`test.<package>.<name>.<hash>`), longer than before.
 */
export class ModelingDbtBuilds1764050000000 implements MigrationInterface {
  name = 'ModelingDbtBuilds1764050000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "modeling"."builds" ADD "command" character varying(30)`);
    await q.query(`ALTER TABLE "modeling"."builds" ADD "dbt_args" jsonb`);
    await q.query(`ALTER TABLE "modeling"."build_steps" ALTER COLUMN "node_id" TYPE character varying(600)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "modeling"."build_steps" ALTER COLUMN "node_id" TYPE character varying(200)`);
    await q.query(`ALTER TABLE "modeling"."builds" DROP COLUMN "dbt_args"`);
    await q.query(`ALTER TABLE "modeling"."builds" DROP COLUMN "command"`);
  }
}
