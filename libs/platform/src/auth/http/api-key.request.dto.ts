import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length } from 'class-validator';
import { API_KEY_ROLES, ApiKeyRole } from '../roles';

export class CreateApiKeyRequestDto {
  @ApiProperty({ example: 'airflow-migration', description: 'What or who uses the key', minLength: 1, maxLength: 100 })
  @IsString()
  @Length(1, 100)
  name: string;

  @ApiProperty({
    enum: API_KEY_ROLES,
    example: 'editor',
    description: 'viewer: read only; editor: read and write; admin: also manages keys',
  })
  @IsIn(API_KEY_ROLES as unknown as string[])
  role: ApiKeyRole;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    example: '2027-03-01T00:00:00Z',
    description: 'When the key stops working (401 PLATFORM.KEY_EXPIRED); not with expiresIn. Absent: never.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 40)
  expiresAt?: string;

  @ApiPropertyOptional({
    example: '90d',
    description: 'When the key stops working, from now: a number and s, m, h, d or w; not with expiresAt',
  })
  @IsOptional()
  @IsString()
  @Length(1, 20)
  expiresIn?: string;
}

export class RotateApiKeyRequestDto {
  @ApiPropertyOptional({
    example: '1h',
    description: 'How long the replaced secret keeps working (s, m, h, d; at most 30 days). Absent: it stops at once.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 20)
  grace?: string;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'A new expiry for the key; absent (and no expiresIn): it keeps its own',
  })
  @IsOptional()
  @IsString()
  @Length(1, 40)
  expiresAt?: string;

  @ApiPropertyOptional({ example: '90d', description: 'A new expiry, from now; not with expiresAt' })
  @IsOptional()
  @IsString()
  @Length(1, 20)
  expiresIn?: string;
}
