import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CATALOG_ENTITIES } from './catalog.entities';
import { CatalogService } from './application/catalog.service';
import { CATALOG } from './application/catalog.port';
import { DatasetsController } from './http/datasets.controller';

/** The catalog slice: datasets, contracts, versions. Exports the {@link CATALOG} port. */
@Module({
  imports: [TypeOrmModule.forFeature(CATALOG_ENTITIES)],
  controllers: [DatasetsController],
  providers: [CatalogService, { provide: CATALOG, useExisting: CatalogService }],
  exports: [CATALOG],
})
export class CatalogModule {}
