import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsObject, IsString, Length, Matches, Max, Min } from 'class-validator';
import { Type } from 'class-transformer';
import { Optional } from '@weir/platform';

/** `POST /api/orchestration/pipelines/:id/runs`. */
export class TriggerPipelineRunRequestDto {
  @ApiPropertyOptional({ example: '2026-12-01', description: 'The partition to run (its key reaches every step)' })
  @Optional()
  @Matches(/^[A-Za-z0-9_.=\-/]{1,200}$/)
  partition?: string;

  @ApiPropertyOptional({ description: 'Parameters of the run, kept on it' })
  @Optional()
  @IsObject()
  params?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'The same key answers with the same run unless it failed or was cancelled' })
  @Optional()
  @IsString()
  @Length(1, 200)
  idempotencyKey?: string;
}

/** `GET /api/orchestration/runs`. */
export class ListRunsQueryDto {
  @ApiPropertyOptional({ description: 'A pipeline, by id or name' }) @Optional() @IsString() pipeline?: string;

  @ApiPropertyOptional({ enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] })
  @Optional()
  @IsIn(['queued', 'running', 'succeeded', 'failed', 'cancelled'])
  status?: string;

  @ApiPropertyOptional() @Optional() @IsString() partition?: string;

  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @Optional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

/** `DELETE /api/orchestration/pipelines/:id`. */
export class DeletePipelineQueryDto {
  @ApiPropertyOptional({ description: 'Cancel its runs that are not finished, and delete' })
  @Optional()
  @IsIn(['true', 'false'])
  force?: string;
}

/** `POST /api/orchestration/pipelines/:id/backfills`. */
export class BackfillRequestDto {
  @ApiPropertyOptional({ example: '2026-11-01', description: 'First partition (default: the pipeline start)' })
  @Optional()
  @IsString()
  from?: string;

  @ApiPropertyOptional({ example: '2026-11-30', description: 'Last partition (default: the current one)' })
  @Optional()
  @IsString()
  to?: string;

  @ApiPropertyOptional({ enum: ['oldest', 'newest'], default: 'oldest' })
  @Optional()
  @IsIn(['oldest', 'newest'])
  order?: 'oldest' | 'newest';

  @ApiPropertyOptional({ default: 1, minimum: 1, maximum: 64 })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(64)
  maxParallel?: number;
}

/** `GET /api/orchestration/pipelines/:id/partitions`. */
export class PartitionsQueryDto {
  @ApiPropertyOptional() @Optional() @IsString() from?: string;
  @ApiPropertyOptional() @Optional() @IsString() to?: string;

  @ApiPropertyOptional({ description: 'Only the gaps' })
  @Optional()
  @IsIn(['true', 'false'])
  gaps?: string;

  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @Optional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ default: 0 })
  @Optional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset?: number;
}
