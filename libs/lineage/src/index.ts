/**
 * @weir/lineage: the only public surface of the lineage slice (module, port tokens and interfaces, events, DTO types).
 */
export { LineageModule } from './lineage.module';
export { LineageService } from './application/lineage.service';
export type { ParseRequest } from './application/lineage.service';
export { sqlLineage, SqlParseError } from './domain/sql-lineage';
export type { SqlLineage, SqlLineageOptions, ColumnLineageEdge, TransformationType, TransformationSubtype } from './domain/sql-lineage';
