import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { parseQualifiedName } from '@weir/platform';
import { QualityService } from '../application/quality.service';
import {
  ImportSuiteQueryDto,
  ListSuitesQueryDto,
  MetricsQueryDto,
  MetricsResponseDto,
  QualityRunResponseDto,
  RunSuiteRequestDto,
  SuiteListResponseDto,
  SuiteRequestDto,
  SuiteResponseDto,
  SuiteSqlResponseDto,
} from './quality.dto';

@ApiTags('quality')
@ApiBearerAuth()
@Controller('api/quality')
export class QualityController {
  constructor(private readonly quality: QualityService) {}

  @Post('suites')
  @ApiOperation({ summary: 'Create a suite of GX expectations on a dataset' })
  @ApiCreatedResponse({ type: SuiteResponseDto })
  create(@Body() body: SuiteRequestDto): Promise<SuiteResponseDto> {
    return this.quality.create(body) as Promise<SuiteResponseDto>;
  }

  @Post('suites/import')
  @ApiOperation({ summary: 'Import a GX suite JSON ({name, expectations:[{type|expectation_type, kwargs, meta}]})' })
  @ApiBody({ schema: { type: 'object' } })
  @ApiCreatedResponse({ type: SuiteResponseDto })
  importGx(@Query() q: ImportSuiteQueryDto, @Body() body: Record<string, unknown>): Promise<SuiteResponseDto> {
    return this.quality.importGx(q.dataset, body, q.name) as Promise<SuiteResponseDto>;
  }

  @Get('expectation-types')
  @ApiOperation({
    summary:
      "Every expectation type Weir runs, with its kwargs; gx: false for Weir's own (exported under meta.weir.expectations)",
  })
  expectationTypes() {
    return { items: this.quality.expectationTypes() };
  }

  @Get('suites')
  @ApiOkResponse({ type: SuiteListResponseDto })
  async list(@Query() q: ListSuitesQueryDto): Promise<SuiteListResponseDto> {
    return { items: (await this.quality.list(q.dataset)) as SuiteResponseDto[] };
  }

  @Get('suites/:id')
  @ApiOkResponse({ type: SuiteResponseDto })
  get(@Param('id') id: string): Promise<SuiteResponseDto> {
    return this.quality.get(id) as Promise<SuiteResponseDto>;
  }

  @Put('suites/:id')
  @ApiOkResponse({ type: SuiteResponseDto })
  replace(@Param('id') id: string, @Body() body: SuiteRequestDto): Promise<SuiteResponseDto> {
    return this.quality.replace(id, body) as Promise<SuiteResponseDto>;
  }

  @Delete('suites/:id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.quality.remove(id);
  }

  @Get('suites/:id/gx')
  @ApiOperation({ summary: 'Export the suite as GX suite JSON' })
  exportGx(@Param('id') id: string): Promise<Record<string, unknown>> {
    return this.quality.exportGx(id);
  }

  @Get('suites/:id/sql')
  @ApiOperation({ summary: 'The SQL the suite compiles to' })
  @ApiOkResponse({ type: SuiteSqlResponseDto })
  sql(@Param('id') id: string): Promise<SuiteSqlResponseDto> {
    return this.quality.sql(id);
  }

  @Post('suites/:id/runs')
  @ApiOperation({ summary: 'Run a suite on its dataset (or on a given table)' })
  @ApiCreatedResponse({ type: QualityRunResponseDto })
  run(@Param('id') id: string, @Body() body: RunSuiteRequestDto): Promise<QualityRunResponseDto> {
    return this.quality.run(id, { target: body.table ? parseQualifiedName(body.table, 'raw') : undefined });
  }

  @Get('runs/:id')
  @ApiOperation({
    summary: 'A quality run: per expectation success, observed value, counts, samples (PII masked), severity',
  })
  @ApiOkResponse({ type: QualityRunResponseDto })
  getRun(@Param('id') id: string): Promise<QualityRunResponseDto> {
    return this.quality.getRun(id);
  }

  @Get('datasets/:name/metrics')
  @ApiOperation({ summary: 'History of a dataset metric (row_count, null_ratio(col), observed values)' })
  @ApiOkResponse({ type: MetricsResponseDto })
  async metrics(@Param('name') name: string, @Query() q: MetricsQueryDto): Promise<MetricsResponseDto> {
    return { items: await this.quality.metrics(name, q.metric, q.limit) };
  }
}
