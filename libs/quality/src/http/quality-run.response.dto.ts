import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class ResultDto {
  @ApiProperty() index: number;
  @ApiProperty() type: string;
  @ApiProperty({ type: Object }) kwargs: Record<string, unknown>;
  @ApiProperty({ enum: ['warn', 'error'] }) severity: string;
  @ApiProperty() success: boolean;
  @ApiPropertyOptional({ description: 'aggregate and table checks' }) observedValue?: unknown;
  @ApiPropertyOptional() elementCount?: number;
  @ApiPropertyOptional() unexpectedCount?: number;
  @ApiPropertyOptional({ type: Number, nullable: true }) unexpectedPercent?: number | null;
  @ApiPropertyOptional({ type: [Object], description: 'up to 20 unexpected values, PII masked' })
  sampleUnexpected?: unknown[];
  @ApiPropertyOptional() exception?: string;
}

export class QualityRunResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) suiteId: string;
  @ApiProperty() dataset: string;
  @ApiProperty({ example: 'raw.orders' }) target: string;
  @ApiProperty({ enum: ['passed', 'warned', 'failed'] }) status: string;
  @ApiProperty({ enum: ['api', 'gate'] }) trigger: string;
  @ApiProperty({ type: String, nullable: true }) triggerRef: string | null;
  @ApiProperty() startedAt: string;
  @ApiProperty() finishedAt: string;
  @ApiProperty() rowCount: number;
  @ApiProperty({ type: [ResultDto] }) results: ResultDto[];
}

export class MetricPointDto {
  @ApiProperty() metric: string;
  @ApiProperty() value: number;
  @ApiProperty() runId: string;
  @ApiProperty() at: string;
}

export class MetricsResponseDto {
  @ApiProperty({ type: [MetricPointDto], description: 'newest first' }) items: MetricPointDto[];
}

class QualityRunSummaryDto {
  @ApiProperty() id: string;
  @ApiProperty() suiteId: string;
  @ApiProperty() dataset: string;
  @ApiProperty() targetSchema: string;
  @ApiProperty() targetTable: string;
  @ApiProperty({ enum: ['passed', 'warned', 'failed'] }) status: string;
  @ApiProperty() trigger: string;
  @ApiProperty({ type: String, nullable: true }) triggerRef: string | null;
  @ApiProperty() startedAt: string;
  @ApiProperty() finishedAt: string;
  @ApiProperty() rowCount: number;
  @ApiProperty({ description: 'expectations checked' }) expectations: number;
  @ApiProperty({ description: 'expectations that failed' }) failed: number;
}

export class QualityRunListResponseDto {
  @ApiProperty({ type: [QualityRunSummaryDto] }) items: QualityRunSummaryDto[];
  @ApiProperty({ type: String, nullable: true, description: 'pass as before for the next page' }) next: string | null;
}
