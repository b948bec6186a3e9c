import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';

export class LineageStatusResponseDto {
  @ApiProperty({ example: 'lineage' }) slice: string;
  @ApiProperty({ example: 'ok' }) status: string;
}

@ApiTags('lineage')
@ApiBearerAuth()
@Controller('api/lineage')
export class LineageController {
  @Get('status')
  @ApiOperation({ summary: 'The lineage slice is loaded and answering' })
  @ApiOkResponse({ type: LineageStatusResponseDto })
  status(): LineageStatusResponseDto {
    return { slice: 'lineage', status: 'ok' };
  }
}
