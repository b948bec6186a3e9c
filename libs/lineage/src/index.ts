/**
 * @weir/lineage: the only public surface of the lineage slice (module, port tokens and interfaces, events, DTO types).
 */
export { LineageModule } from './lineage.module';
export { LINEAGE_QUERIES } from './application/ports/lineage-queries.port';
export type { LineageQueriesPort } from './application/ports/lineage-queries.port';
export { LineageService } from './application/lineage.service';
export type { ParseRequest } from './application/lineage.service';
export { sqlLineage, upstreamSchemas } from './domain/sql-lineage';
export type {
  SqlLineage,
  SqlLineageOptions,
  ColumnLineageEdge,
  UpstreamRelation,
  TransformationType,
  TransformationSubtype,
} from './domain/sql-lineage';
export { lineageConfig } from './lineage.config';
export type { LineageConfig } from './lineage.config';
export { OpenLineageService } from './application/openlineage.service';
export type { ImpactReport } from './application/lineage-query.service';
export type { LineageNode, LineageEdge, LineageNodeType } from './domain/graph-render';
export { openLineageIngestMiddleware } from './http/openlineage-ingest.middleware';
export type { AccessLog } from './http/openlineage-ingest.middleware';
export { BadSchemasError, FileNotReadableError } from './lineage.errors';
