import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { rowsOf } from '@weir/platform';
import type { PipelineSpec } from '../domain/pipeline';
import type { ScheduledPipeline, TickLedger } from '../application/ports/tick-ledger.port';

/** Ticks in PostgreSQL (orchestration.schedule_ticks; the primary key makes a claim exactly-once). */
@Injectable()
export class PgTickLedger implements TickLedger {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async scheduled(): Promise<ScheduledPipeline[]> {
    const rows = rowsOf<{ id: string; name: string; spec: PipelineSpec; since: Date; last: Date | null }>(
      await this.ds.query(
        `SELECT p.id, p.name, p.spec, p.updated_at AS since,
                (SELECT max(t.scheduled_at) FROM orchestration.schedule_ticks t WHERE t.pipeline_id = p.id) AS last
           FROM orchestration.pipelines p WHERE p.deleted_at IS NULL AND jsonb_typeof(p.spec->'schedule') = 'object'
            AND jsonb_typeof(p.spec->'schedule'->'datasets') IS DISTINCT FROM 'array'`,
      ),
    );
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      spec: r.spec,
      scheduledSince: new Date(r.since),
      lastTick: r.last ? new Date(r.last) : null,
    }));
  }

  async claim(pipelineId: string, at: Date, by: string): Promise<boolean> {
    const r = await this.ds.query(
      `INSERT INTO orchestration.schedule_ticks (pipeline_id, scheduled_at, claimed_by) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING pipeline_id`,
      [pipelineId, at, by],
    );
    return rowsOf(r).length > 0;
  }

  async claimMany(ticks: { pipelineId: string; at: Date }[], by: string): Promise<{ pipelineId: string; at: Date }[]> {
    if (!ticks.length) return [];
    const rows = rowsOf<{ pipeline_id: string; scheduled_at: Date }>(
      await this.ds.query(
        `INSERT INTO orchestration.schedule_ticks (pipeline_id, scheduled_at, claimed_by)
         SELECT p, t, $3 FROM unnest($1::uuid[], $2::timestamptz[]) AS x(p, t)
         ON CONFLICT DO NOTHING RETURNING pipeline_id, scheduled_at`,
        [ticks.map((t) => t.pipelineId), ticks.map((t) => t.at.toISOString()), by],
      ),
    );
    return rows.map((r) => ({ pipelineId: r.pipeline_id, at: new Date(r.scheduled_at) }));
  }

  async unstarted(olderThanMs: number): Promise<{ pipelineId: string; at: Date }[]> {
    const rows = rowsOf<{ pipeline_id: string; scheduled_at: Date }>(
      await this.ds.query(
        `SELECT pipeline_id, scheduled_at FROM orchestration.schedule_ticks
          WHERE run_id IS NULL AND created_at < now() - $1::interval AND created_at > now() - interval '1 hour'
          ORDER BY scheduled_at LIMIT 100`,
        [`${olderThanMs / 1000} seconds`],
      ),
    );
    return rows.map((r) => ({ pipelineId: r.pipeline_id, at: new Date(r.scheduled_at) }));
  }

  async recordRun(pipelineId: string, at: Date, runId: string): Promise<void> {
    await this.ds.query(
      `UPDATE orchestration.schedule_ticks SET run_id = $3 WHERE pipeline_id = $1 AND scheduled_at = $2`,
      [pipelineId, at, runId],
    );
  }
}
