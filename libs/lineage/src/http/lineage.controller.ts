import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, Length, Matches, ValidateBy, ValidationOptions } from 'class-validator';
import { LineageService } from '../application/lineage.service';

export class LineageStatusResponseDto {
  @ApiProperty({ example: 'lineage' }) slice: string;
  @ApiProperty({ example: 'ok' }) status: string;
}

const IsColumnMap = (opts?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isColumnMap',
      validator: {
        validate: (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((cols) => Array.isArray(cols) && cols.every((c) => typeof c === 'string')),
        defaultMessage: () => 'schemas must map "schema.table" to an array of column names',
      },
    },
    opts,
  );

export class ParseSqlRequestDto {
  @ApiProperty({ example: 'INSERT INTO mart.orders SELECT o.id, sum(p.amount) AS paid FROM raw.orders o JOIN raw.payments p ON p.order_id = o.id GROUP BY o.id' })
  @IsString()
  @Length(1, 1_000_000)
  sql: string;

  @ApiPropertyOptional({ example: { 'raw.orders': ['id', 'customer_id', 'status'] }, description: 'Known columns per table: expands `*` and resolves unqualified columns in joins' })
  @IsOptional()
  @IsObject()
  @IsColumnMap()
  schemas?: Record<string, string[]>;

  @ApiPropertyOptional({ example: 'public', description: 'Schema of unqualified table names in the result (unset: left unqualified)' })
  @IsOptional()
  @Matches(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/)
  defaultSchema?: string;
}

class TableColumnDto {
  @ApiProperty({ type: String, nullable: true, description: 'null when the column could not be tied to one table' }) table: string | null;
  @ApiProperty() column: string;
}
class ColumnLineageDto {
  @ApiProperty({ type: TableColumnDto }) source: TableColumnDto;
  @ApiProperty({ type: TableColumnDto }) target: TableColumnDto;
  @ApiProperty({ enum: ['DIRECT', 'INDIRECT'] }) type: string;
  @ApiProperty({ enum: ['IDENTITY', 'TRANSFORMATION', 'AGGREGATION', 'JOIN', 'FILTER', 'GROUP_BY', 'SORT', 'WINDOW', 'CONDITIONAL'] }) subtype: string;
}
export class ParseSqlResponseDto {
  @ApiProperty({ type: [String] }) tablesRead: string[];
  @ApiProperty({ type: [String] }) tablesWritten: string[];
  @ApiProperty({ type: [ColumnLineageDto] }) columnLineage: ColumnLineageDto[];
  @ApiProperty({ type: [String], description: 'column references that could not be tied to one table (reported, not guessed)' }) unresolved: string[];
}

@ApiTags('lineage')
@ApiBearerAuth()
@Controller('api/lineage')
export class LineageController {
  constructor(private readonly lineage: LineageService) {}

  @Get('status')
  @ApiOperation({ summary: 'The lineage slice is loaded and answering' })
  @ApiOkResponse({ type: LineageStatusResponseDto })
  status(): LineageStatusResponseDto {
    return { slice: 'lineage', status: 'ok' };
  }

  @Post('parse')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Table and column lineage of any SQL (one or more statements), from the PostgreSQL parser',
    description: 'DIRECT edges (IDENTITY, TRANSFORMATION, AGGREGATION) feed output values; INDIRECT edges (JOIN, FILTER, GROUP_BY, SORT, WINDOW, CONDITIONAL) shape them. 400 LINEAGE.SQL_PARSE_ERROR when the SQL does not parse.',
  })
  @ApiOkResponse({ type: ParseSqlResponseDto })
  parse(@Body() body: ParseSqlRequestDto): Promise<ParseSqlResponseDto> {
    return this.lineage.parse(body);
  }
}
