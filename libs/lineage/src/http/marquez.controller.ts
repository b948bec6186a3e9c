import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsString, Length, Max, Min } from 'class-validator';
import { Optional } from '@weir/platform';
import { OpenLineageService } from '../application/openlineage.service';
import { LineageQueryService } from '../application/lineage-query.service';
import { DepthParam, DirectionParam, FlagParam, LimitParam, NodeIdParam } from './query-params.decorators';
import { BadBatchError } from '../lineage.errors';

export class LineageQueryDto {
  @NodeIdParam(
    'dataset:postgres://127.0.0.1:5432:weir.raw.orders',
    'dataset:<namespace>:<name> or job:<namespace>:<name>',
  )
  nodeId: string;

  @DepthParam(20, 'job hops from the node')
  depth?: number;

  @DirectionParam()
  direction?: 'both' | 'upstream' | 'downstream';
}

export class ColumnLineageQueryDto {
  @NodeIdParam(
    'datasetField:postgres://127.0.0.1:5432:weir.mart.orders:amount',
    'datasetField:<namespace>:<name>:<field>, or a dataset/job node for all its fields',
  )
  nodeId: string;

  @DepthParam(20)
  depth?: number;

  @FlagParam('also downstream (upstream only by default)')
  withDownstream?: boolean;
}

export class PageQueryDto {
  @LimitParam(100)
  limit?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: 1_000_000_000 })
  @Optional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000_000) // bounded: past bigint PostgreSQL refused the OFFSET (a 500)
  offset?: number;
}

export class SearchQueryDto {
  @ApiProperty({ description: 'part of the name, case-insensitive', example: 'orders' })
  @IsString()
  @Length(1, 1024)
  q!: string;

  @ApiPropertyOptional({ enum: ['DATASET', 'JOB'] })
  @Optional()
  @IsIn(['DATASET', 'JOB'])
  filter?: 'DATASET' | 'JOB';

  @ApiPropertyOptional({ enum: ['NAME', 'UPDATE_AT'], default: 'NAME' })
  @Optional()
  @IsIn(['NAME', 'UPDATE_AT'])
  sort?: 'NAME' | 'UPDATE_AT';

  @LimitParam(10)
  limit?: number;

  @ApiPropertyOptional({ description: 'only this namespace' })
  @Optional()
  @IsString()
  namespace?: string;
}

export class EventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    description: 'only events with eventTime before this instant (ISO 8601)',
    example: '2026-11-22T00:00:00Z',
  })
  @Optional()
  @IsISO8601({ strict: true })
  before?: string;

  @ApiPropertyOptional({
    description: 'only events with eventTime at or after this instant (ISO 8601)',
    example: '2026-11-21T00:00:00Z',
  })
  @Optional()
  @IsISO8601({ strict: true })
  after?: string;

  @ApiPropertyOptional({ enum: ['desc', 'asc'], default: 'desc', description: 'by eventTime' })
  @Optional()
  @IsIn(['desc', 'asc'])
  sortDirection?: 'desc' | 'asc';

  @ApiPropertyOptional({
    enum: ['true', 'false'],
    description: 'true: only the events accepted with warnings (formats, a missing schemaURL, mapped run ids)',
  })
  @Optional()
  @IsIn(['true', 'false'])
  withWarnings?: 'true' | 'false';
}

const obj = { type: 'object' as const };
const objects = { type: 'array' as const, items: obj };
/** A Marquez page: `{ totalCount, <key>: [...] }`. */
const page = (key: string) => ({
  type: 'object' as const,
  properties: { totalCount: { type: 'integer' as const }, [key]: objects },
});
const WARNINGS = {
  type: 'array' as const,
  description: 'present when the event was accepted although a format did not hold (path, message)',
  items: obj,
};

/**
 * OpenLineage's HTTP endpoint and the Marquez-compatible read API, so OpenLineage producers
 * (Airflow, Spark, dbt-ol …) and Marquez clients talk to Weir unchanged.
 */
@ApiTags('lineage')
@ApiBearerAuth()
@Controller('api/v1')
export class MarquezController {
  constructor(
    private readonly openLineage: OpenLineageService,
    private readonly query: LineageQueryService,
  ) {}

