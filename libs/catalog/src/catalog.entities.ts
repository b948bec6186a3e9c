/** TypeORM entities of the catalog slice, schema "catalog" (the table generator adds to this list). */
export const CATALOG_ENTITIES: Function[] = [
];
