import { Controller, Get, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { RequireRole } from '../../auth/auth.decorators';
import { ProblemResponseDto } from '../../errors/problem.dto';
import { AuditLog } from '../audit-log';
import { AuditListResponseDto, AuditQueryDto, AuditRecordDto } from './audit.dto';

@ApiTags('platform')
@ApiBearerAuth()
@ApiSecurity('api-key')
@ApiUnauthorizedResponse({ type: ProblemResponseDto, description: 'No key, or an unknown/revoked key' })
@ApiForbiddenResponse({ type: ProblemResponseDto, description: 'The key is not an admin key' })
@RequireRole('admin')
@Controller('api/platform/audit')
export class AuditController {
  constructor(private readonly audit: AuditLog) {}

  @Get()
  @ApiOperation({
    summary: 'Read the audit log (admin)',
    description:
      'Every POST, PUT, PATCH and DELETE (accepted, refused or failed) and every mutating `weir` command: who, what ' +
      '(route, resource id, the redacted body), when and how it ended. Newest first; page with `cursor`.',
  })
  @ApiOkResponse({ type: AuditListResponseDto })
  @ApiBadRequestResponse({
    type: ProblemResponseDto,
    description: 'A filter is malformed (PLATFORM.VALIDATION_FAILED, PLATFORM.INVALID_AUDIT_QUERY)',
  })
  async list(@Query() q: AuditQueryDto): Promise<AuditListResponseDto> {
    const page = await this.audit.list({
      ...q,
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
    });
    return { items: page.items.map(AuditRecordDto.from), nextCursor: page.nextCursor };
  }
}
