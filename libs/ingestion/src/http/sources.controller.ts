import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentPrincipal, InUseProblemDto, Principal, ProblemResponseDto } from '@weir/platform';
import { SourcesService } from '../application/sources.service';
import { RunsService } from '../application/runs.service';
import { UploadsService } from '../application/uploads.service';
import {
  CreateSourceRequestDto,
  DeleteSourceQueryDto,
  TriggerRunRequestDto,
  UpdateSourceRequestDto,
} from './source.request.dto';
import {
  RunResponseDto,
  SourceListResponseDto,
  SourceResponseDto,
  StreamStatusResponseDto,
} from './source.response.dto';
import { StreamConsumersService } from '../application/stream-consumers.service';
import type { SourceInput } from '../application/sources.service';

const who = (p?: Principal) => `api:${p?.name ?? 'unknown'}`;

@ApiTags('ingestion')
@ApiBearerAuth()
@Controller('api/ingestion/sources')
export class SourcesController {
  constructor(
    private readonly sources: SourcesService,
    private readonly runs: RunsService,
    private readonly uploads: UploadsService,
    private readonly streams: StreamConsumersService,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Create a source: dataset contract + format + location + strategy + drift policy (+ schedule)',
  })
  @ApiCreatedResponse({ type: SourceResponseDto })
  @ApiConflictResponse({ type: ProblemResponseDto, description: 'INGESTION.SOURCE_EXISTS' })
  create(@Body() body: CreateSourceRequestDto): Promise<SourceResponseDto> {
    return this.sources.create(body as unknown as SourceInput);
  }

  @Get()
  @ApiOperation({ summary: 'List sources' })
  @ApiOkResponse({ type: SourceListResponseDto })
  async list(): Promise<SourceListResponseDto> {
    return { items: await this.sources.list() };
  }

  @Get(':id')
  @ApiOperation({ summary: 'A source (by id or name)' })
  @ApiOkResponse({ type: SourceResponseDto })
  @ApiNotFoundResponse({ type: ProblemResponseDto })
  get(@Param('id') id: string): Promise<SourceResponseDto> {
    return this.sources.get(id);
  }

  @Get(':id/stream')
  @ApiOperation({ summary: 'A stream source (nats_jetstream): its consumer lease, lag and last micro-batches' })
  @ApiOkResponse({ type: StreamStatusResponseDto })
  @ApiNotFoundResponse({ type: ProblemResponseDto, description: 'INGESTION.STREAM_NOT_FOUND' })
  stream(@Param('id') id: string): Promise<StreamStatusResponseDto> {
    return this.streams.status(id) as Promise<StreamStatusResponseDto>;
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a source (a schedule change takes effect at once)' })
  @ApiOkResponse({ type: SourceResponseDto })
  update(@Param('id') id: string, @Body() body: UpdateSourceRequestDto): Promise<SourceResponseDto> {
    return this.sources.update(id, body as unknown as Partial<SourceInput>);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary:
      'Delete a source (soft: its runs and dead letters stay readable, its name is free); refused while a run of it is queued or running or a pipeline step ingests it',
  })
  @ApiNoContentResponse({ description: 'Deleted; no body' })
  @ApiNotFoundResponse({ type: ProblemResponseDto, description: 'INGESTION.SOURCE_NOT_FOUND' })
  @ApiConflictResponse({
    type: InUseProblemDto,
    description:
      'INGESTION.SOURCE_IN_USE, with `dependents`: its queued or running runs, the pipeline steps ingesting it',
  })
  async remove(@Param('id') id: string, @Query() q: DeleteSourceQueryDto): Promise<void> {
    await this.sources.remove(id, q.force === 'true');
  }

  @Post(':id/runs')
  @ApiOperation({
    summary: 'Trigger a run (202 with the queued run; 200 with the existing run when the idempotency key was seen)',
  })
  @ApiAcceptedResponse({ type: RunResponseDto })
  @ApiOkResponse({ type: RunResponseDto, description: 'Same idempotency key: the existing run, nothing loaded twice' })
  async trigger(
    @Param('id') id: string,
    @Body() body: TriggerRunRequestDto,
    @CurrentPrincipal() p: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RunResponseDto> {
    const { run, created } = await this.runs.start({
      source: id,
      input: { path: body.path },
      partition: body.partition,
      idempotencyKey: body.idempotencyKey,
      trigger: 'api',
      createdBy: who(p),
    });
    res.status(created ? 202 : 200);
    return run;
  }

  @Post(':id/uploads')
  @ApiOperation({
    summary:
      'Upload a file (multipart "file" field or the raw body, .gz accepted), streamed to disk, then loaded as a run',
  })
  @ApiConsumes('multipart/form-data', 'application/octet-stream', 'text/csv')
  @ApiBody({
    schema: {
      type: 'object',
      properties: { file: { type: 'string', format: 'binary' }, idempotencyKey: { type: 'string' } },
    },
  })
  @ApiAcceptedResponse({ type: RunResponseDto })
  async upload(
    @Param('id') id: string,
    @Req() req: Request,
    @CurrentPrincipal() p: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RunResponseDto> {
    await this.sources.entity(id);
    const stored = await this.uploads.store(req);
    const key =
      stored.fields['idempotencyKey'] ??
      (typeof req.query['idempotencyKey'] === 'string' ? req.query['idempotencyKey'] : undefined);
    const { run, created } = await this.runs.trigger(id, {
      trigger: 'upload',
      createdBy: who(p),
      idempotencyKey: key,
      upload: stored,
    });
    if (!created) (await import('node:fs')).rmSync(stored.file, { force: true });
    res.status(created ? 202 : 200);
    return run;
  }
}
