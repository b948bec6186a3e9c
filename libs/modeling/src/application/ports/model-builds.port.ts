import type { BuildView } from '../modeling.views';

/** Nest token of {@link ModelBuildsPort}. */
export const MODEL_BUILDS = Symbol('MODEL_BUILDS');

/** What starts a build. */
export interface StartModelBuild {
  /** The project, by id or name. */
  project: string;
  /** dbt's selection syntax (`orders+`, `tag:daily`, `+model`); default: the whole project. */
  select?: string;
  /** Rebuild incremental models from scratch. */
  fullRefresh?: boolean;
  /** Take over relations recorded for another owner (see MODELING.RELATION_OWNED_ELSEWHERE). */
  takeOver?: boolean;
  /** The run that asked for the build (a pipeline run): the OpenLineage parent of the build's run. */
  parent?: { job: string; runId: string };
}

/**
 * Model builds as other slices start and follow them (orchestration). Each step's start and end
 * are also published on the run-events topic (`RUN_EVENTS_TOPIC`).
 */
export interface ModelBuildsPort {
  /** Starts a build of the selection; returns at once with its steps pending. */
  start(req: StartModelBuild): Promise<BuildView>;
  /** The build now. Throws `MODELING.BUILD_NOT_FOUND`. */
  get(id: string): Promise<BuildView>;
  /**
   * Cancels the build: no step starts any more (running ones end, each atomic); it ends failed
   * with `MODELING.CANCELLED`. An ended build stays as it ended.
   */
  cancel(id: string): Promise<BuildView>;
  /** The build once no step is left running; throws after `timeoutMs`. */
  waitFor(id: string, timeoutMs?: number): Promise<BuildView>;
}
