import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/* Swagger shapes of the views orchestration's routes answer (application/*.views.ts, *.service.ts). */

const nullableString = { type: String, nullable: true } as const;
const nullableNumber = { type: Number, nullable: true } as const;

export class PipelineResponseDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'the current version (a change that differs adds one)' }) version: number;
  @ApiProperty({ type: Object, description: 'the definition: steps, schedule, triggers, partitions, sla, alerts, …' })
  spec: Record<string, unknown>;
  @ApiProperty({ ...nullableString, description: 'what keeps it (ingestion:source:<id>: a source schedule), or null' })
  managedBy: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class PipelineListResponseDto {
  @ApiProperty({ type: [PipelineResponseDto] }) items: PipelineResponseDto[];
}

class PipelineVersionDto {
  @ApiProperty() version: number;
  @ApiProperty() createdAt: string;
  @ApiProperty(nullableString) createdBy: string | null;
}

export class PipelineVersionListResponseDto {
  @ApiProperty({ type: [PipelineVersionDto] }) items: PipelineVersionDto[];
}

class StepErrorDto {
  @ApiProperty(nullableString) code: string | null;
  @ApiProperty() message: string;
}

class StepRunDto {
  @ApiProperty() step: string;
  @ApiProperty({ example: 'ingest' }) kind: string;
  @ApiProperty({ example: 'succeeded' }) status: string;
  @ApiProperty() attempt: number;
  @ApiProperty() maxAttempts: number;
  @ApiProperty(nullableString) startedAt: string | null;
  @ApiProperty(nullableString) finishedAt: string | null;
  @ApiProperty(nullableNumber) durationMs: number | null;
  @ApiProperty({ ...nullableString, description: 'when a queued retry may start' }) nextAttemptAt: string | null;
  @ApiProperty({ type: StepErrorDto, nullable: true }) error: StepErrorDto | null;
  @ApiProperty({
    type: Object,
    nullable: true,
    description: 'the run underneath: ingestion run, build, quality runs or child pipeline run',
  })
  ref: Record<string, unknown> | null;
  @ApiProperty({ type: Object, nullable: true }) output: Record<string, unknown> | null;
}

export class PipelineRunResponseDto {
  @ApiProperty() id: string;
  @ApiProperty() pipelineId: string;
  @ApiProperty() pipeline: string;
  @ApiProperty() version: number;
  @ApiProperty({ example: 'running' }) status: string;
  @ApiProperty({ example: 'api' }) trigger: string;
  @ApiProperty(nullableString) partition: string | null;
  @ApiProperty({ type: Object }) params: Record<string, unknown>;
  @ApiProperty() idempotencyKey: string;
  @ApiProperty(nullableString) createdBy: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty(nullableString) startedAt: string | null;
  @ApiProperty(nullableString) finishedAt: string | null;
  @ApiProperty(nullableNumber) durationMs: number | null;
  @ApiProperty(nullableString) error: string | null;
  @ApiPropertyOptional({ type: [StepRunDto], description: 'on GET runs/{id}' }) steps?: StepRunDto[];
}

export class PipelineRunListResponseDto {
  @ApiProperty({ type: [PipelineRunResponseDto] }) items: PipelineRunResponseDto[];
}

class BackfillCountsDto {
  @ApiProperty() succeeded: number;
  @ApiProperty() failed: number;
  @ApiProperty() running: number;
  @ApiProperty() queued: number;
  @ApiProperty() cancelled: number;
  @ApiProperty() notStarted: number;
}

export class BackfillResponseDto {
  @ApiProperty() id: string;
  @ApiProperty() pipelineId: string;
  @ApiProperty({ example: 'running' }) status: string;
  @ApiProperty() maxParallel: number;
  @ApiProperty({ description: 'partitions in the range' }) partitions: number;
  @ApiProperty() from: string;
  @ApiProperty() to: string;
  @ApiProperty({ description: 'partitions started so far' }) started: number;
  @ApiProperty({ type: BackfillCountsDto }) counts: BackfillCountsDto;
  @ApiProperty(nullableString) createdBy: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty(nullableString) finishedAt: string | null;
}

