import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, Length } from 'class-validator';
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
}
