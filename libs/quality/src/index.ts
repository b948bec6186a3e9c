/**
 * @weir/quality: the only public surface of the quality slice (module, the QUALITY_GATE port,
 * expectation types).
 */
export { QualityModule } from './quality.module';
export { qualityConfig } from './quality.config';
export type { QualityConfig } from './quality.config';
export { QUALITY_RUNS } from './application/ports/quality-runs.port';
export type { QualityRunsPort, RunQualityRequest } from './application/ports/quality-runs.port';
export type { QualityRunView } from './application/quality.views';
export { QUALITY_GATE, QUALITY_SUITES } from './application/quality-gate.port';
export type {
  QualityGate,
  QualityGateInput,
  QualityGateResult,
  QualityFailure,
  QualitySuites,
  SuiteDependentsProbe,
} from './application/quality-gate.port';
export type { Expectation, ExpectationResult, ResultFormat } from './domain/expectations';
export { QUALITY_EVENTS, QualityEvents } from './application/quality.events';
export type { QualityAlert } from './application/quality.events';
export { runSuite } from './infrastructure/suite.runner';
export type { RunOptions } from './infrastructure/suite.runner';
export { GateFailedError } from './quality.errors';
