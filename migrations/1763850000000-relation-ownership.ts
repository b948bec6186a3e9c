import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who a relation belongs to: catalog.datasets.managed_by (`ingestion`, or `modeling:<project>` for
 * the models, seeds and snapshots a project builds), ingestion.sources.managed_by (null for a
 * user's source; `modeling:<project>` for a project's seed sources), a step's error code and
 * whether a build was asked to take relations over.
 * Existing datasets tagged `project:<name>` are taken as that project's.
 */
export class RelationOwnership1763850000000 implements MigrationInterface {
  name = 'RelationOwnership1763850000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE "catalog"."datasets" ADD "managed_by" character varying(200) NOT NULL DEFAULT 'ingestion'`,
    );
    await q.query(`
      UPDATE "catalog"."datasets" d SET managed_by = 'modeling:' || substr(t.tag, 9)
        FROM (SELECT id, min(tag) AS tag FROM "catalog"."datasets", jsonb_array_elements_text(tags) tag WHERE tag LIKE 'project:%' GROUP BY id) t
       WHERE d.id = t.id`);
    await q.query(`ALTER TABLE "ingestion"."sources" ADD "managed_by" character varying(200)`);
    await q.query(
      `UPDATE "ingestion"."sources" SET managed_by = d.managed_by FROM "catalog"."datasets" d WHERE d.name = sources.dataset AND sources.name LIKE 'seed\\_%' AND d.managed_by LIKE 'modeling:%'`,
    );
    await q.query(`ALTER TABLE "modeling"."build_steps" ADD "error_code" character varying(100)`);
    await q.query(`ALTER TABLE "modeling"."builds" ADD "take_over" boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "modeling"."builds" DROP COLUMN "take_over"`);
    await q.query(`ALTER TABLE "modeling"."build_steps" DROP COLUMN "error_code"`);
    await q.query(`ALTER TABLE "ingestion"."sources" DROP COLUMN "managed_by"`);
    await q.query(`ALTER TABLE "catalog"."datasets" DROP COLUMN "managed_by"`);
  }
}
