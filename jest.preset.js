// Shared jest settings: swc transform (decorator metadata on), @weir/* aliases, one embedded
// PostgreSQL per run when TEST_DATABASE_URL is not set, one log folder per run whose logs are
// grepped for declared secrets and PII at the end (libs/platform/src/testing/test-logs.ts).
const path = require('node:path');
const root = __dirname;

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // ESM-only packages Node 20 loads with require(); jest needs them transformed
  transformIgnorePatterns: ['/node_modules/(?!(hyparquet|hyparquet-writer)/)'],
  // the @weir/* aliases, from tsconfig.base.json paths (one source of truth)
  moduleNameMapper: Object.fromEntries(
    Object.entries(require('./tsconfig.base.json').compilerOptions.paths).map(([alias, [target]]) => [
      `^${alias.replace(/[/]/g, '\\/')}$`,
      path.join(root, target),
    ]),
  ),
  globalSetup: path.join(root, 'libs/platform/src/testing/jest-global-setup.ts'),
  globalTeardown: path.join(root, 'libs/platform/src/testing/jest-global-teardown.ts'),
  testTimeout: 60000,
  reporters: ['default', path.join(root, 'tools/jest/summary-reporter.js')],
  setupFiles: ['reflect-metadata'],
  // stdout, stderr and console copied into the run's log folder (grepped for secrets at the end)
  setupFilesAfterEnv: [path.join(root, 'libs/platform/src/testing/jest-capture-output.ts')],
};
