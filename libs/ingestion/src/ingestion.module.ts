import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { INGESTION_ENTITIES } from './ingestion.entities';
import { IngestionController } from './http/ingestion.controller';

/** The ingestion slice. */
@Module({
  imports: [TypeOrmModule.forFeature(INGESTION_ENTITIES)],
  controllers: [IngestionController],
})
export class IngestionModule {}
