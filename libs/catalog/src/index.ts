/**
 * @weir/catalog: the only public surface of the catalog slice (module, the CATALOG port,
 * contract types and the contract compiler).
 */
export { CatalogModule } from './catalog.module';
export { catalogConfig } from './catalog.config';
export type { CatalogConfig } from './catalog.config';
export { LakeExportService } from './application/lake-export.service';
export type { ExportResult } from './application/lake-export.service';
export type { ExportRequest } from './domain/lake-export';
export { CATALOG } from './application/catalog.port';
export type { CatalogPort, DatasetView, OwnershipClaim, DatasetDependentsProbe } from './application/catalog.port';
export { DATASET_UPDATED_TOPIC } from './application/dataset.events';
export type { DatasetUpdated } from './application/dataset.events';
export { parseType, sqlType, classifyChange, primaryKey } from './domain/contract';
export type {
  ColumnContract,
  DatasetContract,
  BaseType,
  ParsedType,
  ChangeKind,
  ContractChange,
} from './domain/contract';
export { compileContract, MASK } from './domain/contract-compiler';
export type { CompiledContract, CompileOptions, ColumnMapping } from './domain/contract-compiler';
export { REASON_CODES, isViolation } from './domain/reason-codes';
export type { ReasonCode, Violation } from './domain/reason-codes';
export { createTableSql, columnSql } from './domain/ddl';
