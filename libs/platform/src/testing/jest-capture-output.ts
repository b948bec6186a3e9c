import { captureProcessOutput } from './test-logs';

/**
 * Jest setup file (every spec): what the process writes to stdout and stderr is copied into the
 * run's log folder, where the global teardown greps it for the values specs declared sensitive
 * (see test-logs.ts).
 */
const undo = captureProcessOutput();
afterAll(() => undo());
