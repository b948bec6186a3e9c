import { Optional } from '@weir/platform';
import { EXPECTATION_TYPES } from '../domain/expectations';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsIn, IsInt, IsObject, IsString, Length, Max, Min, ValidateNested } from 'class-validator';

export class ExpectationDto {
  @ApiProperty({
    example: 'expect_column_values_to_not_be_null',
    description:
      "GX expectation type, or one of Weir's own (relationships, freshness, row_count_change_within, custom_sql); kwargs per type: GET /api/quality/expectation-types",
    enum: EXPECTATION_TYPES,
  })
  @IsString()
  type: string;
  @ApiProperty({
    example: { column: 'id', mostly: 0.99 },
    description: 'GX kwargs (column, value_set, min_value, mostly, row_condition, …)',
  })
  @IsObject()
  kwargs: Record<string, unknown>;
  @ApiPropertyOptional() @Optional() @IsObject() meta?: Record<string, unknown>;
  @ApiPropertyOptional({ enum: ['warn', 'error'], default: 'error' }) @Optional() @IsIn(['warn', 'error']) severity?:
    'warn' | 'error';
}

export class SuiteRequestDto {
  @ApiProperty({ example: 'orders_checks' }) @IsString() @Length(1, 100) name: string;
  @ApiProperty({ example: 'orders' }) @IsString() @Length(1, 63) dataset: string;
  @ApiProperty({ type: [ExpectationDto] })
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ExpectationDto)
  expectations: ExpectationDto[];
  @ApiPropertyOptional() @Optional() @IsObject() meta?: Record<string, unknown>;
}

export class SuiteResponseDto extends SuiteRequestDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class SuiteListResponseDto {
  @ApiProperty({ type: [SuiteResponseDto] }) items: SuiteResponseDto[];
}

export class ImportSuiteQueryDto {
  @ApiProperty({ description: 'dataset the suite attaches to' }) @IsString() dataset: string;
  @ApiPropertyOptional({ description: 'name (default: the GX suite name)' }) @Optional() @IsString() name?: string;
}

export class ListSuitesQueryDto {
  @ApiPropertyOptional() @Optional() @IsString() dataset?: string;
}

export class RunSuiteRequestDto {
  @ApiPropertyOptional({
    description: 'Run on this table instead of the dataset (e.g. staged rows)',
    example: 'raw.__weir_stage_x',
  })
  @Optional()
  @IsString()
  table?: string;
}

export class ResultDto {
  @ApiProperty() index: number;
  @ApiProperty() type: string;
  @ApiProperty({ type: Object }) kwargs: Record<string, unknown>;
  @ApiProperty({ enum: ['warn', 'error'] }) severity: string;
  @ApiProperty() success: boolean;
  @ApiPropertyOptional({ description: 'aggregate and table checks' }) observedValue?: unknown;
  @ApiPropertyOptional() elementCount?: number;
  @ApiPropertyOptional() unexpectedCount?: number;
  @ApiPropertyOptional({ type: Number, nullable: true }) unexpectedPercent?: number | null;
  @ApiPropertyOptional({ type: [Object], description: 'up to 20 unexpected values, PII masked' })
  sampleUnexpected?: unknown[];
  @ApiPropertyOptional() exception?: string;
}

export class QualityRunResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) suiteId: string;
  @ApiProperty() dataset: string;
  @ApiProperty({ example: 'raw.orders' }) target: string;
  @ApiProperty({ enum: ['passed', 'warned', 'failed'] }) status: string;
  @ApiProperty({ enum: ['api', 'gate'] }) trigger: string;
  @ApiProperty({ type: String, nullable: true }) triggerRef: string | null;
  @ApiProperty() startedAt: string;
  @ApiProperty() finishedAt: string;
  @ApiProperty() rowCount: number;
  @ApiProperty({ type: [ResultDto] }) results: ResultDto[];
}

export class MetricsQueryDto {
  @ApiPropertyOptional({ example: 'row_count' }) @Optional() @IsString() metric?: string;
  @ApiPropertyOptional({ default: 100 }) @Optional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
}

export class MetricPointDto {
  @ApiProperty() metric: string;
  @ApiProperty() value: number;
  @ApiProperty() runId: string;
  @ApiProperty() at: string;
}

export class MetricsResponseDto {
  @ApiProperty({ type: [MetricPointDto], description: 'newest first' }) items: MetricPointDto[];
}

export class SuiteSqlResponseDto {
  @ApiProperty({ description: 'the one scan for every row-wise and aggregate expectation' }) scan: string;
  @ApiProperty({ type: [Object] }) params: unknown[];
  @ApiProperty({ type: [Object], description: 'grouped queries (uniqueness, distinct sets)' }) queries: {
    expectation: number;
    sql: string;
    params: unknown[];
  }[];
}
