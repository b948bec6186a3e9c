import { Body, Controller, Delete, Get, Param, ParseIntPipe, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, InUseProblemDto, Principal, ProblemResponseDto, seesPii } from '@weir/platform';
import { CatalogService } from '../application/catalog.service';
import { LakeExportService } from '../application/lake-export.service';
import {
  CreateDatasetRequestDto,
  DeleteDatasetQueryDto,
  ListDatasetsQueryDto,
  PreviewQueryDto,
  UpdateDatasetRequestDto,
} from './dataset.request.dto';
import {
  DatasetDeletedResponseDto,
  DatasetDetailResponseDto,
  DatasetListResponseDto,
  DatasetResponseDto,
  UpdateDatasetResponseDto,
} from './dataset.response.dto';

const who = (p?: Principal) => `api:${p?.name ?? 'unknown'}`;

@ApiTags('catalog')
@ApiBearerAuth()
@Controller('api/catalog/datasets')
export class DatasetsController {
  constructor(
    private readonly catalog: CatalogService,
    private readonly lake: LakeExportService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Register a dataset with its contract (version 1)' })
  @ApiCreatedResponse({ type: DatasetResponseDto })
  @ApiBadRequestResponse({
    type: ProblemResponseDto,
    description: 'CATALOG.INVALID_CONTRACT, PLATFORM.VALIDATION_FAILED',
  })
  @ApiConflictResponse({ type: ProblemResponseDto, description: 'CATALOG.DATASET_EXISTS, CATALOG.TABLE_TAKEN' })
  create(@Body() body: CreateDatasetRequestDto, @CurrentPrincipal() p: Principal): Promise<DatasetResponseDto> {
    return this.catalog.create(body, who(p));
  }

  @Get()
  @ApiOperation({ summary: 'List datasets (filter by tag or owner)' })
  @ApiOkResponse({ type: DatasetListResponseDto })
  async list(@Query() q: ListDatasetsQueryDto): Promise<DatasetListResponseDto> {
    return { items: await this.catalog.list(q) };
  }

  @Get(':name')
  @ApiOperation({ summary: 'A dataset: contract, row count, last load, version history' })
  @ApiOkResponse({ type: DatasetDetailResponseDto })
  @ApiNotFoundResponse({ type: ProblemResponseDto, description: 'CATALOG.DATASET_NOT_FOUND' })
  get(@Param('name') name: string): Promise<DatasetDetailResponseDto> {
    return this.catalog.detail(name);
  }

  @Get(':name/changes')
  @ApiOperation({
    summary:
      'The history of contract changes: version, kind (initial, additive, widening, breaking), details, who, when',
  })
  @ApiOkResponse({ schema: { type: 'object', properties: { items: { type: 'array', items: { type: 'object' } } } } })
  async changes(@Param('name') name: string) {
    const d = await this.catalog.detail(name);
    return { items: d.versions.map(({ contract: _c, ...v }) => v) };
  }

  @Delete(':name')
  @ApiOperation({
    summary:
      'Delete a dataset from the catalog (its contract history with it); the warehouse table stays unless dropTable=true. Refused while a source, suite, model, pipeline or (with dropTable) a view uses it',
  })
  @ApiOkResponse({ type: DatasetDeletedResponseDto })
  @ApiNotFoundResponse({ type: ProblemResponseDto, description: 'CATALOG.DATASET_NOT_FOUND' })
  @ApiConflictResponse({
    type: InUseProblemDto,
    description: 'CATALOG.DATASET_IN_USE, with `dependents`: what uses the dataset (delete or change them first)',
  })
  remove(@Param('name') name: string, @Query() q: DeleteDatasetQueryDto): Promise<DatasetDeletedResponseDto> {
    return this.catalog.remove(name, { dropTable: q.dropTable === 'true', force: q.force === 'true' });
  }

  @Delete(':name/versions/:version')
  @ApiOperation({ summary: 'Retire an old version of a versioned dataset (drops <table>_v<N>)' })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: { dropped: { type: 'string', description: 'the table dropped', example: 'raw.orders_v1' } },
    },
  })
  retire(@Param('name') name: string, @Param('version', ParseIntPipe) version: number) {
    return this.catalog.retireVersion(name, version);
  }

  @Get(':name/preview')
  @ApiOperation({
    summary: 'The first rows of the dataset (values of PII columns masked as *** unless the key is an admin key)',
    description:
      'At most WEIR_PREVIEW_MAX_ROWS rows (a larger `limit`: 400 CATALOG.PREVIEW_LIMIT_TOO_LARGE); the read is bounded by WEIR_REQUEST_STATEMENT_TIMEOUT_MS (503 PLATFORM.STATEMENT_TIMEOUT past it).',
  })
  @ApiBadRequestResponse({ type: ProblemResponseDto, description: 'CATALOG.PREVIEW_LIMIT_TOO_LARGE' })
  @ApiServiceUnavailableResponse({ type: ProblemResponseDto, description: 'PLATFORM.STATEMENT_TIMEOUT' })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: {
        columns: { type: 'array', items: { type: 'string' } },
        masked: { type: 'array', items: { type: 'string' } },
        rows: { type: 'array', items: { type: 'object' } },
      },
    },
  })
  preview(@Param('name') name: string, @Query() q: PreviewQueryDto, @CurrentPrincipal() p: Principal) {
    return this.catalog.preview(name, q.limit, seesPii(p));
  }

  @Post(':name/exports')
  @ApiOperation({
    summary:
      'Export the dataset (or model) as Parquet to a folder under the export root or s3://bucket/prefix: Hive partitions, snappy/gzip/brotli/zstd, row groups, a _manifest.json; incremental: only new partitions; PII columns masked unless the key is an admin key',
  })
  @ApiCreatedResponse({ schema: { type: 'object' } })
  @ApiBadRequestResponse({ type: ProblemResponseDto, description: 'CATALOG.INVALID_EXPORT' })
  @ApiNotFoundResponse({ type: ProblemResponseDto, description: 'CATALOG.DATASET_NOT_FOUND, CATALOG.TABLE_NOT_FOUND' })
  @ApiServiceUnavailableResponse({
    type: ProblemResponseDto,
    description:
      'PLATFORM.STATEMENT_TIMEOUT: reading the relation took longer than WEIR_REQUEST_STATEMENT_TIMEOUT_MS (a pipeline `export` step is not bound by it)',
  })
  exportLake(@Param('name') name: string, @Body() body: Record<string, unknown>, @CurrentPrincipal() p: Principal) {
    return this.lake.export(name, body, { unmasked: seesPii(p), forRequest: true });
  }

  @Patch(':name')
  @ApiOperation({
    summary:
      'Change description, owner, tags or the contract (classified, recorded, applied to the table when additive or widening)',
  })
  @ApiOkResponse({ type: UpdateDatasetResponseDto })
  @ApiConflictResponse({
    type: ProblemResponseDto,
    description:
      'CATALOG.BREAKING_CHANGE without allowBreaking; CATALOG.VERSIONED_BREAKING_CHANGE for a versioned dataset (publish a new version through its model)',
  })
  async update(
    @Param('name') name: string,
    @Body() body: UpdateDatasetRequestDto,
    @CurrentPrincipal() p: Principal,
  ): Promise<UpdateDatasetResponseDto> {
    const { dataset, change } = await this.catalog.update(name, body, who(p), { forRequest: true });
    return { ...dataset, ...(change ? { change } : {}) };
  }
}
