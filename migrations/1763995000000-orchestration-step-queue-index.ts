import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The queue's order as an index of its own (queued steps only, by ready_at then id): a lease reads
 * queued steps in that order and stops at the first one it may take, instead of sorting every
 * queued step (each with its run's and pool's room counted) for each lease.
 */
export class OrchestrationStepQueueIndex1763995000000 implements MigrationInterface {
  name = 'OrchestrationStepQueueIndex1763995000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX "IDX_step_runs_queued" ON "orchestration"."step_runs" ("ready_at", "id") WHERE status = 'queued'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "orchestration"."IDX_step_runs_queued"`);
  }
}
