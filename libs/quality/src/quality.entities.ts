/** TypeORM entities of the quality slice, schema "quality" (the table generator adds to this list). */
export const QUALITY_ENTITIES: Function[] = [
];
