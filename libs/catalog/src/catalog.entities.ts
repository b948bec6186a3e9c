import { DatasetOrmEntity } from './infrastructure/dataset.orm-entity';
import { SchemaChangeOrmEntity } from './infrastructure/schema-change.orm-entity';
import { ExportRecordOrmEntity } from './infrastructure/export-record.orm-entity';

/** TypeORM entities of the catalog slice, schema "catalog" (the table generator adds to this list). */
export const CATALOG_ENTITIES: Function[] = [DatasetOrmEntity, SchemaChangeOrmEntity, ExportRecordOrmEntity];
