import { LINEAGE_ORM_ENTITIES } from './infrastructure/lineage.orm-entities';

/** TypeORM entities of the lineage slice, schema "lineage" (the table generator adds to this list). */
export const LINEAGE_ENTITIES: Function[] = [...LINEAGE_ORM_ENTITIES];
