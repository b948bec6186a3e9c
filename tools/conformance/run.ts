/* eslint-disable no-console -- a command-line report */
/**
 * `npm run conformance`: runs every suite exported by libs/<slice>/conformance/*.conformance.ts
 * over ../shared/corpora and prints one line per suite: `<suite>: N passed, M failed, K skipped`.
 * Exits 1 when a test failed. Without ../shared (or WEIR_SHARED_DIR) every suite says it skipped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ConformanceSuite } from '@weir/platform/testing';

const root = path.resolve(__dirname, '..', '..');
const shared = path.resolve(process.env['WEIR_SHARED_DIR'] ?? path.join(root, '..', 'shared'));
const corpora = path.join(shared, 'corpora');
const verbose = process.argv.includes('--verbose');

async function main(): Promise<void> {
  // suites that need PostgreSQL use TEST_DATABASE_URL / DATABASE_URL, else a throwaway embedded server
  let stop: (() => Promise<void>) | undefined;
  // suites make their own databases with createTestDatabase(), which reads TEST_DATABASE_URL
  if (!process.env['TEST_DATABASE_URL'] && process.env['DATABASE_URL'])
    process.env['TEST_DATABASE_URL'] = process.env['DATABASE_URL'];
  if (!process.env['TEST_DATABASE_URL'] && fs.existsSync(corpora)) {
    const { startEmbeddedPostgres, freePort } = require(
      path.join(root, 'libs/platform/src/database/embedded-postgres.ts'),
    );
    const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'weir-conformance-'));
    fs.chmodSync(dir, 0o755);
    const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port: await freePort(), ephemeral: true });
    process.env['TEST_DATABASE_URL'] = pg.url;
    stop = async () => {
      await pg.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    };
  }
  try {
    await runSuites();
  } finally {
    await stop?.();
  }
}

async function runSuites(): Promise<void> {
  const files = fs
    .readdirSync(path.join(root, 'libs'))
    .map((lib) => path.join(root, 'libs', lib, 'conformance'))
    .filter((d) => fs.existsSync(d))
    .flatMap((d) =>
      fs
        .readdirSync(d)
        .filter((f) => f.endsWith('.conformance.ts'))
        .map((f) => path.join(d, f)),
    )
    .sort();
  let failedTotal = 0;
  for (const file of files) {
    const suites = (require(file) as { suites: ConformanceSuite[] }).suites;
    for (const suite of suites) {
      const dir = path.join(corpora, suite.corpus);
      if (!fs.existsSync(dir)) {
        console.log(
          `${suite.name}: skipped: ${dir} not found (clone with ../shared beside it, or set WEIR_SHARED_DIR)`,
        );
        console.log(`${suite.name}: 0 passed, 0 failed, 0 skipped`);
        continue;
      }
      let passed = 0;
      let failed = 0;
      let skipped = 0;
      const t0 = Date.now();
      await suite.run(dir, {
        pass: (t) => {
          passed++;
          if (verbose) console.log(`  ok   ${t}`);
        },
        fail: (t, why) => {
          failed++;
          console.log(`  FAIL ${suite.name} ${t}: ${why}`);
        },
        skip: (t, why) => {
          skipped++;
          if (verbose) console.log(`  skip ${t}: ${why}`);
        },
      });
      console.log(`${suite.name}: ${passed} passed, ${failed} failed, ${skipped} skipped (${Date.now() - t0} ms)`);
      if (suite.minPassRatio !== undefined && passed + failed > 0) {
        const ratio = passed / (passed + failed);
        const ok = ratio >= suite.minPassRatio;
        console.log(
          `${suite.name}: ${(ratio * 100).toFixed(1)}% passed, target ≥ ${(suite.minPassRatio * 100).toFixed(0)}%: ${ok ? 'met' : 'NOT met'}`,
        );
        if (!ok) failedTotal += failed;
      } else {
        failedTotal += failed;
      }
    }
  }
  process.exitCode = failedTotal > 0 ? 1 : 0;
}

main().catch((e) => {
  console.error(`conformance: ${e instanceof Error ? e.stack : e}`);
  process.exit(1);
});
