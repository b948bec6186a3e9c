import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { WEIR_CONFIG, WeirConfig } from '@weir/platform';
import { CatalogModule } from '@weir/catalog';
import { QualityModule } from '@weir/quality';
import { IngestionModule } from '@weir/ingestion';
import { ModelBuildsService } from './application/model-builds.service';
import { MODELING_CONFIG, modelingConfig } from './modeling.config';
import { MODEL_BUILDS } from './application/ports/model-builds.port';
import { MODELING_ENTITIES } from './modeling.entities';
import { ModelingService } from './application/modeling.service';
import { CompileProjectService } from './application/compile-project.service';
import { ProjectsService } from './application/projects.service';
import { BuildRunnerService } from './application/build-runner.service';
import { StartBuildService } from './application/start-build.service';
import { BuildRecoveryService } from './application/build-recovery.service';
import { TableViewMaterializer } from './infrastructure/materializers/table-view.materializer';
import { IncrementalMaterializer } from './infrastructure/materializers/incremental.materializer';
import { SnapshotMaterializer } from './infrastructure/materializers/snapshot.materializer';
import { SeedMaterializer } from './infrastructure/materializers/seed.materializer';
import { ModelingController } from './http/modeling.controller';

/** The modeling slice: dbt-compatible projects, compiled SQL, audited builds. */
import { BUILD_STORE } from './application/ports/build-store.port';
import { PROJECT_REPOSITORY } from './application/ports/project-repository.port';
import { PgBuildStore } from './infrastructure/build.store';
import { PgProjectRepository } from './infrastructure/project.repository';
import { DBT_RUNNER } from './application/ports/dbt-runner.port';
import { DbtBuildsService } from './application/dbt-builds.service';
import { DbtInvocationsRunner } from './infrastructure/dbt-invocations.runner';

@Module({
  imports: [TypeOrmModule.forFeature(MODELING_ENTITIES), CatalogModule, QualityModule, IngestionModule],
  controllers: [ModelingController],
  providers: [
    { provide: MODELING_CONFIG, useFactory: (c: WeirConfig) => modelingConfig(c, c.env), inject: [WEIR_CONFIG] },
    { provide: BUILD_STORE, useClass: PgBuildStore },
    { provide: PROJECT_REPOSITORY, useClass: PgProjectRepository },
    CompileProjectService,
    ProjectsService,
    TableViewMaterializer,
    IncrementalMaterializer,
    SnapshotMaterializer,
    SeedMaterializer,
    BuildRunnerService,
    StartBuildService,
    BuildRecoveryService,
    DbtBuildsService,
    { provide: DBT_RUNNER, useFactory: () => new DbtInvocationsRunner() },
    ModelingService,
    ModelBuildsService,
    { provide: MODEL_BUILDS, useExisting: ModelBuildsService },
  ],
  exports: [MODEL_BUILDS, ModelingService],
})
export class ModelingModule {}
