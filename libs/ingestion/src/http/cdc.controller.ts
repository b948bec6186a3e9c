import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CdcStatusView, CdcStreamsService } from '../application/cdc-streams.service';
import { CdcStatusResponseDto } from './cdc.response.dto';

@ApiTags('ingestion')
@ApiBearerAuth()
@Controller('api/ingestion/sources')
export class CdcController {
  constructor(private readonly streams: CdcStreamsService) {}

  @Get(':id/cdc')
  @ApiOperation({
    summary:
      "A postgres_cdc source's stream: state, slot, lag (WAL bytes), confirmed LSN, last change applied, counts, error",
  })
  @ApiOkResponse({ type: CdcStatusResponseDto, description: 'The stream status' })
  status(@Param('id') id: string): Promise<CdcStatusView> {
    return this.streams.status(id);
  }

  @Post(':id/cdc/pause')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Pause a CDC source: its consumer stops; the slot keeps changes up to maxSlotBytes, then the source is failed and the slot dropped',
  })
  @ApiOkResponse({ type: CdcStatusResponseDto, description: 'The stream status, paused' })
  pause(@Param('id') id: string): Promise<CdcStatusView> {
    return this.streams.pause(id);
  }

  @Post(':id/cdc/resume')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Resume a paused or failed CDC source from its confirmed LSN (a source whose slot was dropped takes a new snapshot)',
  })
  @ApiOkResponse({ type: CdcStatusResponseDto, description: 'The stream status, resumed' })
  resume(@Param('id') id: string): Promise<CdcStatusView> {
    return this.streams.resume(id);
  }
}
