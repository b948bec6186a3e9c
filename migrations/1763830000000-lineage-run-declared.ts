import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * - lineage.runs.declared: the datasets a run's events declared ({"i<dataset id>": 1, "o<id>": 1}),
 *   so a completing run sets its job's edges without reading its earlier events back;
 * - lineage.job_datasets.column_lineage_at: the event time of the column lineage a job last gave for
 *   an output, so an older event arriving late does not replace newer lineage;
 * - platform.outbox: dispatched rows by dispatch time, for retention.
 */
export class LineageRunDeclared1763830000000 implements MigrationInterface {
  name = 'LineageRunDeclared1763830000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "lineage"."runs" ADD "declared" jsonb NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE "lineage"."job_datasets" ADD "column_lineage_at" TIMESTAMP WITH TIME ZONE`);
    await q.query(
      `CREATE INDEX "IDX_outbox_dispatched" ON "platform"."outbox" ("dispatched_at") WHERE "dispatched_at" IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "platform"."IDX_outbox_dispatched"`);
    await q.query(`ALTER TABLE "lineage"."job_datasets" DROP COLUMN "column_lineage_at"`);
    await q.query(`ALTER TABLE "lineage"."runs" DROP COLUMN "declared"`);
  }
}
