import type { PipelineSpec } from '../domain/pipeline';
import type { PipelineRecord } from './ports/pipeline-store.port';
import type { PipelineRunRecord, StepRunRecord } from './ports/run-queue.port';

/** A pipeline as the API shows it. */
export interface PipelineView {
  id: string;
  name: string;
  version: number;
  spec: PipelineSpec;
  /** What keeps it (`ingestion:source:<id>`: a source's schedule; change it there), or null. */
  managedBy: string | null;
  createdAt: string;
  updatedAt: string;
}

export const pipelineView = (p: PipelineRecord): PipelineView => ({
  id: p.id,
  name: p.name,
  version: p.version,
  spec: p.spec,
  managedBy: p.managedBy ?? null,
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
});

/** A step of a run: its state, attempts, timings, the run underneath and its counts. */
export interface StepRunView {
  step: string;
  kind: string;
  status: string;
  attempt: number;
  maxAttempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  /** When a queued retry may start. */
  nextAttemptAt: string | null;
  error: { code: string | null; message: string } | null;
  /** Links to the runs underneath: ingestion run, build, quality runs, or the child pipeline run (`pipelineRun`). */
  ref: Record<string, unknown> | null;
  output: Record<string, unknown> | null;
}

export interface PipelineRunView {
  id: string;
  pipelineId: string;
  pipeline: string;
  version: number;
  status: string;
  trigger: string;
  partition: string | null;
  params: Record<string, unknown>;
  idempotencyKey: string;
  createdBy: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
  steps?: StepRunView[];
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const duration = (a: Date | null, b: Date | null) => (a && b ? b.getTime() - a.getTime() : null);

export function stepRunView(s: StepRunRecord): StepRunView {
  return {
    step: s.stepId,
    kind: s.kind,
    status: s.status,
    attempt: s.attempt,
    maxAttempts: s.maxAttempts,
    startedAt: iso(s.startedAt),
    finishedAt: iso(s.finishedAt),
    durationMs: duration(s.startedAt, s.finishedAt),
    nextAttemptAt: s.status === 'queued' && s.attempt > 0 ? iso(s.readyAt) : null,
    error: s.error ? { code: s.errorCode, message: s.error } : null,
    ref: s.ref,
    output: s.output,
  };
}

export function pipelineRunView(r: PipelineRunRecord, pipeline: string, steps?: StepRunRecord[]): PipelineRunView {
  return {
    id: r.id,
    pipelineId: r.pipelineId,
    pipeline,
    version: r.version,
    status: r.status,
    trigger: r.trigger,
    partition: r.partition,
    params: r.params,
    idempotencyKey: r.idempotencyKey,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    durationMs: duration(r.startedAt, r.finishedAt),
    error: r.error,
    ...(steps ? { steps: steps.map(stepRunView) } : {}),
  };
}
