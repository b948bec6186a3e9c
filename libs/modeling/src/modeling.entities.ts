import { ProjectOrmEntity } from './infrastructure/project.orm-entity';
import { BuildOrmEntity } from './infrastructure/build.orm-entity';
import { BuildStepOrmEntity } from './infrastructure/build-step.orm-entity';

/** TypeORM entities of the modeling slice, schema "modeling". */
export const MODELING_ENTITIES: Function[] = [ProjectOrmEntity, BuildOrmEntity, BuildStepOrmEntity];
