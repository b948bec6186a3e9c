import { Optional } from '@weir/platform';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsString, IsUUID, Max, Min } from 'class-validator';

export class RunSuiteRequestDto {
  @ApiPropertyOptional({
    description: 'Run on this table instead of the dataset (e.g. staged rows)',
    example: 'raw.__weir_stage_x',
  })
  @Optional()
  @IsString()
  table?: string;
}

export class MetricsQueryDto {
  @ApiPropertyOptional({ example: 'row_count' }) @Optional() @IsString() metric?: string;
  @ApiPropertyOptional({ default: 100 }) @Optional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
}

export class QualityRunListQueryDto {
  @ApiPropertyOptional({ example: 'orders' }) @Optional() @IsString() dataset?: string;
  @ApiPropertyOptional({ description: 'a suite id' }) @Optional() @IsUUID() suite?: string;
  @ApiPropertyOptional({ enum: ['passed', 'warned', 'failed'] })
  @Optional()
  @IsIn(['passed', 'warned', 'failed'])
  status?: string;
  @ApiPropertyOptional({ default: 50 }) @Optional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
  @ApiPropertyOptional({ description: 'the `next` of the previous page (a startedAt)' })
  @Optional()
  @IsISO8601()
  before?: string;
}
