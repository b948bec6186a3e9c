import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CsvOptionsDto, ScheduleDto, SourceLocationDto, StrategyDto } from './source.request.dto';

export class SourceResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() dataset: string;
  @ApiProperty({ type: String, nullable: true, description: 'the file format; null for a database source' })
  format: string | null;
  @ApiProperty({
    type: Object,
    description:
      '{kind: "file"}, or a database connector (postgres_query, mysql_query, postgres_cdc); secrets only as {"env": "VARIABLE"}',
  })
  connector: object;
  @ApiProperty({ type: SourceLocationDto }) location: SourceLocationDto;
  @ApiProperty({ type: StrategyDto }) strategy: StrategyDto;
  @ApiProperty() drift: string;
  @ApiProperty({ type: CsvOptionsDto, nullable: true }) csv: CsvOptionsDto | null;
  @ApiProperty({ type: Object, nullable: true }) mapping: Record<string, unknown> | null;
  @ApiProperty({ type: [String], nullable: true }) nullValues: string[] | null;
  @ApiProperty({ type: String, nullable: true }) jsonPath: string | null;
  @ApiProperty() maxRejectedRatio: number;
  @ApiProperty({ type: ScheduleDto, nullable: true }) schedule: ScheduleDto | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'why the schedule is disabled (it could not be armed); null when armed',
  })
  scheduleError: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'incremental: highest cursor value published' }) watermark:
    string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'modeling:<project> for a project seed source; null for a user source',
  })
  managedBy: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class SourceListResponseDto {
  @ApiProperty({ type: [SourceResponseDto] }) items: SourceResponseDto[];
}

export class RunErrorDto {
  @ApiProperty({ example: 'INGESTION.TOO_MANY_REJECTED' }) code: string;
  @ApiProperty() message: string;
}

export class RunResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) sourceId: string;
  @ApiProperty({ enum: ['queued', 'running', 'succeeded', 'failed'] }) status: string;
  @ApiProperty({ enum: ['api', 'upload', 'schedule', 'replay', 'cli', 'pipeline', 'stream'] }) trigger: string;
  @ApiProperty() idempotencyKey: string;
  @ApiProperty({ type: Object, description: 'path, checksum, bytes, replayOf, partition…' }) input: object;
  @ApiProperty({ type: String, nullable: true, description: 'The partition the run loads' }) partition: string | null;
  @ApiProperty({ type: String, nullable: true }) createdBy: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: String, nullable: true }) startedAt: string | null;
  @ApiProperty({ type: String, nullable: true }) finishedAt: string | null;
  @ApiProperty({ type: Number, nullable: true }) durationMs: number | null;
  @ApiProperty() bytesRead: number;
  @ApiProperty({ description: 'rows_read = rows_loaded + rows_rejected + rows_deduplicated (succeeded runs)' })
  rowsRead: number;
  @ApiProperty() rowsLoaded: number;
  @ApiProperty() rowsRejected: number;
  @ApiProperty() rowsDeduplicated: number;
  @ApiProperty({ type: Number, nullable: true, description: 'rows read per second' }) rate: number | null;
  @ApiProperty({ type: Object, nullable: true }) columnsDiscarded: Record<string, number> | null;
  @ApiProperty({ type: String, nullable: true }) watermarkBefore: string | null;
  @ApiProperty({ type: String, nullable: true }) watermarkAfter: string | null;
  @ApiProperty({ type: Object, nullable: true }) quality: unknown;
  @ApiProperty({ type: RunErrorDto, nullable: true }) error: RunErrorDto | null;
}

export class RunListResponseDto {
  @ApiProperty({ type: [RunResponseDto] }) items: RunResponseDto[];
}

export class DeadLetterDto {
  @ApiProperty() id: string;
  @ApiProperty() recordNumber: number;
  @ApiProperty({ example: 'TYPE_MISMATCH' }) reason: string;
  @ApiProperty({ type: String, nullable: true }) column: string | null;
  @ApiProperty({ type: String, nullable: true, description: '*** for PII columns' }) value: string | null;
  @ApiProperty() message: string;
  @ApiProperty({ type: Object, nullable: true, description: 'The record as read; PII fields masked' })
  rawRecord: Record<string, unknown> | null;
  @ApiProperty({ type: String, nullable: true }) rawText: string | null;
}

export class DeadLetterPageDto {
  @ApiProperty({ type: [DeadLetterDto] }) items: DeadLetterDto[];
  @ApiProperty() total: number;
  @ApiProperty() page: number;
  @ApiProperty() pageSize: number;
  @ApiProperty({ type: Object, description: 'count per reason for the whole run' }) byReason: Record<string, number>;
}

export class InferredColumnDto {
  @ApiProperty() name: string;
  @ApiProperty() type: string;
  @ApiProperty() nullable: boolean;
  @ApiPropertyOptional() primaryKey?: boolean;
}

export class InferResponseDto {
  @ApiProperty() format: string;
  @ApiProperty() rowsSampled: number;
  @ApiProperty({ type: [String] }) fields: string[];
  @ApiProperty({
    type: Object,
    example: { columns: [{ name: 'id', type: 'bigint', nullable: false, primaryKey: true }] },
  })
  contract: { columns: InferredColumnDto[] };
  @ApiProperty({ type: Object, description: 'source field for each column whose name had to change' }) mapping: Record<
    string,
    { from: string }
  >;
  @ApiProperty({
    type: 'array',
    items: { type: 'array', items: { type: 'string' } },
    description: 'columns unique and never null in the sample',
  })
  candidateKeys: string[][];
}

export class StreamLagDto {
  @ApiProperty({ description: 'messages not yet delivered to the consumer (num_pending)' }) pending: number;
  @ApiProperty({ description: 'delivered, not yet acknowledged (the batch being loaded)' }) ackPending: number;
  @ApiProperty({ description: 'the last stream sequence acknowledged' }) ackedSequence: number;
}

export class StreamStatusResponseDto {
  @ApiProperty() source: string;
  @ApiProperty({ description: 'the JetStream stream' }) stream: string;
  @ApiProperty({ description: 'the durable consumer' }) durable: string;
  @ApiProperty({ enum: ['consuming', 'waiting'] }) state: string;
  @ApiProperty({ type: String, nullable: true, description: 'the instance holding the lease' }) heldBy: string | null;
  @ApiProperty({ type: StreamLagDto, nullable: true }) lag: StreamLagDto | null;
  @ApiProperty({ type: String, nullable: true }) lagError: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'the last stream sequence committed into the dataset' })
  committedSequence: number | null;
  @ApiProperty({ type: RunResponseDto, nullable: true, description: 'the last committed micro-batch (a run)' })
  lastBatch: RunResponseDto | null;
  @ApiProperty({ type: RunResponseDto, nullable: true }) lastFailure: RunResponseDto | null;
}
