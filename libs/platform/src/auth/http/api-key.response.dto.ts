import { ApiProperty } from '@nestjs/swagger';
import { API_KEY_ROLES, ApiKeyRole } from '../roles';
import type { ApiKeyView, CreatedApiKey } from '../api-keys.service';

export class ApiKeyResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: API_KEY_ROLES }) role: ApiKeyRole;
  @ApiProperty({ description: 'First characters of the key, to recognise it', example: 'weir_Xk3pQ9a' })
  keyPrefix: string;
  @ApiProperty({ type: String, nullable: true }) createdBy: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Last request made with the key (recorded at most once a minute)',
  })
  lastUsedAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revokedAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Null: never expires' })
  expiresAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the secret was last replaced' })
  rotatedAt: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Until when the secret replaced by the last rotation still works (its grace period)',
  })
  previousValidUntil: string | null;

  static from(v: ApiKeyView): ApiKeyResponseDto {
    return Object.assign(new ApiKeyResponseDto(), {
      id: v.id,
      name: v.name,
      role: v.role,
      keyPrefix: v.keyPrefix,
      createdBy: v.createdBy,
      createdAt: v.createdAt.toISOString(),
      lastUsedAt: v.lastUsedAt ? v.lastUsedAt.toISOString() : null,
      revokedAt: v.revokedAt ? v.revokedAt.toISOString() : null,
      expiresAt: v.expiresAt ? v.expiresAt.toISOString() : null,
      rotatedAt: v.rotatedAt ? v.rotatedAt.toISOString() : null,
      previousValidUntil: v.previousValidUntil ? v.previousValidUntil.toISOString() : null,
    });
  }
}

export class CreatedApiKeyResponseDto extends ApiKeyResponseDto {
  @ApiProperty({ description: 'The secret. Shown once, never again: store it now.', example: 'weir_3q2…' })
  key: string;

  static fromCreated(v: CreatedApiKey): CreatedApiKeyResponseDto {
    return Object.assign(new CreatedApiKeyResponseDto(), ApiKeyResponseDto.from(v), { key: v.key });
  }
}

export class ApiKeyListResponseDto {
  @ApiProperty({ type: [ApiKeyResponseDto] }) items: ApiKeyResponseDto[];
}
