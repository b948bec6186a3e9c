import type { BuildStepOrmEntity } from '../infrastructure/build-step.orm-entity';

/** The fields of a build step a step's work sets. */
export type StepPatch = Partial<
  Pick<
    BuildStepOrmEntity,
    'status' | 'startedAt' | 'finishedAt' | 'rowsAffected' | 'compiledSql' | 'error' | 'errorCode' | 'refs'
  >
>;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a build may do beyond building: rebuild incremental models, take over relations recorded for another owner. */
export interface BuildOptions {
  fullRefresh?: boolean;
  takeOver?: boolean;
  /** The run that asked for the build (a pipeline run): the OpenLineage parent of the build's run. */
  parent?: { job: string; runId: string };
  /**
   * Run the build with the dbt runtime, dbt's semantics: this command (build, run, seed, test,
   * snapshot, compile, docs generate) over the selection; `exclude`, `vars`, `failFast` as dbt's flags.
   */
  command?: 'build' | 'run' | 'seed' | 'test' | 'snapshot' | 'compile' | 'docs generate';
  exclude?: string;
  vars?: Record<string, unknown>;
  failFast?: boolean;
}

export interface ProjectView {
  id: string;
  name: string;
  rootPath: string;
  modelSchema: string;
  nodes: {
    id: string;
    kind: string;
    name: string;
    relation: string;
    materialized?: string;
    tags: string[];
    dependsOn: string[];
  }[];
  order: string[];
}

export interface BuildView {
  id: string;
  projectId: string;
  selector: string | null;
  /** dbt's command when the dbt runtime ran the build; null for Weir's own builds. */
  command: string | null;
  dbtArgs: Record<string, unknown> | null;
  fullRefresh: boolean;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  takeOver: boolean;
  steps: {
    node: string;
    materialized: string | null;
    status: string;
    startedAt: string | null;
    finishedAt: string | null;
    rowsAffected: number | null;
    error: string | null;
    errorCode: string | null;
    refs: Record<string, unknown> | null;
  }[];
}
