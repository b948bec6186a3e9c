import { Optional } from '@weir/platform';
import { EXPECTATION_TYPES } from '../domain/expectations';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsIn, IsObject, IsString, Length, ValidateNested } from 'class-validator';

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

export class ImportSuiteQueryDto {
  @ApiProperty({ description: 'dataset the suite attaches to' }) @IsString() dataset: string;
  @ApiPropertyOptional({ description: 'name (default: the GX suite name)' }) @Optional() @IsString() name?: string;
}

export class ListSuitesQueryDto {
  @ApiPropertyOptional() @Optional() @IsString() dataset?: string;
}
