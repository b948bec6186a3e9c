import { Optional } from '@weir/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsDefined,
  IsInt,
  IsBoolean,
  IsIn,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { DRIFT_POLICIES, FORMATS, STRATEGIES } from '../domain/source';

export class SourceLocationDto {
  @ApiPropertyOptional({
    example: 'orders.csv',
    description: 'File to load when a run names none (relative to WEIR_INGEST_ROOT)',
  })
  @Optional()
  @IsString()
  @MaxLength(1000)
  path?: string;
  @ApiPropertyOptional({ example: 'orders/', description: 'Inbox folder a schedule scans for new files' })
  @Optional()
  @IsString()
  @MaxLength(1000)
  inbox?: string;
  @ApiPropertyOptional({ example: '*.csv.gz', description: 'File-name glob in the inbox (default *)' })
  @Optional()
  @IsString()
  @MaxLength(200)
  pattern?: string;
}

export class StrategyDto {
  @ApiProperty({ enum: STRATEGIES }) @IsIn(STRATEGIES as unknown as string[]) kind: string;
  @ApiPropertyOptional({ description: 'merge/incremental: duplicates in one input keep the last row by this column' })
  @Optional()
  @IsString()
  orderBy?: string;
  @ApiPropertyOptional({ description: 'incremental: the cursor column' }) @Optional() @IsString() cursor?: string;
  @ApiPropertyOptional({ example: '2 hours', description: 'incremental: re-read rows this far below the watermark' })
  @Optional()
  @IsString()
  lookback?: string;
}

export class CsvOptionsDto {
  @ApiPropertyOptional({ example: ',' }) @Optional() @IsString() delimiter?: string;
  @ApiPropertyOptional({ example: '"' }) @Optional() @IsString() quote?: string;
  @ApiPropertyOptional({
    example: '"',
    description: 'Escape character inside quotes (default: the quote, as in RFC 4180)',
  })
  @Optional()
  @IsString()
  escape?: string;
  @ApiPropertyOptional({ default: true }) @Optional() @IsBoolean() header?: boolean;
  @ApiPropertyOptional({ type: [String], description: 'Field names when there is no header (or to override it)' })
  @Optional()
  @IsArray()
  @IsString({ each: true })
  columns?: string[];
  @ApiPropertyOptional({ enum: ['utf8', 'latin1'] }) @Optional() @IsIn(['utf8', 'latin1']) encoding?: 'utf8' | 'latin1';
}

export class ScheduleDto {
  @ApiProperty({ example: '0 */15 * * * *', description: 'cron (5 or 6 fields; seconds first when 6)' })
  @IsString()
  cron: string;
  @ApiPropertyOptional({ example: 'Europe/Paris' }) @Optional() @IsString() timezone?: string;
}

