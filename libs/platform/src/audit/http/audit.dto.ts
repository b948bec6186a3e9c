import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsString, Length, Max, Min } from 'class-validator';
import { Optional } from '../../errors/validation';
import { AUDIT_OUTCOMES, AuditOutcome, AuditRecord, MUTATING_METHODS } from '../audit-log';

const METHODS = [...MUTATING_METHODS, 'CLI'];

export class AuditQueryDto {
  @ApiPropertyOptional({
    description: 'Key id (`env:WEIR_ADMIN_API_KEY` for the configured admin key), `cli:<user>` or `anonymous`',
  })
  @Optional()
  @IsString()
  @Length(1, 200)
  actor?: string;

  @ApiPropertyOptional({
    description:
      'Prefix of the route template or of the path (`/api/catalog` matches every catalog route; `weir keys` every key command)',
    example: '/api/catalog/datasets',
  })
  @Optional()
  @IsString()
  @Length(1, 500)
  route?: string;

  @ApiPropertyOptional({ enum: METHODS })
  @Optional()
  @IsIn([...METHODS, ...METHODS.map((m) => m.toLowerCase())])
  method?: string;

  @ApiPropertyOptional({
    enum: AUDIT_OUTCOMES,
    description: 'ok: 2xx/3xx; refused: 4xx; failed: 5xx or a command that failed',
  })
  @Optional()
  @IsIn(AUDIT_OUTCOMES as AuditOutcome[])
  outcome?: AuditOutcome;

  @ApiPropertyOptional({
    description: "The resource id: the route's `:id` or `:name` parameter, or a command's first argument",
  })
  @Optional()
  @IsString()
  @Length(1, 500)
  resource?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Rows at or after this time' })
  @Optional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Rows before this time' })
  @Optional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 500 })
  @Optional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: '`nextCursor` of the previous page' })
  @Optional()
  @IsString()
  @Length(1, 200)
  cursor?: string;
}

export class AuditRecordDto {
  @ApiProperty({ example: '42' }) id: string;
  @ApiProperty({ type: String, format: 'date-time', description: 'When the request or command started' }) at: string;
  @ApiProperty({ description: 'Key id, `env:WEIR_ADMIN_API_KEY`, `cli:<os user>` or `anonymous`' }) actor: string;
  @ApiProperty({ type: String, nullable: true, description: "The key's name" }) actorName: string | null;
  @ApiProperty({ enum: METHODS }) method: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'Route template (`/api/catalog/datasets/:name`) or command (`weir keys revoke`); null when no route matched',
  })
  route: string | null;
  @ApiProperty({ description: 'The path as requested, without its query string' }) path: string;
  @ApiProperty({ type: String, nullable: true }) resourceId: string | null;
  @ApiProperty({
    type: Object,
    nullable: true,
    description:
      'The request body (or the command\'s arguments and options) with secrets masked as "***" ({"env": NAME} references keep the name) and the size capped',
  })
  diff: unknown;
  @ApiProperty({ type: Number, nullable: true, description: 'HTTP status; null for a command' }) status: number | null;
  @ApiProperty({ enum: AUDIT_OUTCOMES }) outcome: AuditOutcome;
  @ApiProperty({ type: String, nullable: true, description: 'The problem+json `code` of a refusal or failure' })
  errorCode: string | null;
  @ApiProperty() durationMs: number;
  @ApiProperty({ type: String, nullable: true }) requestId: string | null;

  static from(r: AuditRecord): AuditRecordDto {
    return Object.assign(new AuditRecordDto(), { ...r, at: r.at.toISOString() });
  }
}

export class AuditListResponseDto {
  @ApiProperty({ type: [AuditRecordDto] }) items: AuditRecordDto[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next (older) page; null on the last',
  })
  nextCursor: string | null;
}
