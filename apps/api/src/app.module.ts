import { DynamicModule, Module, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import {
  ApiKeyGuard,
  PlatformModule,
  PlatformModuleOptions,
  ProblemDetailsFilter,
  VALIDATION_OPTIONS,
} from '@weir/platform';
import { CatalogModule } from '@weir/catalog';
import { QualityModule } from '@weir/quality';
import { IngestionModule } from '@weir/ingestion';
import { ModelingModule } from '@weir/modeling';
import { LineageModule } from '@weir/lineage';
import { OrchestrationModule } from '@weir/orchestration';
// weir:slice-imports (the slice generator adds imports above this line)

/** Composes the kernel and the slice modules. Slices are added to `imports` as they are built. */
@Module({})
export class AppModule {
  static forRoot(opts: PlatformModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot(opts),
        CatalogModule,
        QualityModule,
        IngestionModule,
        ModelingModule,
        LineageModule,
        OrchestrationModule,
        // weir:slice-modules (the slice generator adds modules above this line)
      ],
      providers: [
        { provide: APP_PIPE, useValue: new ValidationPipe(VALIDATION_OPTIONS) },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        { provide: APP_GUARD, useExisting: ApiKeyGuard },
      ],
    };
  }
}
