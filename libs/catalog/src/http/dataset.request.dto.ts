import { Optional } from '@weir/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { SUPPORTED_TYPES } from '../domain/contract';
import {
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

export class ColumnContractDto {
  @ApiProperty({ example: 'order_id' }) @IsString() name: string;
  @ApiProperty({ example: 'bigint', description: SUPPORTED_TYPES })
  @IsString()
  type: string;
  @ApiPropertyOptional({
    default: true,
    description: 'Whether NULL is allowed (default true; false for a primaryKey column)',
  })
  @Optional()
  @IsBoolean()
  nullable?: boolean;
  @ApiPropertyOptional() @Optional() @IsBoolean() primaryKey?: boolean;
  @ApiPropertyOptional({ type: [String], example: ['new', 'paid'] })
  @Optional()
  @IsArray()
  @IsString({ each: true })
  allowed?: string[];
  @ApiPropertyOptional({ example: '^[A-Z]{3}$' }) @Optional() @IsString() pattern?: string;
  @ApiPropertyOptional({ example: 3, description: 'text only: the column becomes varchar(maxLength)' })
  @Optional()
  @IsInt()
  maxLength?: number;
  @ApiPropertyOptional({
    description:
      'Personal data: in clear for admin keys only; masked (***) for other keys in previews, dead letters and exports, in quality evidence for every key; never logged',
  })
  @Optional()
  @IsBoolean()
  pii?: boolean;
  @ApiPropertyOptional() @Optional() @IsString() @MaxLength(2000) description?: string;
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

  @ApiPropertyOptional({ example: 'raw', description: 'Warehouse schema (default raw)' })
  @Optional()
  @IsString()
  @Length(1, 63)
  schema?: string;
  @ApiPropertyOptional({ example: 'orders', description: 'Warehouse table (default: the name)' })
  @Optional()
  @IsString()
  @Length(1, 63)
  table?: string;
  @ApiPropertyOptional() @Optional() @IsString() @MaxLength(2000) description?: string;
  @ApiPropertyOptional({ example: 'data-eng@acme.test' }) @Optional() @IsString() @MaxLength(100) owner?: string;
  @ApiPropertyOptional({ type: [String], example: ['sales'] })
  @Optional()
  @IsArray()
  @IsString({ each: true })
  tags?: string[];

  @ApiProperty({ type: DatasetContractDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => DatasetContractDto)
  contract: DatasetContractDto;
}

export class UpdateDatasetRequestDto {
  @ApiPropertyOptional({ type: String, nullable: true, description: 'null clears it' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'null clears it' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  owner?: string | null;
  @ApiPropertyOptional({ type: [String] }) @Optional() @IsArray() @IsString({ each: true }) tags?: string[];

  @ApiPropertyOptional({
    type: DatasetContractDto,
    description: 'The new contract; the change is classified and recorded',
  })
  @Optional()
  @ValidateNested()
  @Type(() => DatasetContractDto)
  contract?: DatasetContractDto;

  @ApiPropertyOptional({ description: 'Accept a breaking change (the next replace load rebuilds the table)' })
  @Optional()
  @IsBoolean()
  allowBreaking?: boolean;
}

export class ListDatasetsQueryDto {
  @ApiPropertyOptional() @Optional() @IsString() tag?: string;
  @ApiPropertyOptional() @Optional() @IsString() owner?: string;
}

export class PreviewQueryDto {
  @ApiPropertyOptional({
    default: 20,
    minimum: 1,
    description:
      'Rows to return (default 20, or WEIR_PREVIEW_MAX_ROWS when lower), at most WEIR_PREVIEW_MAX_ROWS (default 1000); a larger limit is refused (400 CATALOG.PREVIEW_LIMIT_TOO_LARGE)',
  })
  @Optional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  limit?: number;
}

export class DeleteDatasetQueryDto {
  @ApiPropertyOptional({
    enum: ['true', 'false'],
    default: 'false',
    description:
      'Also drop the warehouse table (and the kept versions of a versioned dataset). Default false: the catalog entry goes, the data stays',
  })
  @Optional()
  @IsIn(['true', 'false'])
  dropTable?: 'true' | 'false';

  @ApiPropertyOptional({
    enum: ['true', 'false'],
    default: 'false',
    description:
      "Delete although jobs of other systems read the dataset (known from their OpenLineage events). Weir's own dependents (sources, suites, models, pipelines, views) always refuse",
  })
  @Optional()
  @IsIn(['true', 'false'])
  force?: 'true' | 'false';
}
