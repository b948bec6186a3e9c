/** TypeORM entities of the modeling slice, schema "modeling" (the table generator adds to this list). */
export const MODELING_ENTITIES: Function[] = [
];
