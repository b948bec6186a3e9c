import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { InUseProblemDto, parseQualifiedName, ProblemResponseDto } from '@weir/platform';
import { GxSuiteService } from '../application/gx-suite.service';
import { RegisterSuiteService } from '../application/register-suite.service';
import { RunQueriesService } from '../application/run-queries.service';
import { RunSuiteService } from '../application/run-suite.service';
import { SuiteQueriesService } from '../application/suite-queries.service';
import { MetricsQueryDto, QualityRunListQueryDto, RunSuiteRequestDto } from './quality-run.request.dto';
import { MetricsResponseDto, QualityRunListResponseDto, QualityRunResponseDto } from './quality-run.response.dto';
import { ImportSuiteQueryDto, ListSuitesQueryDto, SuiteRequestDto } from './suite.request.dto';
import { SuiteListResponseDto, SuiteResponseDto, SuiteSqlResponseDto } from './suite.response.dto';

@ApiTags('quality')
@ApiBearerAuth()
@Controller('api/quality')
export class QualityController {
  constructor(
    private readonly register: RegisterSuiteService,
    private readonly gx: GxSuiteService,
    private readonly suites: SuiteQueriesService,
    private readonly runner: RunSuiteService,
    private readonly runs: RunQueriesService,
  ) {}

  @Post('suites')
  @ApiOperation({ summary: 'Create a suite of GX expectations on a dataset' })
  @ApiCreatedResponse({ type: SuiteResponseDto })
  create(@Body() body: SuiteRequestDto): Promise<SuiteResponseDto> {
    return this.register.create(body) as Promise<SuiteResponseDto>;
  }

  @Post('suites/import')
  @ApiOperation({ summary: 'Import a GX suite JSON ({name, expectations:[{type|expectation_type, kwargs, meta}]})' })
  @ApiBody({ schema: { type: 'object' } })
  @ApiCreatedResponse({ type: SuiteResponseDto })
  importGx(@Query() q: ImportSuiteQueryDto, @Body() body: Record<string, unknown>): Promise<SuiteResponseDto> {
    return this.gx.importGx(q.dataset, body, q.name) as Promise<SuiteResponseDto>;
  }

  @Get('expectation-types')
  @ApiOperation({
    summary:
      "Every expectation type Weir runs, with its kwargs; gx: false for Weir's own (exported under meta.weir.expectations)",
  })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: {
        items: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              type: { type: 'string', example: 'expect_column_values_to_not_be_null' },
              gx: { type: 'boolean', description: 'false for an expectation type of Weir only' },
              kwargs: { type: 'array', items: { type: 'object' } },
            },
          },
        },
      },
    },
  })
  expectationTypes() {
    return { items: this.suites.expectationTypes() };
  }

  @Get('suites')
  @ApiOperation({ summary: 'List suites, optionally of one dataset' })
  @ApiOkResponse({ type: SuiteListResponseDto })
  async list(@Query() q: ListSuitesQueryDto): Promise<SuiteListResponseDto> {
    return { items: (await this.suites.list(q.dataset)) as SuiteResponseDto[] };
  }

  @Get('suites/:id')
  @ApiOperation({ summary: 'A suite with its expectations' })
  @ApiOkResponse({ type: SuiteResponseDto })
  get(@Param('id') id: string): Promise<SuiteResponseDto> {
    return this.suites.get(id) as Promise<SuiteResponseDto>;
  }

  @Put('suites/:id')
  @ApiOperation({ summary: "Replace a suite's dataset, name and expectations" })
  @ApiOkResponse({ type: SuiteResponseDto })
  replace(@Param('id') id: string, @Body() body: SuiteRequestDto): Promise<SuiteResponseDto> {
    return this.register.replace(id, body) as Promise<SuiteResponseDto>;
  }

  @Delete('suites/:id')
  @HttpCode(204)
  @ApiOperation({
    summary:
      'Delete a suite (soft: its runs, results and metrics stay readable, its name is free); refused while a pipeline step runs it',
  })
  @ApiNoContentResponse({ description: 'Deleted; no body' })
  @ApiNotFoundResponse({ type: ProblemResponseDto, description: 'QUALITY.SUITE_NOT_FOUND' })
  @ApiConflictResponse({
    type: InUseProblemDto,
    description: 'QUALITY.SUITE_IN_USE, with `dependents`: the pipeline steps that run it',
  })
  async remove(@Param('id') id: string): Promise<void> {
    await this.register.remove(id);
  }

  @Get('suites/:id/gx')
  @ApiOperation({ summary: 'Export the suite as GX suite JSON' })
  @ApiOkResponse({
    description:
      'A Great Expectations suite: expectation_suite_name, expectations [{expectation_type, kwargs, meta}], meta',
    schema: { type: 'object', additionalProperties: true },
  })
  exportGx(@Param('id') id: string): Promise<Record<string, unknown>> {
    return this.gx.exportGx(id);
  }

  @Get('suites/:id/sql')
  @ApiOperation({ summary: 'The SQL the suite compiles to' })
  @ApiOkResponse({ type: SuiteSqlResponseDto })
  sql(@Param('id') id: string): Promise<SuiteSqlResponseDto> {
    return this.suites.sql(id);
  }

  @Post('suites/:id/runs')
  @ApiOperation({
    summary: 'Run a suite on its dataset (or on a given table)',
    description:
      'Runs while the request waits: every statement is bounded by WEIR_REQUEST_STATEMENT_TIMEOUT_MS (and WEIR_CHECK_TIMEOUT_SECONDS); past it the answer is 503 PLATFORM.STATEMENT_TIMEOUT and no run is recorded. A pipeline `quality` step is bounded by the check timeout only.',
  })
  @ApiCreatedResponse({ type: QualityRunResponseDto })
  @ApiServiceUnavailableResponse({ type: ProblemResponseDto, description: 'PLATFORM.STATEMENT_TIMEOUT' })
  run(@Param('id') id: string, @Body() body: RunSuiteRequestDto): Promise<QualityRunResponseDto> {
    return this.runner.run(id, {
      target: body.table ? parseQualifiedName(body.table, 'raw') : undefined,
      forRequest: true,
    });
  }

  @Get('runs')
  @ApiOperation({
    summary: 'Quality runs, newest first, without their results (filters: dataset, suite, status; next page: before)',
  })
  @ApiOkResponse({ type: QualityRunListResponseDto })
  listRuns(@Query() q: QualityRunListQueryDto): Promise<QualityRunListResponseDto> {
    return this.runs.listRuns(q);
  }

  @Get('runs/:id')
  @ApiOperation({
    summary: 'A quality run: per expectation success, observed value, counts, samples (PII masked), severity',
  })
  @ApiOkResponse({ type: QualityRunResponseDto })
  getRun(@Param('id') id: string): Promise<QualityRunResponseDto> {
    return this.runs.getRun(id);
  }

  @Get('datasets/:name/metrics')
  @ApiOperation({ summary: 'History of a dataset metric (row_count, null_ratio(col), observed values)' })
  @ApiOkResponse({ type: MetricsResponseDto })
  async metrics(@Param('name') name: string, @Query() q: MetricsQueryDto): Promise<MetricsResponseDto> {
    return { items: await this.runs.metrics(name, q.metric, q.limit) };
  }
}
