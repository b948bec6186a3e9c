import { SuiteOrmEntity } from './infrastructure/suite.orm-entity';
import { QualityRunOrmEntity } from './infrastructure/quality-run.orm-entity';
import { QualityResultOrmEntity } from './infrastructure/quality-result.orm-entity';
import { QualityMetricOrmEntity } from './infrastructure/quality-metric.orm-entity';

/** TypeORM entities of the quality slice, schema "quality". */
export const QUALITY_ENTITIES: Function[] = [
  SuiteOrmEntity,
  QualityRunOrmEntity,
  QualityResultOrmEntity,
  QualityMetricOrmEntity,
];
