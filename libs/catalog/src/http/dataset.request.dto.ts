import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsBoolean, IsInt, IsOptional, IsString, Length, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';

export class ColumnContractDto {
  @ApiProperty({ example: 'order_id' }) @IsString() name: string;
  @ApiProperty({ example: 'bigint', description: 'text, integer, bigint, numeric, numeric(p,s), boolean, date, timestamp, timestamptz, uuid, jsonb' }) @IsString() type: string;
  @ApiProperty() @IsBoolean() nullable: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() primaryKey?: boolean;
  @ApiPropertyOptional({ type: [String], example: ['new', 'paid'] }) @IsOptional() @IsArray() @IsString({ each: true }) allowed?: string[];
  @ApiPropertyOptional({ example: '^[A-Z]{3}$' }) @IsOptional() @IsString() pattern?: string;
  @ApiPropertyOptional({ example: 3 }) @IsOptional() @IsInt() maxLength?: number;
  @ApiPropertyOptional({ description: 'Personal data: masked in dead letters' }) @IsOptional() @IsBoolean() pii?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000) description?: string;
}

export class DatasetContractDto {
  @ApiProperty({ type: [ColumnContractDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => ColumnContractDto)
  columns: ColumnContractDto[];
}

export class CreateDatasetRequestDto {
  @ApiProperty({ example: 'orders', description: 'lower_snake_case, unique' })
  @IsString()
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'name must be lower_snake_case, at most 63 characters' })
  name: string;

  @ApiPropertyOptional({ example: 'raw', description: 'Warehouse schema (default raw)' }) @IsOptional() @IsString() @Length(1, 63) schema?: string;
  @ApiPropertyOptional({ example: 'orders', description: 'Warehouse table (default: the name)' }) @IsOptional() @IsString() @Length(1, 63) table?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000) description?: string;
  @ApiPropertyOptional({ example: 'data-eng@acme.test' }) @IsOptional() @IsString() @MaxLength(100) owner?: string;
  @ApiPropertyOptional({ type: [String], example: ['sales'] }) @IsOptional() @IsArray() @IsString({ each: true }) tags?: string[];

  @ApiProperty({ type: DatasetContractDto })
  @ValidateNested()
  @Type(() => DatasetContractDto)
  contract: DatasetContractDto;
}

export class UpdateDatasetRequestDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000) description?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) owner?: string;
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @IsString({ each: true }) tags?: string[];

  @ApiPropertyOptional({ type: DatasetContractDto, description: 'The new contract; the change is classified and recorded' })
  @IsOptional()
  @ValidateNested()
  @Type(() => DatasetContractDto)
  contract?: DatasetContractDto;

  @ApiPropertyOptional({ description: 'Accept a breaking change (the next replace load rebuilds the table)' })
  @IsOptional()
  @IsBoolean()
  allowBreaking?: boolean;
}

export class ListDatasetsQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsString() tag?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() owner?: string;
}

export class PreviewQueryDto {
  @ApiPropertyOptional({ default: 20, maximum: 1000 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
}
