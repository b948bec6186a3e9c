/** TypeORM entities of the lineage slice, schema "lineage" (the table generator adds to this list). */
export const LINEAGE_ENTITIES: Function[] = [
];
