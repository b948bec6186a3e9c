import { Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, type Principal } from '@weir/platform';
import type { PipelineSpec } from '../domain/pipeline';
import type { PipelineRunView, PipelineView } from '../application/pipeline.views';
import { PipelineRunsService } from '../application/pipeline-runs.service';
import { PipelinesService } from '../application/pipelines.service';
import {
  BackfillRequestDto,
  DeletePipelineQueryDto,
  ListRunsQueryDto,
  PartitionsQueryDto,
  TriggerRunRequestDto,
} from './pipeline-run.request.dto';
import { BackfillsService, BackfillView } from '../application/backfills.service';
import { PartitionsService, PartitionView } from '../application/partitions.service';

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
  create(@Body() body: unknown, @CurrentPrincipal() p?: Principal): Promise<PipelineView> {
    return this.pipelines.create(body, p?.name ?? null);
  }

  @Get('pipelines')
  async list(): Promise<{ items: PipelineView[] }> {
    return { items: await this.pipelines.list() };
  }

  @Get('pipelines/:id')
  get(@Param('id') id: string): Promise<PipelineView> {
    return this.pipelines.get(id);
  }

  @Put('pipelines/:id')
  @ApiOperation({ summary: 'Change a pipeline: a new version when the definition differs (every version is kept)' })
  update(@Param('id') id: string, @Body() body: unknown, @CurrentPrincipal() p?: Principal): Promise<PipelineView> {
    return this.pipelines.update(id, body, p?.name ?? null);
  }

  @Delete('pipelines/:id')
  @HttpCode(204)
  async remove(@Param('id') id: string, @Query() q: DeletePipelineQueryDto): Promise<void> {
    await this.pipelines.remove(id, q.force === 'true');
  }

  @Get('pipelines/:id/versions')
  async versions(
    @Param('id') id: string,
  ): Promise<{ items: { version: number; createdAt: string; createdBy: string | null }[] }> {
    return { items: await this.pipelines.versions(id) };
  }

  @Get('pipelines/:id/versions/:version')
  version(@Param('id') id: string, @Param('version', ParseIntPipe) version: number): Promise<PipelineSpec> {
    return this.pipelines.version(id, version);
  }

  @Post('pipelines/:id/runs')
  @ApiOperation({
    summary: 'Run a pipeline by hand (201 with the queued run; 200 with the run its idempotency key already has)',
  })
  async trigger(
    @Param('id') id: string,
    @Body() body: TriggerRunRequestDto,
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
  async listRuns(@Query() q: ListRunsQueryDto): Promise<{ items: PipelineRunView[] }> {
    return { items: await this.runs.list(q) };
  }

  @Get('runs/:id')
  @ApiOperation({
    summary: 'A pipeline run with its steps: attempts, timings, errors, counts, links to the runs underneath',
  })
  getRun(@Param('id') id: string): Promise<PipelineRunView> {
    return this.runs.get(id);
  }

  @Post('runs/:id/cancel')
  @HttpCode(200)
  cancel(@Param('id') id: string): Promise<PipelineRunView> {
    return this.runs.cancel(id);
  }

  @Post('pipelines/:id/backfills')
  @ApiOperation({ summary: 'Backfill a range of partitions, at most maxParallel at once (201 with its progress)' })
  backfill(
    @Param('id') id: string,
    @Body() body: BackfillRequestDto,
    @CurrentPrincipal() p?: Principal,
  ): Promise<BackfillView> {
    return this.backfills.create(id, body, p?.name ?? null);
  }

  @Get('pipelines/:id/backfills')
  async listBackfills(@Param('id') id: string): Promise<{ items: BackfillView[] }> {
    return { items: await this.backfills.list(id) };
  }

  @Get('backfills/:id')
  getBackfill(@Param('id') id: string): Promise<BackfillView> {
    return this.backfills.get(id);
  }

  @Post('backfills/:id/pause')
  @HttpCode(200)
  pauseBackfill(@Param('id') id: string): Promise<BackfillView> {
    return this.backfills.pause(id);
  }

  @Post('backfills/:id/resume')
  @HttpCode(200)
  resumeBackfill(@Param('id') id: string): Promise<BackfillView> {
    return this.backfills.resume(id);
  }

  @Post('backfills/:id/cancel')
  @HttpCode(200)
  cancelBackfill(@Param('id') id: string): Promise<BackfillView> {
    return this.backfills.cancel(id);
  }

  @Get('pipelines/:id/partitions')
  @ApiOperation({
    summary: "Each partition's latest status, and the gaps (never succeeded, or failed after the last success)",
  })
  partitionsPage(
    @Param('id') id: string,
    @Query() q: PartitionsQueryDto,
  ): Promise<{ total: number; gaps: number; items: PartitionView[] }> {
    return this.partitions.page(id, { ...q, gaps: q.gaps === 'true' });
  }
}
