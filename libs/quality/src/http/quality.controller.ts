import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';

export class QualityStatusResponseDto {
  @ApiProperty({ example: 'quality' }) slice: string;
  @ApiProperty({ example: 'ok' }) status: string;
}

@ApiTags('quality')
@ApiBearerAuth()
@Controller('api/quality')
export class QualityController {
  @Get('status')
  @ApiOperation({ summary: 'The quality slice is loaded and answering' })
  @ApiOkResponse({ type: QualityStatusResponseDto })
  status(): QualityStatusResponseDto {
    return { slice: 'quality', status: 'ok' };
  }
}
