import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LINEAGE_ENTITIES } from './lineage.entities';
import { LineageController } from './http/lineage.controller';
import { LineageService } from './application/lineage.service';

/** The lineage slice. */
@Module({
  imports: [TypeOrmModule.forFeature(LINEAGE_ENTITIES)],
  controllers: [LineageController],
  providers: [LineageService],
  exports: [LineageService],
})
export class LineageModule {}
