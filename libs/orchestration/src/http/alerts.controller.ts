import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '@weir/platform';
import { AlertsService } from '../application/alerts.service';
import type { AlertDeliveryView, AlertDestinationView, SlaMissView } from '../application/alert.views';
import { SlaService } from '../application/sla.service';
import { ListDeliveriesQueryDto, ListSlaMissesQueryDto } from './alert.request.dto';
import {
  AlertDeliveryListResponseDto,
  AlertDeliveryResponseDto,
  AlertDestinationListResponseDto,
  AlertDestinationResponseDto,
  SlaMissListResponseDto,
} from './orchestration.response.dto';

/**
 * Alert destinations (webhooks: `json` or Slack blocks), their deliveries, and SLA misses. Like every
 * route: viewers read, editors and admins write; destination URLs are shown masked.
 */
@ApiTags('orchestration')
@ApiBearerAuth()
@Controller('api/orchestration')
export class AlertsController {
  constructor(
    private readonly alerts: AlertsService,
    private readonly sla: SlaService,
  ) {}

  @Post('alert-destinations')
  @ApiOperation({
    summary: 'Add an alert destination: {name, url, format: json | slack, events?, pipelines?} (201, URL masked)',
  })
  @ApiCreatedResponse({ type: AlertDestinationResponseDto })
  create(@Body() body: unknown, @CurrentPrincipal() p?: Principal): Promise<AlertDestinationView> {
    return this.alerts.create(body, p?.name ?? null);
  }

  @Get('alert-destinations')
  @ApiOperation({ summary: 'List alert destinations (URLs masked)' })
  @ApiOkResponse({ type: AlertDestinationListResponseDto })
  async list(): Promise<{ items: AlertDestinationView[] }> {
    return { items: await this.alerts.list() };
  }

  @Get('alert-destinations/:name')
  @ApiOperation({ summary: 'An alert destination (URL masked)' })
  @ApiOkResponse({ type: AlertDestinationResponseDto })
  get(@Param('name') name: string): Promise<AlertDestinationView> {
    return this.alerts.get(name);
  }

  @Put('alert-destinations/:name')
  @ApiOperation({ summary: 'Replace an alert destination (its name stays)' })
  @ApiOkResponse({ type: AlertDestinationResponseDto })
  update(@Param('name') name: string, @Body() body: unknown): Promise<AlertDestinationView> {
    return this.alerts.update(name, body);
  }

  @Delete('alert-destinations/:name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove an alert destination and its deliveries (409 while a pipeline names it)' })
  @ApiNoContentResponse({ description: 'Removed; no body' })
  async remove(@Param('name') name: string): Promise<void> {
    await this.alerts.remove(name);
  }

  @Post('alert-destinations/:name/test')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send a test alert now; answers with its delivery (status, HTTP status, error)' })
  @ApiOkResponse({ type: AlertDeliveryResponseDto })
  test(@Param('name') name: string, @CurrentPrincipal() p?: Principal): Promise<AlertDeliveryView> {
    return this.alerts.test(name, p?.name ?? null);
  }

  @Get('alert-deliveries')
  @ApiOperation({ summary: 'Recent alert deliveries, newest first, with every attempt' })
  @ApiOkResponse({ type: AlertDeliveryListResponseDto })
  async deliveries(@Query() q: ListDeliveriesQueryDto): Promise<{ items: AlertDeliveryView[] }> {
    return { items: await this.alerts.deliveries(q) };
  }

  @Get('sla-misses')
  @ApiOperation({ summary: 'Scheduled runs that did not succeed within their pipeline’s SLA, newest first' })
  @ApiOkResponse({ type: SlaMissListResponseDto })
  async slaMisses(@Query() q: ListSlaMissesQueryDto): Promise<{ items: SlaMissView[] }> {
    return { items: await this.sla.list(q) };
  }
}