export class CreateSourceRequestDto {
  @ApiProperty({ example: 'orders_csv' })
  @IsString()
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'name must be lower_snake_case, at most 63 characters' })
  name: string;
  @ApiProperty({ example: 'orders', description: 'Catalog dataset whose contract the rows must meet' })
  @IsString()
  @Length(1, 63)
  dataset: string;
  @ApiPropertyOptional({ enum: FORMATS, description: 'the file format (file sources; not for a database connector)' })
  @Optional()
  @IsIn(FORMATS as unknown as string[])
  format?: 'csv' | 'ndjson' | 'json' | 'parquet';
  @ApiPropertyOptional({
    description:
      'where records come from: {kind: "file"} (default) or a database: {kind: "postgres_query" | "mysql_query", connection, table | query, columns, mode: "full" | "incremental", tieBreaker}, {kind: "postgres_cdc", connection, table, deletes, truncate, …}; secrets only as {"env": "VARIABLE"}',
    example: {
      kind: 'postgres_query',
      connection: { host: 'db.internal', database: 'shop', user: 'weir', password: { env: 'SHOP_PG_PASSWORD' } },
      table: 'public.orders',
      mode: 'incremental',
      tieBreaker: 'id',
    },
  })
  @Optional()
  @IsObject()
  connector?: Record<string, unknown>;
  @ApiPropertyOptional({ type: SourceLocationDto })
  @Optional()
  @ValidateNested()
  @Type(() => SourceLocationDto)
  location?: SourceLocationDto;
  @ApiProperty({ type: StrategyDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => StrategyDto)
  strategy: StrategyDto;
  @ApiPropertyOptional({ enum: DRIFT_POLICIES, default: 'freeze' })
  @Optional()
  @IsIn(DRIFT_POLICIES as unknown as string[])
  drift?: 'evolve' | 'freeze' | 'discard_columns';
  @ApiPropertyOptional({ type: CsvOptionsDto })
  @Optional()
  @ValidateNested()
  @Type(() => CsvOptionsDto)
  csv?: CsvOptionsDto;
  @ApiPropertyOptional({
    description:
      'Per contract column: { from, default, trim, format (e.g. DD/MM/YYYY), decimalSeparator, thousandsSeparator }',
    example: { order_id: { from: 'Order ID' }, ordered_at: { format: 'DD/MM/YYYY HH:mm' } },
  })
  @Optional()
  @IsObject()
  mapping?: Record<
    string,
    {
      from?: string;
      default?: string | null;
      trim?: boolean;
      format?: string;
      decimalSeparator?: string;
      thousandsSeparator?: string;
    }
  >;
  @ApiPropertyOptional({ type: [String], description: 'Values read as NULL (default [""])' })
  @Optional()
  @IsArray()
  @IsString({ each: true })
  nullValues?: string[];
  @ApiPropertyOptional({ example: 'data.items', description: 'json format: where the array is' })
  @Optional()
  @IsString()
  jsonPath?: string;
  @ApiPropertyOptional({ default: 0.05, description: 'A run rejecting a larger fraction fails without publishing' })
  @Optional()
  @IsNumber()
  @Min(0)
  @Max(1)
  maxRejectedRatio?: number;
  @ApiPropertyOptional({ type: ScheduleDto, nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => ScheduleDto)
  schedule?: ScheduleDto | null;
  @ApiPropertyOptional({
    default: false,
    description:
      "load into a dataset a modeling project manages (its model's or seed's relation): the dataset becomes ingestion's, recorded as a catalog change; without it 409 INGESTION.RELATION_OWNED_ELSEWHERE",
  })
  @Optional()
  @IsBoolean()
  takeOver?: boolean;
}

export class UpdateSourceRequestDto {
  @ApiPropertyOptional() @Optional() @IsString() @Length(1, 63) dataset?: string;
  @ApiPropertyOptional({ description: 'the connector (see create)' }) @Optional() @IsObject() connector?: Record<
    string,
    unknown
  >;
  @ApiPropertyOptional({ enum: FORMATS }) @Optional() @IsIn(FORMATS as unknown as string[]) format?:
    'csv' | 'ndjson' | 'json' | 'parquet';
  @ApiPropertyOptional({ type: SourceLocationDto })
  @Optional()
  @ValidateNested()
  @Type(() => SourceLocationDto)
  location?: SourceLocationDto;
  @ApiPropertyOptional({ type: StrategyDto })
  @Optional()
  @ValidateNested()
  @Type(() => StrategyDto)
  strategy?: StrategyDto;
  @ApiPropertyOptional({ enum: DRIFT_POLICIES }) @Optional() @IsIn(DRIFT_POLICIES as unknown as string[]) drift?:
    'evolve' | 'freeze' | 'discard_columns';
  @ApiPropertyOptional({ type: CsvOptionsDto })
  @Optional()
  @ValidateNested()
  @Type(() => CsvOptionsDto)
  csv?: CsvOptionsDto;
  @ApiPropertyOptional() @Optional() @IsObject() mapping?: Record<
    string,
    { from?: string; default?: string | null; trim?: boolean; format?: string }
  >;
  @ApiPropertyOptional({ type: [String] }) @Optional() @IsArray() @IsString({ each: true }) nullValues?: string[];
  @ApiPropertyOptional() @Optional() @IsString() jsonPath?: string;
  @ApiPropertyOptional() @Optional() @IsNumber() @Min(0) @Max(1) maxRejectedRatio?: number;
  @ApiPropertyOptional({ type: ScheduleDto, nullable: true, description: 'null removes the schedule' })
  @IsOptional()
  @ValidateNested()
  @Type(() => ScheduleDto)
  schedule?: ScheduleDto | null;
  @ApiPropertyOptional({
    default: false,
    description: 'with a new dataset: take it over from the modeling project that manages it',
  })
  @Optional()
  @IsBoolean()
  takeOver?: boolean;
}

export class TriggerRunRequestDto {
  @ApiPropertyOptional({
    example: 'orders-2026-11-21.csv',
    description: 'File relative to WEIR_INGEST_ROOT (default: the source location.path)',
  })
  @Optional()
  @IsString()
  @MaxLength(1000)
  path?: string;
  @ApiPropertyOptional({
    description: 'Default: sha256 of the file (with the partition). Re-submitting a key returns the existing run.',
  })
  @Optional()
  @IsString()
  @Length(1, 200)
  idempotencyKey?: string;
  @ApiPropertyOptional({
    example: '2026-12-04',
    description:
      'The partition the run loads: recorded on the run and put in place of {partition} in the path. Letters, digits, _ . = - /',
  })
  @Optional()
  @IsString()
  @Matches(/^[A-Za-z0-9_.=\-/]{1,200}$/)
  partition?: string;
}

export class DeleteSourceQueryDto {
  @ApiPropertyOptional({
    enum: ['true', 'false'],
    description:
      'A CDC source: delete it although its replication slot could not be dropped (drop it on the source by hand). Runs and dead letters are kept either way',
  })
  @Optional()
  @IsIn(['true', 'false'])
  force?: string;
}

export class ListRunsQueryDto {
  @ApiPropertyOptional({ description: 'Source id or name' }) @Optional() @IsString() sourceId?: string;
  @ApiPropertyOptional({ enum: ['queued', 'running', 'succeeded', 'failed'] })
  @Optional()
  @IsIn(['queued', 'running', 'succeeded', 'failed'])
  status?: string;
  @ApiPropertyOptional({ default: 100 }) @Optional() @Type(() => Number) @IsNumber() @Min(1) @Max(1000) limit?: number;
}

export class DeadLettersQueryDto {
  @ApiPropertyOptional({ example: 'TYPE_MISMATCH' }) @Optional() @IsString() reason?: string;
  @ApiPropertyOptional({ default: 1, maximum: 10_000_000 })
  @Optional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  page?: number;
  @ApiPropertyOptional({ default: 100 }) @Optional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) pageSize?: number;
}

export class InferQueryDto {
  @ApiPropertyOptional({
    description: 'File relative to WEIR_INGEST_ROOT; otherwise send the sample as the request body',
  })
  @Optional()
  @IsString()
  path?: string;
  @ApiPropertyOptional({ enum: FORMATS, description: 'Default: from the file name' })
  @Optional()
  @IsIn(FORMATS as unknown as string[])
  format?: 'csv' | 'ndjson' | 'json' | 'parquet';
  @ApiPropertyOptional({ default: 1000 })
  @Optional()
  @Type(() => Number)
  @IsNumber()
  @Min(1)
  @Max(100000)
  rows?: number;
  @ApiPropertyOptional({ example: ';' }) @Optional() @IsString() delimiter?: string;
}
