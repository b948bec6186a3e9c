import type { CompiledNode, CompiledProject } from '../../domain/compile';
import type { Project } from '../../domain/project';
import type { ProjectOrmEntity } from '../../infrastructure/project.orm-entity';
import type { StepPatch } from '../modeling.views';

/** What a step builds from: the project (as registered and as loaded), its compiled DAG and the node. */
export interface StepContext {
  entity: ProjectOrmEntity;
  project: Project;
  compiled: CompiledProject;
  node: CompiledNode;
  /** Rebuild incremental models from scratch. */
  fullRefresh: boolean;
}

/**
 * How one kind of node becomes a relation (dbt's materializations): view and table, incremental,
 * snapshot, seed. Each builds beside or stages first and publishes in one transaction, so a failed
 * step leaves the previous version live. Returns what the step records.
 */
export interface Materializer {
  materialize(ctx: StepContext): Promise<StepPatch>;
}
