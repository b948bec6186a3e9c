import { DynamicModule, Module, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ApiKeyGuard, PlatformModule, PlatformModuleOptions, ProblemDetailsFilter } from '@weir/platform';
import { CatalogModule } from '@weir/catalog';
import { QualityModule } from '@weir/quality';
import { IngestionModule } from '@weir/ingestion';
import { ModelingModule } from '@weir/modeling';
import { LineageModule } from '@weir/lineage';
// weir:slice-imports (the slice generator adds imports above this line)

/** The global ValidationPipe settings every route shares (unknown fields are errors, not silently dropped). */
export const VALIDATION_OPTIONS = { whitelist: true, forbidNonWhitelisted: true, transform: true } as const;

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
