/**
 * dbt's adapter conformance suite (dbt-tests-adapter) as dbt projects: ../shared/corpora/dbt-adapter-tests
 * (README.txt there defines cases.json, the steps and the 16 assertion kinds). Each case runs in a
 * fresh database with an empty target schema, on a temporary copy of its project folder (dbt
 * writes target/ there): dbt steps through invokeDbt, script steps as SQL on the same database,
 * each step's assertions checked after it. One report line per case; a case stops at its first
 * failed assertion. Needs TEST_DATABASE_URL (`npm run conformance` starts an embedded server otherwise).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { createTestDatabase, type ConformanceSuite, type Reporter } from '@weir/platform/testing';
import { invokeDbt, type DbtTarget } from '../src/dbt/invocation';
import {
  assertionLabel,
  checkAssertion,
  splitStatements,
  substitutePlaceholders,
  type Assertion,
  type AssertionContext,
  type StepOutcome,
} from './dbt-adapter.assertions';

/** One case's time box: a hang fails the case and the suite goes on. */
const CASE_TIMEOUT_MS = 120_000;

export interface DbtAdapterStep {
  step: number;
  run: 'dbt' | 'script';
  command: string;
  args?: string[];
  vars?: unknown;
  microbatch_end_time?: string;
  script?: string;
  upstream?: string;
  note?: string;
  assertions: Assertion[];
}

export interface DbtAdapterCase {
  id: string;
  project: string;
  upstream: string;
  project_config_update?: unknown;
  steps: DbtAdapterStep[];
  notes?: string[];
}

export function loadCases(dir: string): DbtAdapterCase[] {
  const doc = JSON.parse(fs.readFileSync(path.join(dir, 'cases.json'), 'utf8')) as { cases: DbtAdapterCase[] };
  return doc.cases;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

async function runScript(db: Client, file: string, schema: string, database: string): Promise<StepOutcome> {
  const sql = substitutePlaceholders(fs.readFileSync(file, 'utf8'), schema, database);
  for (const statement of splitStatements(sql)) {
    try {
      await db.query(statement); // autocommit: each statement committed
    } catch (e) {
      return { run: 'script', success: false, results: [], error: `${path.basename(file)}: ${message(e)}` };
    }
  }
  return { run: 'script', success: true, results: [] };
}

async function runDbt(
  step: DbtAdapterStep,
  projectDir: string,
  connectionString: string,
  target: DbtTarget,
  log: (line: string) => void,
): Promise<StepOutcome> {
  try {
    const r = await invokeDbt({
      projectDir,
      args: step.args ?? ['run'],
      connectionString,
      target,
      env: {},
      log,
      ...(step.microbatch_end_time ? { microbatchEndTime: step.microbatch_end_time } : {}),
    });
    return { run: 'dbt', success: r.success, results: r.results };
  } catch (e) {
    return { run: 'dbt', success: false, results: [], error: message(e) };
  }
}

/** Runs the steps of one case in `ctx`; the first failed assertion as `step N <kind> <about>: <why>`, or null. */
async function runSteps(
  c: DbtAdapterCase,
  ctx: AssertionContext & { db: Client; url: string; target: DbtTarget },
  log: (line: string) => void,
  progress: { step: number },
): Promise<string | null> {
  for (const step of c.steps) {
    progress.step = step.step;
    log(`-- step ${step.step}: ${step.command}`);
    const outcome =
      step.run === 'script'
        ? await runScript(ctx.db, path.join(ctx.projectDir, step.script ?? ''), ctx.schema, ctx.database)
        : await runDbt(step, ctx.projectDir, ctx.url, ctx.target, log);
    for (const a of step.assertions) {
      const why = await checkAssertion(a, outcome, ctx);
      if (why !== null) return `step ${step.step} ${assertionLabel(a)}: ${why}`;
    }
  }
  return null;
}

/** One case: fresh database, empty target schema, a temporary copy of the project; null when it passes. */
export async function runCase(
  corpusDir: string,
  c: DbtAdapterCase,
  log: (line: string) => void,
  timeoutMs = CASE_TIMEOUT_MS,
): Promise<string | null> {
  const db = await createTestDatabase({ migrate: false, prefix: 'weir_dbtad' });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-dbtad-'));
  const projectDir = path.join(work, c.project);
  const client = new Client({ connectionString: db.url });
  let timer: NodeJS.Timeout | undefined;
  try {
    fs.cpSync(path.join(corpusDir, c.project), projectDir, { recursive: true });
    await client.connect();
    client.on('error', () => undefined); // the drop below may end the connection under a hung step
    const schema = `test_${randomBytes(5).toString('hex')}`;
    await client.query(`create schema "${schema}"`);
    const target: DbtTarget = { name: 'default', schema, database: db.name, threads: 4, type: 'postgres' };
    const progress = { step: 0 };
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`step ${progress.step}: timed out after ${timeoutMs / 1000} s`), timeoutMs);
    });
    return await Promise.race([
      // caught here too: after a timeout the steps may go on (and fail) in the background
      runSteps(c, { db: client, schema, database: db.name, projectDir, url: db.url, target }, log, progress).catch(
        (e: unknown) => `step ${progress.step}: runner error: ${message(e)}`,
      ),
      timeout,
    ]);
  } finally {
    if (timer) clearTimeout(timer);
    await client.end().catch(() => undefined);
    await db.drop().catch(() => undefined);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export const dbtAdapterSuite: ConformanceSuite = {
  name: 'dbt-adapter',
  corpus: 'dbt-adapter-tests',
  minPassRatio: 0.9,
  async run(dir: string, report: Reporter): Promise<void> {
    const server = process.env['TEST_DATABASE_URL'];
    if (!server) {
      report.skip('all', 'no PostgreSQL (set TEST_DATABASE_URL or DATABASE_URL)');
      return;
    }
    const verbose = process.argv.includes('--verbose');
    for (const c of loadCases(dir)) {
      const lines: string[] = [];
      const t0 = Date.now();
      let why: string | null;
      try {
        why = await runCase(dir, c, (line) => lines.push(line));
      } catch (e) {
        why = `runner error: ${message(e)}`;
      }
      const ms = Date.now() - t0;
      if (why === null) {
        report.pass(c.id);
        process.stdout.write(`  pass dbt-adapter ${c.id} (${ms} ms)\n`);
      } else {
        report.fail(c.id, `${why} (${ms} ms)`);
        if (verbose && lines.length) process.stdout.write(lines.map((l) => `      | ${l}\n`).join(''));
      }
    }
  },
};

export const suites = [dbtAdapterSuite];
