import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { QUALITY_ENTITIES } from './quality.entities';
import { QualityController } from './http/quality.controller';

/** The quality slice. */
@Module({
  imports: [TypeOrmModule.forFeature(QUALITY_ENTITIES)],
  controllers: [QualityController],
})
export class QualityModule {}