export class BackfillListResponseDto {
  @ApiProperty({ type: [BackfillResponseDto] }) items: BackfillResponseDto[];
}

class PartitionDto {
  @ApiProperty() partition: string;
  @ApiProperty(nullableString) status: string | null;
  @ApiProperty(nullableString) runId: string | null;
  @ApiProperty(nullableString) lastRunAt: string | null;
  @ApiProperty(nullableString) lastSuccessAt: string | null;
  @ApiProperty({ description: 'never succeeded, or its latest run failed or was cancelled' }) gap: boolean;
}

export class PartitionPageResponseDto {
  @ApiProperty() total: number;
  @ApiProperty() gaps: number;
  @ApiProperty({ type: [PartitionDto] }) items: PartitionDto[];
}

export class PoolResponseDto {
  @ApiProperty() name: string;
  @ApiProperty() slots: number;
  @ApiProperty({ description: 'false: not defined, it has the default slots (WEIR_DEFAULT_POOL_SLOTS)' })
  defined: boolean;
  @ApiProperty(nullableString) description: string | null;
  @ApiProperty() running: number;
  @ApiProperty() queued: number;
  @ApiProperty({ type: [String], description: 'pipelines whose current version has steps in the pool' })
  pipelines: string[];
  @ApiProperty(nullableString) updatedBy: string | null;
  @ApiProperty(nullableString) updatedAt: string | null;
}

export class PoolListResponseDto {
  @ApiProperty({ type: [PoolResponseDto] }) items: PoolResponseDto[];
}

export class AlertDestinationResponseDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'masked: its path and query often carry the secret' }) url: string;
  @ApiProperty({ enum: ['json', 'slack'] }) format: string;
  @ApiProperty({ type: [String] }) events: string[];
  @ApiProperty({ type: [String], nullable: true, description: 'null: every pipeline' }) pipelines: string[] | null;
  @ApiProperty(nullableString) createdBy: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class AlertDestinationListResponseDto {
  @ApiProperty({ type: [AlertDestinationResponseDto] }) items: AlertDestinationResponseDto[];
}

export class AlertDeliveryResponseDto {
  @ApiProperty() id: string;
  @ApiProperty() destination: string;
  @ApiProperty({ example: 'run_failed' }) type: string;
  @ApiProperty(nullableString) pipeline: string | null;
  @ApiProperty({ example: 'delivered' }) status: string;
  @ApiProperty() attempts: number;
  @ApiProperty() maxAttempts: number;
  @ApiProperty({ type: [Object], description: 'every attempt: time, HTTP status or error' })
  attemptLog: Record<string, unknown>[];
  @ApiProperty(nullableString) lastError: string | null;
  @ApiProperty(nullableNumber) responseStatus: number | null;
  @ApiProperty({ ...nullableString, description: 'when a pending delivery is tried again' })
  nextAttemptAt: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty(nullableString) deliveredAt: string | null;
  @ApiProperty({ type: Object }) payload: Record<string, unknown>;
}

export class AlertDeliveryListResponseDto {
  @ApiProperty({ type: [AlertDeliveryResponseDto] }) items: AlertDeliveryResponseDto[];
}

class SlaMissDto {
  @ApiProperty() id: string;
  @ApiProperty() pipeline: string;
  @ApiProperty(nullableString) runId: string | null;
  @ApiProperty() scheduledFor: string;
  @ApiProperty() deadline: string;
  @ApiProperty({ ...nullableString, description: "the run's status when the miss was seen" })
  runStatus: string | null;
  @ApiProperty() detectedAt: string;
}

export class SlaMissListResponseDto {
  @ApiProperty({ type: [SlaMissDto] }) items: SlaMissDto[];
}
