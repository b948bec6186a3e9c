import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CatalogModule } from '@weir/catalog';
import { QualityModule } from '@weir/quality';
import { IngestionModule } from '@weir/ingestion';
import { ModelBuildsService } from './application/model-builds.service';
import { MODEL_BUILDS } from './application/ports/model-builds.port';
import { MODELING_ENTITIES } from './modeling.entities';
import { ModelingService } from './application/modeling.service';
import { ModelingController } from './http/modeling.controller';

/** The modeling slice: dbt-compatible projects, compiled SQL, audited builds. */
@Module({
  imports: [TypeOrmModule.forFeature(MODELING_ENTITIES), CatalogModule, QualityModule, IngestionModule],
  controllers: [ModelingController],
  providers: [ModelingService, ModelBuildsService, { provide: MODEL_BUILDS, useExisting: ModelBuildsService }],
  exports: [MODEL_BUILDS, ModelingService],
})
export class ModelingModule {}
