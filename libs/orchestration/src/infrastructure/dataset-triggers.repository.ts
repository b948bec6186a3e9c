import { Injectable } from '@nestjs/common';
import { Queryable, rowsOf } from '@weir/platform';
import type { PipelineSpec } from '../domain/pipeline';
import type { DatasetTriggers, SeenUpdate } from '../application/ports/dataset-triggers.port';

/** Data-aware schedules in PostgreSQL (orchestration.pipelines' specs, orchestration.dataset_updates). */
@Injectable()
export class PgDatasetTriggers implements DatasetTriggers {
  async listeners(tx: Queryable, dataset: string): Promise<{ id: string; name: string; spec: PipelineSpec }[]> {
    return rowsOf<{ id: string; name: string; spec: PipelineSpec }>(
      await tx.query(
        `SELECT id, name, spec FROM orchestration.pipelines
          WHERE deleted_at IS NULL AND jsonb_typeof(spec->'schedule'->'datasets') = 'array' AND spec->'schedule'->'datasets' ? $1
          ORDER BY name`,
        [dataset],
      ),
    );
  }

  async lock(tx: Queryable, pipelineId: string): Promise<void> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`weir.dataset-trigger:${pipelineId}`]);
  }

  async record(tx: Queryable, pipelineId: string, u: SeenUpdate): Promise<void> {
    await tx.query(
      `INSERT INTO orchestration.dataset_updates (pipeline_id, dataset, event_id, run_id, updated_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (pipeline_id, dataset) DO UPDATE
         SET event_id = EXCLUDED.event_id, run_id = EXCLUDED.run_id, updated_at = EXCLUDED.updated_at`,
      [pipelineId, u.dataset, u.eventId, u.runId, u.at],
    );
  }

  async seen(tx: Queryable, pipelineId: string): Promise<SeenUpdate[]> {
    return rowsOf<{ dataset: string; event_id: string; run_id: string; updated_at: Date }>(
      await tx.query(
        `SELECT dataset, event_id, run_id, updated_at FROM orchestration.dataset_updates WHERE pipeline_id = $1 ORDER BY dataset`,
        [pipelineId],
      ),
    ).map((r) => ({
      dataset: r.dataset,
      eventId: String(r.event_id),
      runId: r.run_id,
      at: new Date(r.updated_at).toISOString(),
    }));
  }

  async clear(tx: Queryable, pipelineId: string): Promise<void> {
    await tx.query(`DELETE FROM orchestration.dataset_updates WHERE pipeline_id = $1`, [pipelineId]);
  }
}
