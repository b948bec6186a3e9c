import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { deleteOldest, type Outbox, type Queryable, rowsOf } from '@weir/platform';
import { foldEvents } from '../domain/graph-delta';
import type { LineageGraphWriter, StoreItem } from '../application/ports/lineage-graph-writer.port';
import { keepChangedLineage, planColumnLineage } from './writers/column-lineage.plan';
import { writeDatasetVersions } from './writers/dataset-versions.writer';
import { writeDatasets } from './writers/datasets.writer';
import {
  EVENT_IDS_PAYLOAD_SQL,
  loadEventsSql,
  oldEventsSql,
  SAVEPOINT_SQL,
  storeEventsSql,
} from './writers/events.sql';
import { deleteJobFieldEdges, writeFieldEdges } from './writers/field-edges.writer';
import { addSchemaFields, writeFields } from './writers/fields.writer';
import { deleteJobDatasets, retargetedJobs, stampColumnLineage, writeJobDatasets } from './writers/job-datasets.writer';
import type { JobEdge } from './writers/job-datasets.sql';
import { lockCompletingJobs, writeJobs } from './writers/jobs.writer';
import { writeNamespaces } from './writers/namespaces.writer';
import { writeRuns } from './writers/runs.writer';

/**
 * Writes accepted OpenLineage events into the `lineage` graph, on the caller's transaction (the
 * PostgreSQL adapter of {@link LineageGraphWriter}). A batch of events costs a fixed number of
 * statements (arrays unnested server-side), whatever its size: events, namespaces, jobs, runs,
 * datasets, fields, schema versions, job edges and field edges each take one (writers/, one per
 * table). Events of one batch are folded in order first (domain/graph-delta.ts), exactly as if
 * applied one after the other. Each table: one INSERT … ON CONFLICT DO NOTHING of the new rows that
 * also reads back the existing ones by `= ANY(array)` on indexed columns (a superset, narrowed in
 * the writer), then UPDATEs by primary key only the rows whose content changes (no lock, no dead
 * tuple), so replaying an event changes nothing in the graph. No join against the unnested input:
 * on a large graph the planner misjudges such joins and scans whole tables.
 */
@Injectable()
export class LineageStore implements LineageGraphWriter {
  async storeEvents(tx: Queryable, items: StoreItem[]): Promise<string[]> {
    const { sql, params } = storeEventsSql(items);
    return rowsOf<{ id: string }>(await tx.query(sql, params)).map((r) => r.id);
  }

  async storeEventsAndPublish(
    q: Queryable,
    outbox: Pick<Outbox, 'publishWith'>,
    topic: string,
    items: StoreItem[],
  ): Promise<string[]> {
    const { sql, params } = storeEventsSql(items);
    const payload = await outbox.publishWith<{ events: string[] }>(q, topic, sql, EVENT_IDS_PAYLOAD_SQL, params);
    return payload.events;
  }

  async loadEvents(tx: Queryable, ids: string[]): Promise<Map<string, StoreItem>> {
    const { sql, params } = loadEventsSql(ids);
    const rows = rowsOf<{ id: string; kind: StoreItem['kind']; payload: Record<string, unknown> }>(
      await tx.query(sql, params),
    );
    return new Map(rows.map((r) => [r.id, { kind: r.kind, event: r.payload }]));
  }

  async project(tx: Queryable, items: StoreItem[]): Promise<void> {
    const delta = foldEvents(items);
    await writeNamespaces(tx, delta);
    const jobIds = await writeJobs(tx, delta.jobs);
    const datasets = await writeDatasets(tx, delta.datasets);
    await lockCompletingJobs(tx, delta, jobIds);
    const runs = await writeRuns(tx, delta, jobIds, datasets.ids);
    // the schema versions are stamped with the batch's first run
    const runId = items.find((i) => i.kind === 'RunEvent')?.event['run']?.['runId'] ?? null;
    const changedSchemas = await writeDatasetVersions(tx, delta.schemas, datasets.found, runId);
    addSchemaFields(delta, changedSchemas, datasets.ids);
    const hashes = planColumnLineage(delta, datasets.found);
    const target = retargetedJobs(runs, delta.runIo);
    const { known, stale } = await writeJobDatasets(tx, delta.io, target, jobIds, datasets.ids);
    await this.dropJobEdges(tx, stale);
    keepChangedLineage(delta, known, hashes, jobIds, datasets.ids);
    const fieldIds = await writeFields(tx, delta.fields, datasets.ids);
    if (!delta.lineage.size) return;
    await writeFieldEdges(tx, delta.lineage, jobIds, datasets.ids, fieldIds);
    await stampColumnLineage(tx, delta.lineage, hashes, jobIds, datasets.ids);
  }

  async tryProject(tx: Queryable, items: StoreItem[]): Promise<unknown> {
    await tx.query(SAVEPOINT_SQL.set);
    try {
      await this.project(tx, items);
      return undefined;
    } catch (e) {
      // (if even the rollback fails, the transaction is lost: the original error says why)
      await tx.query(SAVEPOINT_SQL.rollback).catch(() => {
        throw e;
      });
      if (!isDataError(e)) throw e;
      return e;
    } finally {
      await tx.query(SAVEPOINT_SQL.release).catch(() => undefined);
    }
  }

  deleteOldEvents(ds: DataSource, limit: number, days: number, before: Date | null): Promise<number> {
    return deleteOldest(ds, { table: 'lineage.events', ...oldEventsSql(days, before), limit });
  }

  /**
   * Removes edges a job's latest completed run did not declare (`stale`, in lock order), with the
   * column lineage the job gave into outputs it no longer writes. Marquez does the same through job
   * versions. A run that declared no datasets at all, a failed or aborted run, and a run that
   * completed before another completed run of the job change nothing; JobEvents (design-time
   * lineage) add edges, kept until the next completed run.
   */
  private async dropJobEdges(tx: Queryable, stale: JobEdge[]): Promise<void> {
    if (!stale.length) return;
    await deleteJobFieldEdges(
      tx,
      stale.filter((e) => e.direction === 'output'),
    );
    await deleteJobDatasets(tx, stale);
  }
}

/** PostgreSQL refusing the data itself (class 22, NOT NULL, CHECK), which no retry will change. */
export function isDataError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code === '23502' || code === '23514');
}
