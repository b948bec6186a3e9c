import type { ProjectOrmEntity } from '../../infrastructure/project.orm-entity';

/** Inject with `@Inject(PROJECT_REPOSITORY)`: the registered dbt projects (internal to modeling). */
export const PROJECT_REPOSITORY = Symbol('PROJECT_REPOSITORY');

/** A registered project as stored (modeling.projects). */
export type ProjectRecord = ProjectOrmEntity;

/** Registered projects, by id or by their unique name. */
export interface ProjectRepository {
  /** By id; a deleted project only `withDeleted` (its builds' history reads it). */
  findById(id: string, withDeleted?: boolean): Promise<ProjectRecord | null>;
  /** The project (not deleted) of that name. */
  findByName(name: string): Promise<ProjectRecord | null>;
  /** By name, not deleted. */
  list(): Promise<ProjectRecord[]>;
  /** Deletes the project softly (its builds stay); registering the name again makes a new project. */
  remove(id: string): Promise<void>;
  /** Creates the project, or updates the one with the same name: root path, model schema, updated now. */
  upsert(p: { name: string; rootPath: string; modelSchema: string }): Promise<ProjectRecord>;
}
