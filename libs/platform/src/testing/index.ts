/** Test helpers (import from `@weir/platform/testing`, in specs only). */
export { createTestDatabase, testServerUrl } from './test-database';
export type { TestDatabase } from './test-database';
export type { ConformanceSuite, Reporter } from './conformance';
