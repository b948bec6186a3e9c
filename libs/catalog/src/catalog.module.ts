import { Module } from '@nestjs/common';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Outbox, Warehouse } from '@weir/platform';
import { CATALOG_ENTITIES } from './catalog.entities';
import { CatalogService } from './application/catalog.service';
import { CATALOG } from './application/catalog.port';
import { DATASET_REPOSITORY } from './application/ports/dataset-repository.port';
import { DATASET_TABLES } from './application/ports/dataset-tables.port';
import { TypeOrmDatasetRepository } from './infrastructure/dataset.repository';
import { WarehouseDatasetTables } from './infrastructure/dataset-table.repository';
import { DatasetsController } from './http/datasets.controller';

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
  ],
  exports: [CATALOG],
})
export class CatalogModule {}
