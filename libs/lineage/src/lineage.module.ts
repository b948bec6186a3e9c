import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LINEAGE_ENTITIES } from './lineage.entities';
import { LineageController } from './http/lineage.controller';

/** The lineage slice. */
@Module({
  imports: [TypeOrmModule.forFeature(LINEAGE_ENTITIES)],
  controllers: [LineageController],
})
export class LineageModule {}
