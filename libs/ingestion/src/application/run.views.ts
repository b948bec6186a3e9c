import * as path from 'node:path';
import type { StoredObject } from '../domain/remote-connector';
import type { RunInput } from '../domain/source';
import type { RunRecord, RunStatus } from '../domain/run';
import type { RunLedger } from './ports/run-ledger.port';
import { InvalidPartitionError, PartitionRequiredError, RunNotFoundError } from '../ingestion.errors';

export type { RunStatus } from '../domain/run';

export interface RunView {
  id: string;
  sourceId: string;
  status: RunStatus;
  trigger: string;
  idempotencyKey: string;
  input: RunInput;
  /** The partition the run loads (`input.partition`), if any. */
  partition: string | null;
  createdBy: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  bytesRead: number;
  rowsRead: number;
  rowsLoaded: number;
  rowsRejected: number;
  rowsDeduplicated: number;
  /** Rows per second so far (running) or overall (finished). */
  rate: number | null;
  columnsDiscarded: Record<string, number> | null;
  watermarkBefore: string | null;
  watermarkAfter: string | null;
  quality: unknown;
  error: { code: string; message: string } | null;
}

export function runView(r: RunRecord): RunView {
  const started = r.startedAt?.getTime();
  const end = r.finishedAt?.getTime() ?? (r.status === 'running' ? Date.now() : undefined);
  const durationMs = started !== undefined && end !== undefined ? end - started : null;
  const rowsRead = r.rowsRead;
  return {
    id: r.id,
    sourceId: r.sourceId,
    status: r.status,
    trigger: r.trigger,
    idempotencyKey: r.idempotencyKey,
    // an upload's file is named, not where the server keeps it
    input: r.input?.uploadId ? { ...r.input, uploadId: path.basename(r.input.uploadId) } : r.input,
    partition: r.input?.partition ?? null,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    startedAt: r.startedAt?.toISOString() ?? null,
    finishedAt: r.finishedAt?.toISOString() ?? null,
    durationMs,
    bytesRead: r.bytesRead,
    rowsRead,
    rowsLoaded: r.rowsLoaded,
    rowsRejected: r.rowsRejected,
    rowsDeduplicated: r.rowsDeduplicated,
    rate: durationMs && durationMs > 0 ? Math.round((rowsRead * 1000) / durationMs) : null,
    columnsDiscarded: r.columnsDiscarded,
    watermarkBefore: r.watermarkBefore,
    watermarkAfter: r.watermarkAfter,
    quality: r.quality,
    error: r.errorCode ? { code: r.errorCode, message: r.errorMessage ?? '' } : null,
  };
}

export interface TriggerRequest {
  /** File to load, relative to WEIR_INGEST_ROOT (default: the source's location.path). */
  path?: string;
  idempotencyKey?: string;
  trigger: 'api' | 'upload' | 'schedule' | 'replay' | 'cli' | 'pipeline';
  /** A partition of the source's data: recorded on the run, put in place of `{partition}` in the path. */
  partition?: string;
  createdBy?: string;
  /** Absolute path outside the ingest root: only the local CLI may ask for it. */
  trustedPath?: string;
  /** Upload runs: the uploaded file (already inside the data dir). */
  upload?: { file: string; checksum: string; bytes: number; originalName?: string };
  replayOf?: string;
  /** The run that asked for this one (a pipeline run): the OpenLineage parent of the run's events. */
  parent?: { job: string; runId: string };
  /** An object-store source: the object (that version) a scheduled load found. */
  object?: StoredObject;
}

/** A partition value: letters, digits and `_ . = - /`, no `..`, at most 200 characters. */
export function assertPartition(p: string): void {
  if (typeof p !== 'string' || !/^[A-Za-z0-9_.=\-/]{1,200}$/.test(p) || p.split('/').includes('..')) {
    throw new InvalidPartitionError(
      `partition ${JSON.stringify(p)}: use 1 to 200 letters, digits and _ . = - / (no "..")`,
    );
  }
}

/** `{partition}` in a path is the run's partition; a path that needs one and has none is refused. */
export function partitionPath(p: string, partition: string | undefined): string {
  if (!p.includes('{partition}')) return p;
  if (partition === undefined)
    throw new PartitionRequiredError(`The path ${JSON.stringify(p)} holds {partition}: give the run a partition`);
  return p.split('{partition}').join(partition);
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The run with this id; `INGESTION.RUN_NOT_FOUND` when there is none (or the id is not a UUID). */
export async function findRun(ledger: RunLedger, id: string): Promise<RunRecord> {
  const r = UUID.test(id) ? await ledger.find(id) : null;
  if (!r) throw new RunNotFoundError(`No run with id ${JSON.stringify(id)}`);
  return r;
}