  @Post('lineage')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Receive an OpenLineage RunEvent, DatasetEvent or JobEvent (spec 2-0-2)',
    description:
      'Validated against Weir\'s schema of the spec; 400 LINEAGE.INVALID_EVENT lists the schema errors (`errors[]`: path, message, keyword). A structurally valid event whose formats do not hold (a bare `dataSource.uri` like "file", a producer that is not a URI, a run id that is not a UUID, a time without offset) or that lacks schemaURL is accepted with `warnings` (unless WEIR_OPENLINEAGE_STRICT=true); a run id that is not a UUID is mapped to its UUID v5, the original kept in run.facets.weir_originalRunIds. Events up to WEIR_OPENLINEAGE_MAX_BYTES (default 32 MiB), 413 above.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      example: {
        eventType: 'COMPLETE',
        eventTime: '2026-11-21T10:00:00Z',
        producer: 'https://example.com/producer',
        schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
        run: { runId: '0191e7a4-0000-7000-8000-000000000001' },
        job: { namespace: 'demo', name: 'load_orders' },
        inputs: [{ namespace: 'file', name: '/data/orders.csv' }],
        outputs: [{ namespace: 'demo', name: 'raw.orders' }],
      },
    },
  })
  @ApiCreatedResponse({
    schema: {
      type: 'object',
      properties: {
        accepted: { type: 'boolean', enum: [true] },
        kind: { type: 'string', enum: ['RunEvent', 'DatasetEvent', 'JobEvent'] },
        warnings: WARNINGS,
      },
    },
  })
  async receive(
    @Body() body: unknown,
    @Req() req: { rawBody?: Buffer },
  ): Promise<{ accepted: true; kind: string; warnings?: unknown[] }> {
    const r = await this.openLineage.ingest(body, req.rawBody?.toString('utf8'));
    return { accepted: true, kind: r.kind, ...(r.warnings ? { warnings: r.warnings } : {}) };
  }

  @Post('lineage/batch')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Receive a batch of OpenLineage events (a JSON array, or { "events": [...] }), all or nothing',
    description:
      "Up to 1000 events. 400 LINEAGE.INVALID_EVENT when any is invalid (errors[].path starts with the event's index); nothing is stored then.",
  })
  @ApiBody({ schema: { type: 'array', items: { type: 'object' } } })
  @ApiCreatedResponse({
    schema: {
      type: 'object',
      properties: {
        accepted: { type: 'integer', description: 'events stored' },
        kinds: { type: 'object', additionalProperties: { type: 'integer' }, example: { RunEvent: 2 } },
        warnings: { ...WARNINGS, description: 'events accepted with warnings, by index in the batch' },
      },
    },
  })
  async receiveBatch(@Body() body: unknown): Promise<{ accepted: number; kinds: Record<string, number> }> {
    const events = Array.isArray(body)
      ? body
      : body && typeof body === 'object' && Array.isArray((body as { events?: unknown }).events)
        ? (body as { events: unknown[] }).events
        : undefined;
    if (!events)
      throw new BadBatchError('A batch is a JSON array of OpenLineage events, or an object { "events": [...] }');
    return this.openLineage.ingestMany(events);
  }

  @Get('lineage')
  @ApiOperation({
    summary:
      'Dataset/job lineage graph around a node (Marquez shape: { graph: [{ id, type, data, inEdges, outEdges }] })',
  })
  @ApiOkResponse({ schema: { type: 'object', properties: { graph: { type: 'array', items: { type: 'object' } } } } })
  lineage(@Query() q: LineageQueryDto) {
    return this.query.lineage(q.nodeId, q.depth, q.direction);
  }

  @Get('column-lineage')
  @ApiOperation({
    summary:
      'Column lineage graph around a field, a dataset or a job (Marquez shape, DATASET_FIELD nodes); upstream, plus downstream with withDownstream=true',
  })
  @ApiOkResponse({ schema: { type: 'object', properties: { graph: { type: 'array', items: { type: 'object' } } } } })
  columnLineage(@Query() q: ColumnLineageQueryDto) {
    return this.query.columnLineage(q.nodeId, q.depth, q.withDownstream ?? false);
  }

  @Get('events/lineage')
  @ApiOperation({
    summary:
      'The raw OpenLineage events received and emitted, by eventTime (Marquez shape: { events, totalCount }; plus warnings: [{ event: index in events, warnings }] for events accepted with warnings)',
  })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: {
        events: objects,
        totalCount: { type: 'integer' },
        warnings: {
          type: 'array',
          items: { type: 'object', properties: { event: { type: 'integer' }, warnings: objects } },
        },
      },
    },
  })
  events(@Query() q: EventsQueryDto) {
    return this.query.events({
      before: q.before,
      after: q.after,
      sortDirection: q.sortDirection ?? 'desc',
      limit: q.limit ?? 100,
      offset: q.offset ?? 0,
      withWarnings: q.withWarnings === 'true',
    });
  }

  @Get('namespaces')
  @ApiOperation({ summary: 'Namespaces of the lineage graph' })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: {
        namespaces: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              createdAt: { type: 'string', format: 'date-time' },
              updatedAt: { type: 'string', format: 'date-time' },
            },
          },
        },
      },
    },
  })
  namespaces() {
    return this.query.namespaces();
  }

  @Get('namespaces/:namespace/datasets')
  @ApiOperation({ summary: 'Datasets of a namespace (URL-encode the namespace)' })
  @ApiOkResponse({ schema: page('datasets') })
  datasets(@Param('namespace') ns: string, @Query() q: PageQueryDto) {
    return this.query.datasets(ns, q.limit, q.offset);
  }

  @Get('search')
  @ApiOperation({
    summary:
      'Datasets and jobs whose name contains q: exact, then prefix matches first (Marquez shape: { totalCount, results: [{ type, name, namespace, updatedAt, nodeId }] })',
  })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: {
        totalCount: { type: 'integer' },
        results: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              type: { type: 'string', enum: ['DATASET', 'JOB'] },
              name: { type: 'string' },
              namespace: { type: 'string' },
              updatedAt: { type: 'string', format: 'date-time' },
              nodeId: { type: 'string', example: 'dataset:pg://dwh:mart.orders' },
            },
          },
        },
      },
    },
  })
  search(@Query() q: SearchQueryDto) {
    return this.query.search({
      q: q.q,
      filter: q.filter,
      sort: q.sort ?? 'NAME',
      limit: q.limit ?? 10,
      namespace: q.namespace,
    });
  }

  @Get('namespaces/:namespace/datasets/:dataset')
  @ApiOperation({ summary: 'One dataset, with its current fields and facets (URL-encode namespace and name)' })
  @ApiOkResponse({ schema: { ...obj, description: 'Marquez dataset: id, name, namespace, fields, facets, …' } })
  dataset(@Param('namespace') ns: string, @Param('dataset') name: string) {
    return this.query.dataset(ns, name);
  }

  @Get('namespaces/:namespace/jobs/:job')
  @ApiOperation({ summary: 'One job, with its inputs, outputs and latest run' })
  @ApiOkResponse({ schema: { ...obj, description: 'Marquez job: id, name, namespace, inputs, outputs, latestRun, …' } })
  job(@Param('namespace') ns: string, @Param('job') name: string) {
    return this.query.job(ns, name);
  }

  @Get('namespaces/:namespace/jobs')
  @ApiOperation({ summary: 'Jobs of a namespace, with their inputs, outputs and latest run' })
  @ApiOkResponse({ schema: page('jobs') })
  jobs(@Param('namespace') ns: string, @Query() q: PageQueryDto) {
    return this.query.jobs(ns, q.limit, q.offset);
  }

  @Get('jobs/runs/:id')
  @ApiOperation({ summary: 'One run by its OpenLineage runId' })
  @ApiOkResponse({ schema: { ...obj, description: 'Marquez run: id, state, startedAt, endedAt, facets, …' } })
  run(@Param('id') id: string) {
    return this.query.run(id);
  }

  @Get('namespaces/:namespace/jobs/:job/runs')
  @ApiOperation({ summary: 'Runs of a job, newest first' })
  @ApiOkResponse({ schema: page('runs') })
  runs(@Param('namespace') ns: string, @Param('job') job: string, @Query() q: PageQueryDto) {
    return this.query.runs(ns, job, q.limit, q.offset);
  }
}
