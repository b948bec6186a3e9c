import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { rowsOf } from '@weir/platform';
import type { PoolRecord, PoolStore, PoolUsage } from '../application/ports/pool-store.port';
import { PoolOrmEntity } from './pool.orm-entity';

/** Pools in PostgreSQL (orchestration.pools); their usage from orchestration.step_runs. */
@Injectable()
export class PgPoolStore implements PoolStore {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  list(): Promise<PoolRecord[]> {
    return this.ds.getRepository(PoolOrmEntity).find({ order: { name: 'ASC' } });
  }

  find(name: string): Promise<PoolRecord | null> {
    return this.ds.getRepository(PoolOrmEntity).findOneBy({ name });
  }

  async put(
    name: string,
    pool: { slots: number; description: string | null },
    by: string | null,
  ): Promise<{ pool: PoolRecord; created: boolean }> {
    const [r] = rowsOf<{ created: boolean }>(
      await this.ds.query(
        `INSERT INTO orchestration.pools (name, slots, description, updated_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET slots = EXCLUDED.slots, description = EXCLUDED.description,
                updated_by = EXCLUDED.updated_by, updated_at = now()
         RETURNING (xmax = 0) AS created`,
        [name, pool.slots, pool.description, by],
      ),
    );
    return { pool: (await this.find(name))!, created: r.created === true };
  }

  async remove(name: string): Promise<boolean> {
    return ((await this.ds.getRepository(PoolOrmEntity).delete({ name })).affected ?? 0) > 0;
  }

  async usage(): Promise<Map<string, PoolUsage>> {
    const rows = rowsOf<{ pool: string; running: number; queued: number }>(
      await this.ds.query(
        `SELECT pool, count(*) FILTER (WHERE status = 'running')::int AS running,
                count(*) FILTER (WHERE status = 'queued')::int AS queued
           FROM orchestration.step_runs WHERE pool IS NOT NULL AND status IN ('queued', 'running') GROUP BY pool`,
      ),
    );
    return new Map(rows.map((r) => [r.pool, { running: Number(r.running), queued: Number(r.queued) }]));
  }
}
