import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsString, MaxLength, Max, Min, ValidateIf } from 'class-validator';
import { Optional } from '@weir/platform';

/** `PUT /api/orchestration/pools/:name`. */
export class PutPoolRequestDto {
  @ApiProperty({
    example: 2,
    description: 'Step runs of the pool running at once, on every instance (0 holds its steps)',
  })
  @IsInt()
  @Min(0)
  @Max(10_000)
  slots: number;

  @ApiPropertyOptional({ description: 'What the pool protects' })
  @Optional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @MaxLength(1000)
  description?: string | null;
}
