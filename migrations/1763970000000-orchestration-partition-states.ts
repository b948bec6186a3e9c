import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * orchestration.partition_states: per pipeline and partition, its latest run (by creation) with its
 * status and when a run of it last succeeded; kept by a trigger on orchestration.runs, so every
 * way a run is written (triggers, backfills, child runs, SQL by hand) keeps it right. The
 * partitions page and gap counts read it instead of scanning every run (50,000 partitions).
 */
export class OrchestrationPartitionStates1763970000000 implements MigrationInterface {
  name = 'OrchestrationPartitionStates1763970000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "orchestration"."partition_states" (
        "pipeline_id" uuid NOT NULL,
        "partition" character varying(200) NOT NULL,
        "run_id" uuid NOT NULL,
        "status" character varying(16) NOT NULL,
        "last_run_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "last_success_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "PK_orchestration_partition_states" PRIMARY KEY ("pipeline_id", "partition"),
        CONSTRAINT "FK_orchestration_partition_states_pipeline" FOREIGN KEY ("pipeline_id") REFERENCES "orchestration"."pipelines"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`
      CREATE FUNCTION "orchestration"."track_partition_state"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO orchestration.partition_states AS s (pipeline_id, partition, run_id, status, last_run_at, last_success_at)
        VALUES (NEW.pipeline_id, NEW.partition, NEW.id, NEW.status, NEW.created_at,
                CASE WHEN NEW.status = 'succeeded' THEN COALESCE(NEW.finished_at, NEW.created_at) END)
        ON CONFLICT (pipeline_id, partition) DO UPDATE SET
          run_id = CASE WHEN EXCLUDED.last_run_at >= s.last_run_at THEN EXCLUDED.run_id ELSE s.run_id END,
          status = CASE WHEN EXCLUDED.last_run_at >= s.last_run_at OR EXCLUDED.run_id = s.run_id THEN EXCLUDED.status ELSE s.status END,
          last_run_at = GREATEST(s.last_run_at, EXCLUDED.last_run_at),
          last_success_at = GREATEST(s.last_success_at, EXCLUDED.last_success_at);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER "TRG_orchestration_runs_partition_state"
        AFTER INSERT OR UPDATE OF status ON "orchestration"."runs"
        FOR EACH ROW WHEN (NEW.partition IS NOT NULL)
        EXECUTE FUNCTION "orchestration"."track_partition_state"()`);
    // the runs already there
    await q.query(`
      INSERT INTO orchestration.partition_states (pipeline_id, partition, run_id, status, last_run_at, last_success_at)
      SELECT l.pipeline_id, l.partition, l.id, l.status, l.created_at, s.last_success
        FROM (SELECT DISTINCT ON (pipeline_id, partition) pipeline_id, partition, id, status, created_at
                FROM orchestration.runs WHERE partition IS NOT NULL
               ORDER BY pipeline_id, partition, created_at DESC) l
        LEFT JOIN (SELECT pipeline_id, partition, max(COALESCE(finished_at, created_at)) AS last_success
                     FROM orchestration.runs WHERE partition IS NOT NULL AND status = 'succeeded'
                    GROUP BY pipeline_id, partition) s USING (pipeline_id, partition)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "TRG_orchestration_runs_partition_state" ON "orchestration"."runs"`);
    await q.query(`DROP FUNCTION "orchestration"."track_partition_state"()`);
    await q.query(`DROP TABLE "orchestration"."partition_states"`);
  }
}
