// Prints one line with the totals of vitest JSON reports: `N passed, N failed, N skipped`.
// A report that is missing (its run stopped before the tests, e.g. at lint) counts as one failure.
// Failed tests are named just above the totals, so a CI log that keeps only its tail still says what broke.
import fs from 'node:fs';
import path from 'node:path';

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  if (!fs.existsSync(file)) {
    console.error(`${file}: no report (the run stopped before its tests)`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  for (const suite of report.testResults) {
    if (suite.status === 'failed' && suite.assertionResults.every((test) => test.status !== 'failed')) {
      // A file that failed outside its tests (in a hook, or at import) counts as one failure.
      failed += 1;
      console.log(`FAILED ${file}: ${path.relative(process.cwd(), suite.name)}: ${firstLine(suite.message)}`);
    }
    for (const test of suite.assertionResults) {
      if (test.status === 'failed') {
        console.log(
          `FAILED ${file}: ${path.relative(process.cwd(), suite.name)} > ${test.fullName}: ${firstLine(test.failureMessages[0])}`,
        );
      }
    }
  }
}

function firstLine(text) {
  return (text ?? '').split('\n', 1)[0].slice(0, 300);
}

console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
