import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsString, Max, Min } from 'class-validator';
import { Type } from 'class-transformer';
import { Optional } from '@weir/platform';

/** `GET /api/orchestration/alert-deliveries`. */
export class ListDeliveriesQueryDto {
  @ApiPropertyOptional({ description: 'A destination, by name' }) @Optional() @IsString() destination?: string;

  @ApiPropertyOptional({ enum: ['pending', 'delivered', 'failed'] })
  @Optional()
  @IsIn(['pending', 'delivered', 'failed'])
  status?: string;

  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @Optional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

/** `GET /api/orchestration/sla-misses`. */
export class ListSlaMissesQueryDto {
  @ApiPropertyOptional({ description: 'A pipeline, by id or name' }) @Optional() @IsString() pipeline?: string;

  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @Optional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}
