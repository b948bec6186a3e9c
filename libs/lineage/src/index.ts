/**
 * @weir/lineage: the only public surface of the lineage slice (module, port tokens and interfaces, events, DTO types).
 */
export { LineageModule } from './lineage.module';
export { LINEAGE_QUERIES } from './application/ports/lineage-queries.port';
export type { LineageQueriesPort } from './application/ports/lineage-queries.port';
export { LineageService } from './application/lineage.service';
export type { ParseRequest } from './application/lineage.service';
export { sqlLineage, SqlParseError } from './domain/sql-lineage';
export type { SqlLineage, SqlLineageOptions, ColumnLineageEdge, TransformationType, TransformationSubtype } from './domain/sql-lineage';
export { lineageConfig, LINEAGE_CONFIG } from './application/lineage.config';
export type { LineageConfig } from './application/lineage.config';
export { OpenLineageService, FORWARD_TOPIC } from './application/openlineage.service';
export { LineageQueryService } from './application/lineage-query.service';
export type { ImpactReport } from './application/lineage-query.service';
export { toMermaid, toDot, toSvg, GraphTooLargeError } from './domain/graph-render';
export type { LineageNode, LineageEdge, LineageNodeType } from './domain/graph-render';
export { openLineageIngestMiddleware } from './http/openlineage-ingest.middleware';
export type { AccessLog } from './http/openlineage-ingest.middleware';
