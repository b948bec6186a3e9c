import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MODELING_ENTITIES } from './modeling.entities';
import { ModelingController } from './http/modeling.controller';

/** The modeling slice. */
@Module({
  imports: [TypeOrmModule.forFeature(MODELING_ENTITIES)],
  controllers: [ModelingController],
})
export class ModelingModule {}
