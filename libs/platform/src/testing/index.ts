/** Test helpers (import from `@weir/platform/testing`, in specs only). */
export { createTestDatabase, testServerUrl } from './test-database';
export type { TestDatabase } from './test-database';
export type { ConformanceSuite, Reporter } from './conformance';
export {
  TEST_LOG_DIR_ENV,
  captureProcessOutput,
  describeLeaks,
  findLeaks,
  registerSensitive,
  sensitiveForms,
  sensitiveValues,
  testLogDestination,
  testLogDir,
  testLogFiles,
} from './test-logs';
export type { Leak, SensitiveValue } from './test-logs';
