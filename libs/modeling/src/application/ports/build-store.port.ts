import type { RunStateEvent } from '@weir/platform';
import type { BuildView, StepPatch } from '../modeling.views';

/** Inject with `@Inject(BUILD_STORE)`: modeling's builds and their steps (internal to modeling). */
export const BUILD_STORE = Symbol('BUILD_STORE');

/** A build to record, running, with its steps pending in DAG order. */
export interface NewBuild {
  id: string;
  projectId: string;
  selector: string | null;
  fullRefresh: boolean;
  takeOver: boolean;
  /** The run that asked for it (a pipeline run): its OpenLineage parent. */
  parent?: { job: string; runId: string } | null;
  steps: { nodeId: string; materialized: string | null }[];
  /** dbt runtime builds: the command and its other arguments. */
  command?: string | null;
  dbtArgs?: Record<string, unknown> | null;
}

export interface BuildListFilter {
  projectId?: string;
  status?: string;
  limit: number;
  before?: string;
}

/** A build in a list: what it ran and how its steps ended. */
export interface BuildSummary {
  id: string;
  projectId: string;
  selector: string | null;
  command: string | null;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  steps: { total: number; succeeded: number; failed: number; skipped: number; running: number; pending: number };
}

/** A build recovery failed: its project, and the steps that had started (now failed). */
export interface StaleBuild {
  id: string;
  projectId: string;
  started: string[];
  parent: { job: string; runId: string } | null;
}

/**
 * Builds and their steps. Every state change is published with its run event through the outbox
 * in the same statement or transaction (event key `<runId>:<state>`), and happens only while the
 * build is running: a build recovery failed keeps the states it was given and sends no more events.
 */
export interface BuildStore {
  /** Records the build (running) with its pending steps and its START event, atomically. */
  create(build: NewBuild, start: RunStateEvent): Promise<void>;
  /** The build with its steps in DAG order; null when there is none (or `id` is not a UUID). */
  find(id: string): Promise<BuildView | null>;
  /** Builds newest first (a project's, of a status; `before` a startedAt ISO time for the next page), with step counts. */
  list(filter: BuildListFilter): Promise<BuildSummary[]>;
  /** The process running the build is alive; false when the build is no longer running. */
  heartbeat(id: string): Promise<boolean>;
  /** Asks a running build to stop (no step starts after); false when it is not running. */
  requestCancel(id: string): Promise<boolean>;
  /** Whether someone asked the build to stop. */
  cancelRequested(id: string): Promise<boolean>;
  /** Changes a step (and publishes `event`, if any); false when the build is no longer running. */
  updateStep(buildId: string, nodeId: string, patch: StepPatch, event?: RunStateEvent): Promise<boolean>;
  /** running → succeeded or failed, with its event; false when the build had already ended. */
  end(buildId: string, status: 'succeeded' | 'failed', event: RunStateEvent): Promise<boolean>;
  /**
   * Fails the running builds without a heartbeat for `staleMs`: running steps failed, pending ones
   * skipped, both with `message`; the events `eventsOf` gives for each commit with them.
   */
  failStale(
    staleMs: number,
    message: string,
    eventsOf: (b: StaleBuild) => Promise<RunStateEvent[]>,
  ): Promise<StaleBuild[]>;
}
