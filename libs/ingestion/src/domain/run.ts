import type { RunInput } from './source';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** One accounted load, as the run ledger keeps it (ingestion.runs). Counts are plain numbers. */
export interface RunRecord {
  id: string;
  sourceId: string;
  status: RunStatus;
  /** api | upload | schedule | replay | cli | pipeline */
  trigger: string;
  idempotencyKey: string;
  input: RunInput;
  createdBy: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  heartbeatAt: Date | null;
  /** The Weir instance running it (PresenceLock instance id), while and after it runs. */
  claimedBy: string | null;
  bytesRead: number;
  rowsRead: number;
  rowsLoaded: number;
  rowsRejected: number;
  rowsDeduplicated: number;
  columnsDiscarded: Record<string, number> | null;
  watermarkBefore: string | null;
  watermarkAfter: string | null;
  quality: unknown;
  errorCode: string | null;
  errorMessage: string | null;
}

/** A run and its source, as the state-changing ledger operations return them. */
export interface RunRef {
  id: string;
  sourceId: string;
  /** The run that asked for it (a pipeline run): its OpenLineage parent. */
  parent?: { job: string; runId: string };
}
