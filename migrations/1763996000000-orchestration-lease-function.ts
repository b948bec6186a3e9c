import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * orchestration.lease_step: a step's lease in one statement (one round trip, its own transaction
 * when run alone), so that the locks of a run and of a pool are held for the time of the claim
 * only, not across round trips: every lease of one run waits for that run's lock.
 *
 * In a loop of at most 8 candidates: the step ready longest that may be leased (queued, its time
 * come, of the kinds asked for, its run's and pool's counts below their limits — a sieve only),
 * its row locked (SKIP LOCKED: concurrent leases take different steps); then its run's lock and,
 * for a pooled step, its pool's; then the claim, which counts the run's and the pool's room again
 * under those locks. A function is VOLATILE: under READ COMMITTED each statement in it takes a new
 * snapshot, so the claim sees every lease committed before the locks were taken, and no other
 * lease of the run or pool is in progress (its transaction would hold the lock); steps leave
 * `running` without the locks, which only lowers the counts: a run never has more steps running
 * than its version's `concurrency`, nor a pool more than its slots, across instances. No two
 * leases wait for each other: a run's lock is waited for only while the lease holds no lock, a
 * pool's only while it holds no pool's; any other is tried, and its step skipped when taken.
 * Returns the leased step with its run's partition, params, pipeline, version and trigger (jsonb),
 * or null.
 */
export class OrchestrationLeaseFunction1763996000000 implements MigrationInterface {
  name = 'OrchestrationLeaseFunction1763996000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION "orchestration"."lease_step"(p_owner text, p_lease interval, p_kinds text[], p_not_kinds text[], p_default_slots int)
      RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        c record;
        skipped bigint[] := '{}';
        run_locked boolean := false;
        pool_locked boolean := false;
        ok boolean;
        leased jsonb;
      BEGIN
        FOR tries IN 1..8 LOOP
          SELECT q.id, q.pool, q.run_id,
                 (SELECT COALESCE((v.spec->>'concurrency')::int, 4) FROM orchestration.runs qr
                    JOIN orchestration.pipeline_versions v ON v.pipeline_id = qr.pipeline_id AND v.version = qr.version
                   WHERE qr.id = q.run_id) AS concurrency
            INTO c
            FROM orchestration.step_runs q
           WHERE q.status = 'queued' AND q.ready_at <= now()
             AND (p_kinds IS NULL OR q.kind = ANY(p_kinds))
             AND (p_not_kinds IS NULL OR q.kind <> ALL(p_not_kinds))
             AND q.id <> ALL(skipped)
             AND (SELECT count(*) FROM orchestration.step_runs x WHERE x.run_id = q.run_id AND x.status = 'running')
                 < (SELECT COALESCE((v.spec->>'concurrency')::int, 4) FROM orchestration.runs qr
                      JOIN orchestration.pipeline_versions v ON v.pipeline_id = qr.pipeline_id AND v.version = qr.version
                     WHERE qr.id = q.run_id)
             AND (q.pool IS NULL OR (SELECT count(*) FROM orchestration.step_runs x WHERE x.pool = q.pool AND x.status = 'running')
                 < COALESCE((SELECT p.slots FROM orchestration.pools p WHERE p.name = q.pool), p_default_slots))
           ORDER BY q.ready_at, q.id FOR UPDATE OF q SKIP LOCKED LIMIT 1;
          IF NOT FOUND THEN
            RETURN NULL;
          END IF;
          IF NOT run_locked AND NOT pool_locked THEN
            PERFORM pg_advisory_xact_lock(hashtextextended('weir.run:' || c.run_id, 0));
            ok := true;
          ELSE
            ok := pg_try_advisory_xact_lock(hashtextextended('weir.run:' || c.run_id, 0));
          END IF;
          IF ok THEN
            run_locked := true;
            IF c.pool IS NOT NULL THEN
              IF NOT pool_locked THEN
                PERFORM pg_advisory_xact_lock(hashtextextended('weir.pool:' || c.pool, 0));
              ELSE
                ok := pg_try_advisory_xact_lock(hashtextextended('weir.pool:' || c.pool, 0));
              END IF;
              IF ok THEN
                pool_locked := true;
              END IF;
            END IF;
          END IF;
          IF ok THEN
            UPDATE orchestration.step_runs s
               SET status = 'running', attempt = s.attempt + 1, lease_owner = p_owner,
                   lease_expires_at = now() + p_lease, started_at = COALESCE(s.started_at, clock_timestamp()),
                   error = NULL, error_code = NULL
              FROM orchestration.runs r
             WHERE s.id = c.id AND s.status = 'queued' AND r.id = s.run_id
               AND (SELECT count(*) FROM orchestration.step_runs x WHERE x.run_id = s.run_id AND x.status = 'running') < c.concurrency
               AND (c.pool IS NULL OR (SELECT count(*) FROM orchestration.step_runs x WHERE x.pool = c.pool AND x.status = 'running')
                    < COALESCE((SELECT p.slots FROM orchestration.pools p WHERE p.name = c.pool), p_default_slots))
            RETURNING to_jsonb(s.*) || jsonb_build_object('partition', r.partition, 'params', r.params,
                      'pipeline_id', r.pipeline_id, 'version', r.version, 'trigger', r.trigger)
              INTO leased;
            IF leased IS NOT NULL THEN
              RETURN leased;
            END IF;
          END IF;
          skipped := skipped || c.id;
        END LOOP;
        RETURN NULL;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION "orchestration"."lease_step"(text, interval, text[], text[], int)`);
  }
}
