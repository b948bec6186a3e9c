/** TypeORM entities of the ingestion slice, schema "ingestion" (the table generator adds to this list). */
export const INGESTION_ENTITIES: Function[] = [
];
