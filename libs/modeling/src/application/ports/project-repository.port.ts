import type { ProjectOrmEntity } from '../../infrastructure/project.orm-entity';

/** Inject with `@Inject(PROJECT_REPOSITORY)`: the registered dbt projects (internal to modeling). */
export const PROJECT_REPOSITORY = Symbol('PROJECT_REPOSITORY');

/** A registered project as stored (modeling.projects). */
export type ProjectRecord = ProjectOrmEntity;

/** Registered projects, by id or by their unique name. */
export interface ProjectRepository {
  findById(id: string): Promise<ProjectRecord | null>;
  findByName(name: string): Promise<ProjectRecord | null>;
  /** By name. */
  list(): Promise<ProjectRecord[]>;
  /** Creates the project, or updates the one with the same name: root path, model schema, updated now. */
  upsert(p: { name: string; rootPath: string; modelSchema: string }): Promise<ProjectRecord>;
}
