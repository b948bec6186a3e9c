import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';
import { MAX_DEPTH } from '../application/lineage-query.service';

/** `true`/`false` from a query string; anything else is left for IsBoolean to refuse. */
const toBool = ({ value }: { value: unknown }) =>
  value === 'true' || value === true ? true : value === 'false' || value === false ? false : value;

/** A required node id (`dataset:…`, `job:…`, `datasetField:…`). */
export const NodeIdParam = (example: string, description: string) =>
  applyDecorators(ApiProperty({ example, description }), IsString(), MinLength(5));

/** An optional walk depth, 0 to {@link MAX_DEPTH}. */
export const DepthParam = (dflt: number, description?: string) =>
  applyDecorators(
    ApiPropertyOptional({ default: dflt, minimum: 0, maximum: MAX_DEPTH, ...(description ? { description } : {}) }),
    IsOptional(),
    Type(() => Number),
    IsInt(),
    Min(0),
    Max(MAX_DEPTH),
  );

/** `both` (default), `upstream` or `downstream`. */
export const DirectionParam = () =>
  applyDecorators(
    ApiPropertyOptional({ enum: ['both', 'upstream', 'downstream'], default: 'both' }),
    IsOptional(),
    IsIn(['both', 'upstream', 'downstream']),
  );

/** An optional boolean flag (`true`/`false`), false by default. */
export const FlagParam = (description?: string) =>
  applyDecorators(
    ApiPropertyOptional({ default: false, ...(description ? { description } : {}) }),
    IsOptional(),
    Transform(toBool),
    IsBoolean(),
  );

/** An optional page size, 1 to 1000. */
export const LimitParam = (dflt: number) =>
  applyDecorators(
    ApiPropertyOptional({ default: dflt, minimum: 1, maximum: 1000 }),
    IsOptional(),
    Type(() => Number),
    IsInt(),
    Min(1),
    Max(1000),
  );
