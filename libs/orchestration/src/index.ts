/**
 * @weir/orchestration: the only public surface of the orchestration slice (module, port tokens and interfaces, events, DTO types).
 */
export { OrchestrationModule } from './orchestration.module';
export { PipelinesService } from './application/pipelines.service';
export { PipelineRunsService } from './application/pipeline-runs.service';
export { SchedulerService } from './application/scheduler.service';
export { SlaService } from './application/sla.service';
export { AlertsService } from './application/alerts.service';
export type { PipelineView, PipelineRunView, StepRunView } from './application/pipeline.views';
export type { AlertDestinationView, AlertDeliveryView, SlaMissView } from './application/alert.views';
export type { Alert, AlertEvent, AlertFormat } from './domain/alert';
export type { PipelineSpec } from './domain/pipeline';
export { orchestrationConfig } from './orchestration.config';
export type { OrchestrationConfig } from './orchestration.config';
