import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { rowsOf } from '@weir/platform';
import type { OverdueTick, SlaLedger, SlaMissRecord } from '../application/ports/sla-ledger.port';

type Row = Record<string, unknown>;
const date = (v: unknown) => new Date(v as string);

/** SLA misses in PostgreSQL (orchestration.sla_misses; its unique (pipeline, scheduled time) records a miss once). */
@Injectable()
export class PgSlaLedger implements SlaLedger {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async overdue(now: Date): Promise<OverdueTick[]> {
    const rows = rowsOf<Row>(
      await this.ds.query(
        `WITH t AS (
           SELECT t.pipeline_id, p.name, t.scheduled_at, t.run_id, p.updated_at,
                  t.scheduled_at + (p.spec->>'sla')::bigint * interval '1 millisecond' AS deadline
             FROM orchestration.schedule_ticks t
             JOIN orchestration.pipelines p ON p.id = t.pipeline_id
            WHERE jsonb_typeof(p.spec->'sla') = 'number'
              -- a range of the primary key per pipeline with an SLA: ticks whose deadline is within the last day
              AND t.scheduled_at > $1::timestamptz - interval '1 day' - (p.spec->>'sla')::bigint * interval '1 millisecond'
              AND t.scheduled_at <= $1::timestamptz)
         SELECT t.pipeline_id, t.name, t.scheduled_at, t.deadline, t.run_id, r.status, r.partition
           FROM t LEFT JOIN orchestration.runs r ON r.id = t.run_id
          WHERE t.deadline <= $1 AND t.deadline > $1 - interval '1 day' AND t.deadline >= t.updated_at
            AND NOT (r.status IS NOT NULL AND r.status = 'succeeded' AND r.finished_at <= t.deadline)
            AND NOT EXISTS (SELECT 1 FROM orchestration.sla_misses m
                             WHERE m.pipeline_id = t.pipeline_id AND m.scheduled_for = t.scheduled_at)
          ORDER BY t.deadline LIMIT 500`,
        [now],
      ),
    );
    return rows.map((r) => ({
      pipelineId: r['pipeline_id'] as string,
      pipeline: r['name'] as string,
      scheduledFor: date(r['scheduled_at']),
      deadline: date(r['deadline']),
      runId: (r['run_id'] as string | null) ?? null,
      runStatus: (r['status'] as string | null) ?? null,
      partition: (r['partition'] as string | null) ?? null,
    }));
  }

  async record(t: OverdueTick): Promise<boolean> {
    const r = await this.ds.query(
      `INSERT INTO orchestration.sla_misses (pipeline_id, run_id, scheduled_for, deadline, run_status)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (pipeline_id, scheduled_for) DO NOTHING RETURNING id`,
      [t.pipelineId, t.runId, t.scheduledFor, t.deadline, t.runStatus],
    );
    return rowsOf(r).length > 0;
  }

  async list(filter: { pipelineId?: string; limit: number }): Promise<SlaMissRecord[]> {
    const rows = rowsOf<Row>(
      await this.ds.query(
        `SELECT m.*, p.name FROM orchestration.sla_misses m JOIN orchestration.pipelines p ON p.id = m.pipeline_id
          WHERE ($1::uuid IS NULL OR m.pipeline_id = $1::uuid) ORDER BY m.detected_at DESC, m.id LIMIT $2`,
        [filter.pipelineId ?? null, filter.limit],
      ),
    );
    return rows.map((r) => ({
      id: r['id'] as string,
      pipelineId: r['pipeline_id'] as string,
      pipeline: r['name'] as string,
      runId: (r['run_id'] as string | null) ?? null,
      scheduledFor: date(r['scheduled_for']),
      deadline: date(r['deadline']),
      runStatus: (r['run_status'] as string | null) ?? null,
      detectedAt: date(r['detected_at']),
    }));
  }
}
