import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiBadRequestResponse,
} from '@nestjs/swagger';
import { ApiKeysService } from '../api-keys.service';
import { parseKeyDuration, resolveKeyExpiry } from '../key-durations';
import { CurrentPrincipal, RequireRole } from '../auth.decorators';
import { Principal } from '../roles';
import { CreateApiKeyRequestDto, RotateApiKeyRequestDto } from './api-key.request.dto';
import { ApiKeyListResponseDto, ApiKeyResponseDto, CreatedApiKeyResponseDto } from './api-key.response.dto';
import { ProblemResponseDto } from '../../errors/problem.dto';

@ApiTags('platform')
@ApiBearerAuth()
@ApiSecurity('api-key')
@ApiUnauthorizedResponse({ type: ProblemResponseDto, description: 'No key, or an unknown/revoked key' })
@ApiForbiddenResponse({ type: ProblemResponseDto, description: 'The key is not an admin key' })
@RequireRole('admin')
@Controller('api/platform/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiOperation({
    summary: 'Create an API key',
    description:
      'Returns the secret once, as `key`; only its hash is stored. `expiresAt` (an instant) or `expiresIn` (`90d`) sets when it stops working.',
  })
  @ApiCreatedResponse({ type: CreatedApiKeyResponseDto })
  @ApiBadRequestResponse({ type: ProblemResponseDto })
  async create(
    @Body() body: CreateApiKeyRequestDto,
    @CurrentPrincipal() who: Principal,
  ): Promise<CreatedApiKeyResponseDto> {
    const expiresAt = resolveKeyExpiry({ expiresAt: body.expiresAt, expiresIn: body.expiresIn });
    return CreatedApiKeyResponseDto.fromCreated(await this.keys.create(body.name, body.role, who?.name, { expiresAt }));
  }

  @Post(':id/rotate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rotate an API key',
    description:
      "Gives the key (same id, name and role) a new secret, returned once as `key`. The old secret keeps working for `grace` (e.g. `1h`), else it stops at once. `:id` may be the key's name when one active key has it.",
  })
  @ApiOkResponse({ type: CreatedApiKeyResponseDto })
  @ApiNotFoundResponse({ type: ProblemResponseDto })
  @ApiBadRequestResponse({ type: ProblemResponseDto })
  async rotate(@Param('id') id: string, @Body() body: RotateApiKeyRequestDto): Promise<CreatedApiKeyResponseDto> {
    const graceMs = body.grace === undefined ? 0 : parseKeyDuration(body.grace, 'grace');
    const expiresAt = resolveKeyExpiry({ expiresAt: body.expiresAt, expiresIn: body.expiresIn });
    return CreatedApiKeyResponseDto.fromCreated(await this.keys.rotate(id, { graceMs, expiresAt }));
  }

  @Get()
  @ApiOperation({ summary: 'List API keys (never their secrets)' })
  @ApiOkResponse({ type: ApiKeyListResponseDto })
  async list(): Promise<ApiKeyListResponseDto> {
    return { items: (await this.keys.list()).map(ApiKeyResponseDto.from) };
  }

  @Delete(':id')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Revoke an API key',
    description: 'Idempotent: revoking a revoked key returns it unchanged.',
  })
  @ApiOkResponse({ type: ApiKeyResponseDto })
  @ApiNotFoundResponse({ type: ProblemResponseDto })
  async revoke(@Param('id') id: string): Promise<ApiKeyResponseDto> {
    return ApiKeyResponseDto.from(await this.keys.revoke(id));
  }
}
