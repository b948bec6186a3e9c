import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';

export class ModelingStatusResponseDto {
  @ApiProperty({ example: 'modeling' }) slice: string;
  @ApiProperty({ example: 'ok' }) status: string;
}

@ApiTags('modeling')
@ApiBearerAuth()
@Controller('api/modeling')
export class ModelingController {
  @Get('status')
  @ApiOperation({ summary: 'The modeling slice is loaded and answering' })
  @ApiOkResponse({ type: ModelingStatusResponseDto })
  status(): ModelingStatusResponseDto {
    return { slice: 'modeling', status: 'ok' };
  }
}
