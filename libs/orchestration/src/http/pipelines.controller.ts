import { Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, type Principal } from '@weir/platform';
import type { PipelineSpec } from '../domain/pipeline';
import type { PipelineRunView, PipelineView } from '../application/pipeline.views';
import { PipelineRunsService } from '../application/pipeline-runs.service';
import { PipelinesService } from '../application/pipelines.service';
import { DeletePipelineQueryDto, ListRunsQueryDto, TriggerRunRequestDto } from './pipeline-run.request.dto';

/** Pipelines (DAGs of steps across the slices) and their runs. */
@ApiTags('orchestration')
@ApiBearerAuth()
@Controller('api/orchestration')
export class PipelinesController {
  constructor(
    private readonly pipelines: PipelinesService,
    private readonly runs: PipelineRunsService,
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
}
