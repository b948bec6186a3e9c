import { Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Principal, ProblemResponseDto, seesPii } from '@weir/platform';
import { RunsService } from '../application/runs.service';
import { DeadLettersService } from '../application/dead-letters.service';
import { DeadLettersQueryDto, ListRunsQueryDto } from './source.request.dto';
import { DeadLetterPageDto, RunListResponseDto, RunResponseDto } from './source.response.dto';

@ApiTags('ingestion')
@ApiBearerAuth()
@Controller('api/ingestion/runs')
export class RunsController {
  constructor(
    private readonly runs: RunsService,
    private readonly letters: DeadLettersService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Runs, newest first (filter by sourceId — id or name — and status)' })
  @ApiOkResponse({ type: RunListResponseDto })
  async list(@Query() q: ListRunsQueryDto): Promise<RunListResponseDto> {
    return { items: await this.runs.list(q) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'A run: status, timings, bytes, row accounting (progress while running), error' })
  @ApiOkResponse({ type: RunResponseDto })
  @ApiNotFoundResponse({ type: ProblemResponseDto })
  get(@Param('id') id: string): Promise<RunResponseDto> {
    return this.runs.get(id);
  }

  @Get(':id/dead-letters')
  @ApiOperation({
    summary: 'Rejected records of a run, paged, filterable by reason; PII masked unless the key is an admin key',
  })
  @ApiOkResponse({ type: DeadLetterPageDto })
  deadLetters(
    @Param('id') id: string,
    @Query() q: DeadLettersQueryDto,
    @CurrentPrincipal() p: Principal,
  ): Promise<DeadLetterPageDto> {
    return this.letters.page(id, q, seesPii(p));
  }

  @Get(':id/dead-letters.csv')
  @ApiOperation({ summary: 'Download the dead letters as CSV (PII masked unless the key is an admin key)' })
  @ApiProduces('text/csv')
  @ApiOkResponse({
    description: 'A header line, then one line per dead letter, streamed',
    content: { 'text/csv': { schema: { type: 'string' } } },
  })
  async deadLettersCsv(
    @Param('id') id: string,
    @Query() q: DeadLettersQueryDto,
    @CurrentPrincipal() p: Principal,
    @Res() res: Response,
  ): Promise<void> {
    const lines = this.letters.csv(id, q.reason, seesPii(p));
    const first = await lines.next(); // errors (unknown run) surface before headers are sent
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="dead-letters-${id}.csv"`);
    if (!first.done) res.write(first.value);
    for await (const chunk of lines) if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    res.end();
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Cancel a run: a queued one fails at once (INGESTION.CANCELLED); a running one stops at its next heartbeat, before publishing anything',
  })
  @ApiOkResponse({ type: RunResponseDto })
  async cancel(@Param('id') id: string): Promise<RunResponseDto> {
    return this.runs.cancel(id);
  }

  @Post(':id/replay')
  @ApiOperation({
    summary: 'Re-validate the dead letters against the current contract and load those that pass, as a new run',
  })
  @ApiAcceptedResponse({ type: RunResponseDto })
  async replay(
    @Param('id') id: string,
    @CurrentPrincipal() p: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RunResponseDto> {
    const { run, created } = await this.letters.replay(id, `api:${p?.name ?? 'unknown'}`);
    res.status(created ? 202 : 200);
    return run;
  }
}
