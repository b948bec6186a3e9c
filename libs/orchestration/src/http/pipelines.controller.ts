import { Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Post, Put, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, InUseProblemDto, type Principal, ProblemResponseDto, seesPii } from '@weir/platform';
import type { PipelineSpec } from '../domain/pipeline';
import type { PipelineRunView, PipelineView } from '../application/pipeline.views';
import { PipelineRunsService } from '../application/pipeline-runs.service';
import { PipelinesService } from '../application/pipelines.service';
import {
  BackfillRequestDto,
  DeletePipelineQueryDto,
  ListRunsQueryDto,
  PartitionsQueryDto,
  TriggerPipelineRunRequestDto,
} from './pipeline-run.request.dto';
import { BackfillsService, BackfillView } from '../application/backfills.service';
import { PartitionsService, PartitionView } from '../application/partitions.service';
import {
  BackfillListResponseDto,
  BackfillResponseDto,
  PartitionPageResponseDto,
  PipelineListResponseDto,
  PipelineResponseDto,
  PipelineRunListResponseDto,
  PipelineRunResponseDto,
  PipelineVersionListResponseDto,
} from './orchestration.response.dto';

const CLEAR_PII_FORBIDDEN =
  'PLATFORM.FORBIDDEN: a viewer key, or an export step with `pii: clear` (PII in clear) from a key that is not an admin key';

/** Pipelines (DAGs of steps across the slices) and their runs. */
@ApiTags('orchestration')
@ApiBearerAuth()
@Controller('api/orchestration')
export class PipelinesController {
  constructor(
    private readonly pipelines: PipelinesService,
    private readonly runs: PipelineRunsService,
    private readonly backfills: BackfillsService,
    private readonly partitions: PartitionsService,
  ) {}

  @Post('pipelines')
  @ApiOperation({
    summary:
      'Define a pipeline (validated: unknown steps or references, cycles with their path, bad cron or time zone)',
  })
  @ApiCreatedResponse({ type: PipelineResponseDto })
  @ApiForbiddenResponse({ type: ProblemResponseDto, description: CLEAR_PII_FORBIDDEN })
  create(@Body() body: unknown, @CurrentPrincipal() p?: Principal): Promise<PipelineView> {
    return this.pipelines.create(body, { name: p?.name ?? null, seesPii: seesPii(p) });
  }

  @Get('pipelines')
  @ApiOperation({ summary: 'List pipelines' })
  @ApiOkResponse({ type: PipelineListResponseDto })
  async list(): Promise<{ items: PipelineView[] }> {
    return { items: await this.pipelines.list() };
  }

  @Get('pipelines/:id')
  @ApiOperation({ summary: 'A pipeline (by id or name) with its current definition' })
  @ApiOkResponse({ type: PipelineResponseDto })
  get(@Param('id') id: string): Promise<PipelineView> {
    return this.pipelines.get(id);
  }

  @Put('pipelines/:id')
  @ApiOperation({ summary: 'Change a pipeline: a new version when the definition differs (every version is kept)' })
  @ApiOkResponse({ type: PipelineResponseDto })
  @ApiForbiddenResponse({ type: ProblemResponseDto, description: CLEAR_PII_FORBIDDEN })
  update(@Param('id') id: string, @Body() body: unknown, @CurrentPrincipal() p?: Principal): Promise<PipelineView> {
    return this.pipelines.update(id, body, { name: p?.name ?? null, seesPii: seesPii(p) });
  }

  @Delete('pipelines/:id')
  @HttpCode(204)
  @ApiOperation({
    summary:
      'Delete a pipeline (soft: its versions and runs stay readable, its name is free); refused while another pipeline runs it or waits for it, and while a run is going unless force=true cancels it',
  })
  @ApiNoContentResponse({ description: 'Deleted; no body' })
  @ApiNotFoundResponse({ type: ProblemResponseDto, description: 'ORCHESTRATION.PIPELINE_NOT_FOUND' })
  @ApiConflictResponse({
    type: InUseProblemDto,
    description:
      'ORCHESTRATION.PIPELINE_IN_USE, with `dependents`: its queued or running runs, the steps of other pipelines that name it; ORCHESTRATION.PIPELINE_MANAGED',
  })
  async remove(@Param('id') id: string, @Query() q: DeletePipelineQueryDto): Promise<void> {
    await this.pipelines.remove(id, q.force === 'true');
  }

  @Get('pipelines/:id/versions')
  @ApiOperation({ summary: "A pipeline's versions, each with who made it and when" })
  @ApiOkResponse({ type: PipelineVersionListResponseDto })
  async versions(
    @Param('id') id: string,
  ): Promise<{ items: { version: number; createdAt: string; createdBy: string | null }[] }> {
    return { items: await this.pipelines.versions(id) };
  }

