import { Module } from '@nestjs/common';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Outbox, Warehouse, WEIR_CONFIG, WeirConfig } from '@weir/platform';
import { CATALOG_ENTITIES } from './catalog.entities';
import { CatalogService } from './application/catalog.service';
import { CATALOG } from './application/catalog.port';
import { DATASET_REPOSITORY } from './application/ports/dataset-repository.port';
import { DATASET_TABLES } from './application/ports/dataset-tables.port';
import { TypeOrmDatasetRepository } from './infrastructure/dataset.repository';
import { WarehouseDatasetTables } from './infrastructure/dataset-table.repository';
import { DatasetsController } from './http/datasets.controller';
import { CATALOG_CONFIG, catalogConfig, CatalogConfig } from './catalog.config';
import { LakeExportService } from './application/lake-export.service';
import { EXPORT_READER, EXPORT_RECORDS, LAKE_TARGETS } from './application/ports/lake-export.port';
import { WarehouseExportReader } from './infrastructure/lake-export.reader';
import { TypeOrmExportRecords } from './infrastructure/export-record.repository';
import { FileLakeTargets } from './infrastructure/lake-target.writer';

/** The catalog slice: datasets, contracts, versions. Exports the {@link CATALOG} port. */
@Module({
  imports: [TypeOrmModule.forFeature(CATALOG_ENTITIES)],
  controllers: [DatasetsController],
  providers: [
    CatalogService,
    { provide: CATALOG, useExisting: CatalogService },
    {
      provide: DATASET_REPOSITORY,
      useFactory: (ds: DataSource, outbox: Outbox) => new TypeOrmDatasetRepository(ds, outbox),
      inject: [getDataSourceToken(), Outbox],
    },
    { provide: DATASET_TABLES, useFactory: (w: Warehouse) => new WarehouseDatasetTables(w), inject: [Warehouse] },
    { provide: CATALOG_CONFIG, useFactory: (c: WeirConfig) => catalogConfig(c, c.env), inject: [WEIR_CONFIG] },
    LakeExportService,
    { provide: EXPORT_READER, useFactory: (w: Warehouse) => new WarehouseExportReader(w), inject: [Warehouse] },
    {
      provide: EXPORT_RECORDS,
      useFactory: (ds: DataSource) => new TypeOrmExportRecords(ds),
      inject: [getDataSourceToken()],
    },
    {
      provide: LAKE_TARGETS,
      useFactory: (c: CatalogConfig) => new FileLakeTargets(c.exportRoot),
      inject: [CATALOG_CONFIG],
    },
  ],
  exports: [CATALOG, LakeExportService],
})
export class CatalogModule {}
