import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** OpenAPI description of the problem+json body every error carries. */
export class ProblemResponseDto {
  @ApiProperty({ example: 'urn:weir:problem:PLATFORM.NOT_FOUND' }) type: string;
  @ApiProperty({ example: 'Not Found' }) title: string;
  @ApiProperty({ example: 404 }) status: number;
  @ApiProperty({ example: 'No API key with id "…"' }) detail: string;
  @ApiProperty({ example: 'PLATFORM.NOT_FOUND', description: 'Stable machine-readable code' }) code: string;
  @ApiPropertyOptional({ example: '/api/platform/api-keys/…' }) instance?: string;
  @ApiPropertyOptional({ description: 'Request id, also in the X-Request-Id header and every log line' })
  requestId?: string;
  @ApiPropertyOptional({ description: 'For 500s: the id of the logged error' }) errorId?: string;
  @ApiPropertyOptional({ type: [String], description: 'For validation failures: one message per problem' })
  errors?: string[];
}