  @Get('pipelines/:id/versions/:version')
  @ApiOperation({ summary: 'The definition of one version of a pipeline' })
  @ApiOkResponse({ schema: { type: 'object', description: 'the pipeline definition (spec) of that version' } })
  version(@Param('id') id: string, @Param('version', ParseIntPipe) version: number): Promise<PipelineSpec> {
    return this.pipelines.version(id, version);
  }

  @Post('pipelines/:id/runs')
  @ApiOperation({
    summary: 'Run a pipeline by hand (201 with the queued run; 200 with the run its idempotency key already has)',
  })
  @ApiCreatedResponse({ type: PipelineRunResponseDto, description: 'The queued run' })
  @ApiOkResponse({ type: PipelineRunResponseDto, description: 'The run the idempotency key already has' })
  async trigger(
    @Param('id') id: string,
    @Body() body: TriggerPipelineRunRequestDto,
    @Res({ passthrough: true }) res: Response,
    @CurrentPrincipal() p?: Principal,
  ): Promise<PipelineRunView> {
    const { run, created } = await this.runs.trigger(id, {
      partition: body.partition,
      params: body.params,
      idempotencyKey: body.idempotencyKey,
      trigger: 'api',
      createdBy: p?.name ?? null,
    });
    res.status(created ? 201 : 200);
    return run;
  }

  @Get('runs')
  @ApiOperation({ summary: 'Pipeline runs, newest first (filter by pipeline, status)' })
  @ApiOkResponse({ type: PipelineRunListResponseDto })
  async listRuns(@Query() q: ListRunsQueryDto): Promise<{ items: PipelineRunView[] }> {
    return { items: await this.runs.list(q) };
  }

  @Get('runs/:id')
  @ApiOperation({
    summary: 'A pipeline run with its steps: attempts, timings, errors, counts, links to the runs underneath',
  })
  @ApiOkResponse({ type: PipelineRunResponseDto })
  getRun(@Param('id') id: string): Promise<PipelineRunView> {
    return this.runs.get(id);
  }

  @Post('runs/:id/cancel')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Cancel a run: queued steps are cancelled, a running step stops at its next lease renewal, child runs with it',
  })
  @ApiOkResponse({ type: PipelineRunResponseDto })
  cancel(@Param('id') id: string): Promise<PipelineRunView> {
    return this.runs.cancel(id);
  }

  @Post('pipelines/:id/backfills')
  @ApiOperation({ summary: 'Backfill a range of partitions, at most maxParallel at once (201 with its progress)' })
  @ApiCreatedResponse({ type: BackfillResponseDto })
  backfill(
    @Param('id') id: string,
    @Body() body: BackfillRequestDto,
    @CurrentPrincipal() p?: Principal,
  ): Promise<BackfillView> {
    return this.backfills.create(id, body, p?.name ?? null);
  }

  @Get('pipelines/:id/backfills')
  @ApiOperation({ summary: "A pipeline's backfills with their progress" })
  @ApiOkResponse({ type: BackfillListResponseDto })
  async listBackfills(@Param('id') id: string): Promise<{ items: BackfillView[] }> {
    return { items: await this.backfills.list(id) };
  }

  @Get('backfills/:id')
  @ApiOperation({ summary: 'A backfill: status, range and counts of its partitions by state' })
  @ApiOkResponse({ type: BackfillResponseDto })
  getBackfill(@Param('id') id: string): Promise<BackfillView> {
    return this.backfills.get(id);
  }

  @Post('backfills/:id/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause a backfill: no new partition starts; running ones finish' })
  @ApiOkResponse({ type: BackfillResponseDto })
  pauseBackfill(@Param('id') id: string): Promise<BackfillView> {
    return this.backfills.pause(id);
  }

  @Post('backfills/:id/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a paused backfill' })
  @ApiOkResponse({ type: BackfillResponseDto })
  resumeBackfill(@Param('id') id: string): Promise<BackfillView> {
    return this.backfills.resume(id);
  }

  @Post('backfills/:id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a backfill and its runs not finished' })
  @ApiOkResponse({ type: BackfillResponseDto })
  cancelBackfill(@Param('id') id: string): Promise<BackfillView> {
    return this.backfills.cancel(id);
  }

  @Get('pipelines/:id/partitions')
  @ApiOperation({
    summary: "Each partition's latest status, and the gaps (never succeeded, or failed after the last success)",
  })
  @ApiOkResponse({ type: PartitionPageResponseDto })
  partitionsPage(
    @Param('id') id: string,
    @Query() q: PartitionsQueryDto,
  ): Promise<{ total: number; gaps: number; items: PartitionView[] }> {
    return this.partitions.page(id, { ...q, gaps: q.gaps === 'true' });
  }
}
