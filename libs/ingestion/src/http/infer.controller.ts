import { Controller, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import * as fs from 'node:fs';
import { InferService } from '../application/infer.service';
import { UploadsService } from '../application/uploads.service';
import { InferQueryDto } from './source.request.dto';
import { InferResponseDto } from './source.response.dto';

@ApiTags('ingestion')
@ApiBearerAuth()
@Controller('api/ingestion/infer')
export class InferController {
  constructor(
    private readonly infer: InferService,
    private readonly uploads: UploadsService,
  ) {}

  @Post()
  @ApiOperation({
    summary:
      'Propose a contract (types, nullability, candidate keys) from the first N records of a file (?path=) or of the body',
  })
  @ApiConsumes('text/csv', 'application/octet-stream', 'multipart/form-data')
  @ApiOkResponse({ type: InferResponseDto })
  async run(@Query() q: InferQueryDto, @Req() req: Request): Promise<InferResponseDto> {
    if (q.path)
      return this.infer.infer(this.infer.resolve(q.path), {
        format: q.format,
        rows: q.rows,
        delimiter: q.delimiter,
        name: q.path,
      });
    const stored = await this.uploads.store(req);
    try {
      return await this.infer.infer(stored.file, {
        format: q.format,
        rows: q.rows,
        delimiter: q.delimiter,
        name: stored.originalName ?? (q.format ? `x.${q.format}` : undefined),
      });
    } finally {
      fs.rmSync(stored.file, { force: true });
    }
  }
}
