import { Module } from '@nestjs/common';
import { WEIR_CONFIG, WeirConfig } from '@weir/platform';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CatalogModule } from '@weir/catalog';
import { LINEAGE_QUERIES } from './application/ports/lineage-queries.port';
import { LINEAGE_GRAPH_WRITER } from './application/ports/lineage-graph-writer.port';
import { LineageStore } from './infrastructure/lineage.store';
import { QualityModule } from '@weir/quality';
import { LINEAGE_ENTITIES } from './lineage.entities';
import { LineageController, LineageGraphController } from './http/lineage.controller';
import { MarquezController } from './http/marquez.controller';
import { LineageService } from './application/lineage.service';
import { OpenLineageService } from './application/openlineage.service';
import { LineageQueryService } from './application/lineage-query.service';
import { LINEAGE_CONFIG, lineageConfig } from './lineage.config';

/**
 * The lineage slice: SQL column lineage, the graph store fed by OpenLineage events (received,
 * and translated from the run state changes the other slices publish through the outbox),
 * the Marquez-compatible API, impact analysis and pictures.
 */
@Module({
  imports: [TypeOrmModule.forFeature(LINEAGE_ENTITIES), CatalogModule, QualityModule],
  controllers: [LineageController, LineageGraphController, MarquezController],
  providers: [
    LineageService,
    OpenLineageService,
    LineageQueryService,
    LineageStore,
    { provide: LINEAGE_GRAPH_WRITER, useExisting: LineageStore },
    { provide: LINEAGE_CONFIG, useFactory: (c: WeirConfig) => lineageConfig(c.env), inject: [WEIR_CONFIG] },
    { provide: LINEAGE_QUERIES, useExisting: LineageQueryService },
  ],
  exports: [LINEAGE_QUERIES, LineageService],
})
export class LineageModule {}
