import { Body, Controller, Get, Header, HttpCode, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Type } from 'class-transformer';
import { IsInt, Max, Min, MinLength } from 'class-validator';
import { Optional } from '@weir/platform';
import { IMPACT_LIMIT, ImpactReport, LineageQueryService, MAX_DEPTH } from '../application/lineage-query.service';
import { DepthParam, DirectionParam, FlagParam, NodeIdParam } from './query-params.decorators';
import { GraphTooLargeError, toDot, toMermaid, toSvg, LineageNode } from '../domain/graph-render';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsObject, IsString, Length, Matches, ValidateBy, ValidationOptions } from 'class-validator';

export class ImpactQueryDto {
  @ApiProperty({
    example: 'orders',
    description: 'catalog dataset name, warehouse schema.table, <namespace>:<name> or dataset:<namespace>:<name>',
  })
  @IsString()
  @MinLength(1)
  dataset: string;

  @ApiPropertyOptional({ example: 'amount', description: 'a column of it: only what depends on that column' })
  @Optional()
  @IsString()
  @MinLength(1)
  column?: string;

  @DepthParam(MAX_DEPTH, 'job hops followed downstream')
  depth?: number;

  @ApiPropertyOptional({
    default: IMPACT_LIMIT.default,
    minimum: 1,
    maximum: IMPACT_LIMIT.max,
    description: 'most entries per list (the nearest first); `counts` has the totals',
  })
  @Optional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(IMPACT_LIMIT.max)
  limit?: number;
}

export class GraphQueryDto {
  @NodeIdParam('dataset:postgres://127.0.0.1:5432:weir.raw.orders', 'dataset:…, job:… or datasetField:… node id')
  nodeId: string;

  @DepthParam(2)
  depth?: number;

  @DirectionParam()
  direction?: 'both' | 'upstream' | 'downstream';

  @FlagParam('draw column lineage (datasetField nodes always do)')
  columns?: boolean;
}

import { LineageService } from '../application/lineage.service';
import { RenderTooLargeError } from '../lineage.errors';

export class LineageStatusResponseDto {
  @ApiProperty({ example: 'lineage' }) slice: string;
  @ApiProperty({ example: 'ok' }) status: string;
}

const IsColumnMap = (opts?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isColumnMap',
      validator: {
        validate: (v: unknown) =>
          typeof v === 'object' &&
          v !== null &&
          !Array.isArray(v) &&
          Object.values(v).every((cols) => Array.isArray(cols) && cols.every((c) => typeof c === 'string')),
        defaultMessage: () => 'schemas must map "schema.table" to an array of column names',
      },
    },
    opts,
  );

export class ParseSqlRequestDto {
  @ApiProperty({
    example:
      'INSERT INTO mart.orders SELECT o.id, sum(p.amount) AS paid FROM raw.orders o JOIN raw.payments p ON p.order_id = o.id GROUP BY o.id',
  })
  @IsString()
  @Length(1, 1_000_000)
  sql: string;

  @ApiPropertyOptional({
    example: { 'raw.orders': ['id', 'customer_id', 'status'] },
    description: 'Known columns per table: expands `*` and resolves unqualified columns in joins',
  })
  @Optional()
  @IsObject()
  @IsColumnMap()
  schemas?: Record<string, string[]>;

  @ApiPropertyOptional({
    example: 'public',
    description: 'Schema of unqualified table names in the result (unset: left unqualified)',
  })
  @Optional()
  @Matches(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/)
  defaultSchema?: string;

  @ApiPropertyOptional({
    example: 'analytics.fct_orders',
    description:
      'The relation a plain SELECT produces (a model, a view): its output columns become this table\'s, and it is listed in tablesWritten. Unset: a plain SELECT\'s output columns come back with `"table": null`',
  })
  @Optional()
  @Matches(/^[A-Za-z_][A-Za-z0-9_$]{0,62}(\.[A-Za-z_][A-Za-z0-9_$]{0,62}){0,2}$/, {
    message: 'target must be a table name: table, schema.table or database.schema.table',
  })
  target?: string;
}

class TableColumnDto {
  @ApiProperty({ type: String, nullable: true, description: 'null when the column could not be tied to one table' })
  table: string | null;
  @ApiProperty() column: string;
}
class TargetColumnDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'null for an output column of a plain SELECT sent without `target` (the query result)',
  })
  table: string | null;
  @ApiProperty() column: string;
}
class ColumnLineageDto {
  @ApiProperty({ type: TableColumnDto }) source: TableColumnDto;
  @ApiProperty({ type: TargetColumnDto }) target: TargetColumnDto;
  @ApiProperty({ enum: ['DIRECT', 'INDIRECT'] }) type: string;
  @ApiProperty({
    enum: ['IDENTITY', 'TRANSFORMATION', 'AGGREGATION', 'JOIN', 'FILTER', 'GROUP_BY', 'SORT', 'WINDOW', 'CONDITIONAL'],
  })
  subtype: string;
}
export class ParseSqlResponseDto {
  @ApiProperty({ type: [String] }) tablesRead: string[];
  @ApiProperty({ type: [String] }) tablesWritten: string[];
  @ApiProperty({ type: [ColumnLineageDto] }) columnLineage: ColumnLineageDto[];
  @ApiProperty({
    type: [String],
    description: 'column references that could not be tied to one table (reported, not guessed)',
  })
  unresolved: string[];
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
    description:
      'DIRECT edges (IDENTITY, TRANSFORMATION, AGGREGATION) feed output values; INDIRECT edges (JOIN, FILTER, GROUP_BY, SORT, WINDOW, CONDITIONAL) shape them. 400 LINEAGE.SQL_PARSE_ERROR when the SQL does not parse.',
  })
  @ApiOkResponse({ type: ParseSqlResponseDto })
  parse(@Body() body: ParseSqlRequestDto): Promise<ParseSqlResponseDto> {
    return this.lineage.parse(body);
  }
}

