import { Body, Controller, Delete, Get, HttpCode, Param, Put, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, type Principal } from '@weir/platform';
import { PoolsService, PoolView } from '../application/pools.service';
import { PutPoolRequestDto } from './pool.request.dto';
import { PoolListResponseDto, PoolResponseDto } from './orchestration.response.dto';

/** Pools: named concurrency limits shared by the steps of every pipeline. */
@ApiTags('orchestration')
@ApiBearerAuth()
@Controller('api/orchestration/pools')
export class PoolsController {
  constructor(private readonly pools: PoolsService) {}

  @Get()
  @ApiOperation({ summary: 'Pools: defined ones, and those named by steps (default slots), with their step runs now' })
  @ApiOkResponse({ type: PoolListResponseDto })
  async list(): Promise<{ items: PoolView[] }> {
    return { items: await this.pools.list() };
  }

  @Get(':name')
  @ApiOperation({ summary: 'A pool: its slots and its step runs now' })
  @ApiOkResponse({ type: PoolResponseDto })
  get(@Param('name') name: string): Promise<PoolView> {
    return this.pools.get(name);
  }

  @Put(':name')
  @ApiOperation({ summary: 'Define a pool or change its slots (201 when defined, 200 when changed)' })
  @ApiCreatedResponse({ type: PoolResponseDto, description: 'Defined' })
  @ApiOkResponse({ type: PoolResponseDto, description: 'Changed' })
  async put(
    @Param('name') name: string,
    @Body() body: PutPoolRequestDto,
    @Res({ passthrough: true }) res: Response,
    @CurrentPrincipal() p?: Principal,
  ): Promise<PoolView> {
    const { pool, created } = await this.pools.put(name, body, p?.name ?? null);
    res.status(created ? 201 : 200);
    return pool;
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a pool definition (its steps get the default slots)' })
  @ApiNoContentResponse({ description: 'Removed; no body' })
  async remove(@Param('name') name: string): Promise<void> {
    await this.pools.remove(name);
  }
}
