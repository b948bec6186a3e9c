// Jest reporter: when WEIR_TEST_SUMMARY names a file, appends this run's counts to it as one
// JSON line, so .ci/run can print one closing "N passed, M failed, K skipped" line for all projects.
const fs = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const file = process.env.WEIR_TEST_SUMMARY;
    if (!file) return;
    const line = JSON.stringify({
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
    });
    fs.appendFileSync(file, line + '\n');
  }
}
module.exports = SummaryReporter;