/** An impact list: the items reached, each with the path of node ids that leads to it. */
const IMPACT_LIST = {
  type: 'array' as const,
  items: {
    type: 'object' as const,
    properties: { path: { type: 'array' as const, items: { type: 'string' as const } } },
  },
};

const PICTURE =
  'Direct column edges (the value flows: IDENTITY, TRANSFORMATION, AGGREGATION) are drawn solid and blue, indirect ones (JOIN, FILTER, GROUP_BY, SORT, WINDOW, CONDITIONAL) dashed and violet; every picture has a legend of what it shows.';

/** Impact analysis and pictures of the graph (the store's read side). */
@ApiTags('lineage')
@ApiBearerAuth()
@Controller('api/lineage')
export class LineageGraphController {
  constructor(private readonly query: LineageQueryService) {}

  @Get('impact')
  @ApiOperation({
    summary: 'What changing or dropping a dataset (or one column) would affect downstream',
    description:
      'Every downstream dataset, column (with the DIRECT/INDIRECT transformations that tie it), job, model and quality expectation, each with the path of node ids that leads to it. 404 LINEAGE.DATASET_NOT_FOUND / LINEAGE.COLUMN_NOT_FOUND.',
  })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: {
        node: { type: 'string', description: 'the node id analysed' },
        depth: { type: 'integer' },
        datasets: IMPACT_LIST,
        columns: IMPACT_LIST,
        jobs: IMPACT_LIST,
        models: IMPACT_LIST,
        expectations: IMPACT_LIST,
        pipelines: IMPACT_LIST,
        counts: {
          type: 'object',
          properties: Object.fromEntries(
            ['datasets', 'columns', 'jobs', 'models', 'expectations'].map((k) => [k, { type: 'integer' }]),
          ),
        },
        limit: { type: 'integer' },
        truncated: { type: 'boolean', description: 'true when a list holds only the nearest `limit`' },
      },
    },
  })
  impact(@Query() q: ImpactQueryDto): Promise<ImpactReport> {
    return this.query.impact(q.dataset, q.column, q.depth, q.limit);
  }

  @Get('graph.mmd')
  @Header('content-type', 'text/vnd.mermaid; charset=utf-8')
  @ApiOperation({ summary: 'The lineage around a node as a Mermaid flowchart', description: PICTURE })
  @ApiProduces('text/vnd.mermaid')
  @ApiOkResponse({ content: { 'text/vnd.mermaid': { schema: { type: 'string' } } } })
  async mermaid(@Query() q: GraphQueryDto): Promise<string> {
    return this.draw(q, (nodes) => toMermaid(nodes, { focus: q.nodeId, maxNodes: 2000 }));
  }

  @Get('graph.dot')
  @Header('content-type', 'text/vnd.graphviz; charset=utf-8')
  @ApiOperation({ summary: 'The lineage around a node as Graphviz DOT', description: PICTURE })
  @ApiProduces('text/vnd.graphviz')
  @ApiOkResponse({ content: { 'text/vnd.graphviz': { schema: { type: 'string' } } } })
  async dot(@Query() q: GraphQueryDto): Promise<string> {
    return this.draw(q, (nodes) => toDot(nodes, { focus: q.nodeId, maxNodes: 2000 }));
  }

  @Get('graph.svg')
  @ApiOperation({
    summary: 'The lineage around a node drawn as SVG (Graphviz); at most 500 nodes',
    description: PICTURE,
  })
  @ApiProduces('image/svg+xml')
  @ApiOkResponse({ content: { 'image/svg+xml': { schema: { type: 'string' } } } })
  async svg(@Query() q: GraphQueryDto, @Res() res: Response): Promise<void> {
    const svg = await this.draw(q, (nodes) => toSvg(nodes, { focus: q.nodeId, maxNodes: 500 }));
    res.setHeader('content-type', 'image/svg+xml; charset=utf-8');
    res.setHeader('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
    res.send(svg);
  }

  private async draw<T>(q: GraphQueryDto, render: (nodes: LineageNode[]) => T | Promise<T>): Promise<T> {
    const depth = q.depth ?? 2;
    const graph =
      q.columns || q.nodeId.startsWith('datasetField:')
        ? await this.query.columnLineage(q.nodeId, depth, q.direction !== 'upstream')
        : await this.query.lineage(q.nodeId, depth, q.direction ?? 'both');
    try {
      return await render(graph.graph);
    } catch (e) {
      if (e instanceof GraphTooLargeError) throw new RenderTooLargeError(e.message);
      throw e;
    }
  }
}
