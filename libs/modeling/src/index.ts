/**
 * @weir/modeling: the only public surface of the modeling slice. So far: the dbt project loader,
 * the Jinja-compatible compiler (configs, ref/source/var, ephemeral CTEs), the DAG and dbt-style
 * selection, and dbt YAML tests as quality expectations. Builds and the API come next (issue 5).
 */
export { ModelingModule } from './modeling.module';
export { modelingConfig } from './modeling.config';
export type { ModelingConfig, ArchiveLimits } from './modeling.config';
export { MODEL_BUILDS } from './application/ports/model-builds.port';
export type { ModelBuildsPort, StartModelBuild } from './application/ports/model-builds.port';
export { ModelingService } from './application/modeling.service';
export type { ProjectView, BuildView } from './application/modeling.views';
export type { ProjectCaller, ProjectHook } from './application/projects.service';
export { invokeDbt, parseDbtArgs } from './dbt/invocation';
export type { DbtInvocationOptions, DbtInvocationResult, DbtNodeResult } from './dbt/invocation';
export { resolveTarget } from './dbt/profile';
export type { DbtTarget } from './dbt/runtime';
export { compileModelSql, projectRootOf } from './dbt/legacy-compile';
export type { ModelUpstream } from './dbt/legacy-compile';
