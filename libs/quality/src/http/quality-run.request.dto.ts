import { Optional } from '@weir/platform';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsString, Max, Min } from 'class-validator';

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
