import { MigrationInterface, QueryRunner } from 'typeorm';

/** lineage.events by event time: GET /api/v1/events/lineage (Marquez) pages the raw events by it. */
export class LineageEventsTime1763820000000 implements MigrationInterface {
  name = 'LineageEventsTime1763820000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX "IDX_lineage_events_time" ON "lineage"."events" ("event_time", "id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "lineage"."IDX_lineage_events_time"`);
  }
}
