import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';

export class CatalogStatusResponseDto {
  @ApiProperty({ example: 'catalog' }) slice: string;
  @ApiProperty({ example: 'ok' }) status: string;
}

@ApiTags('catalog')
@ApiBearerAuth()
@Controller('api/catalog')
export class CatalogController {
  @Get('status')
  @ApiOperation({ summary: 'The catalog slice is loaded and answering' })
  @ApiOkResponse({ type: CatalogStatusResponseDto })
  status(): CatalogStatusResponseDto {
    return { slice: 'catalog', status: 'ok' };
  }
}
