module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'lineage',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
};
