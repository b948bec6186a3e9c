import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';

export class IngestionStatusResponseDto {
  @ApiProperty({ example: 'ingestion' }) slice: string;
  @ApiProperty({ example: 'ok' }) status: string;
}

@ApiTags('ingestion')
@ApiBearerAuth()
@Controller('api/ingestion')
export class IngestionController {
  @Get('status')
  @ApiOperation({ summary: 'The ingestion slice is loaded and answering' })
  @ApiOkResponse({ type: IngestionStatusResponseDto })
  status(): IngestionStatusResponseDto {
    return { slice: 'ingestion', status: 'ok' };
  }
}
