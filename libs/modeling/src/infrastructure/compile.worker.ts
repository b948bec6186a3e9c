/**
 * The worker thread that loads and compiles dbt projects (see ProjectCompiler): template rendering
 * runs here, off the event loop that serves requests, under the bounds of TEMPLATE_LIMITS and the
 * compiler's watchdog.
 */
import { parentPort } from 'node:worker_threads';
import { compileProject, CompileError, DagCycleError, TEMPLATE_LIMITS, TemplateLimitError } from '../domain/compile';
import { loadProject, ProjectError } from '../domain/project';
import { compileDbtTests, compileWithDbtRuntime } from '../dbt/legacy-compile';
import { RENDER_LIMITS } from '../dbt/jinja';

export interface CompileRequest {
  id: number;
  root: string;
  modelSchema: string;
  existing?: string[];
  /** WEIR_TEMPLATE_MAX_MS */
  templateMaxMs: number;
  /** What env_var() reads. */
  env: Record<string, string>;
}

const BUILT_IN_TESTS = new Set(['unique', 'not_null', 'accepted_values', 'relationships']);

/** A model has a YAML test other than the four Weir runs as expectations (or one at model level). */
function needsCompiledTests(project: ReturnType<typeof loadProject>): boolean {
  const name = (t: unknown) => (typeof t === 'string' ? t : (Object.keys((t ?? {}) as object)[0] ?? ''));
  for (const props of project.properties.values()) {
    const own = props as { tests?: unknown[]; data_tests?: unknown[] };
    if ((own.tests ?? []).length || (own.data_tests ?? []).length) return true;
    for (const c of props.columns ?? [])
      for (const t of [...(c.tests ?? []), ...(c.data_tests ?? [])]) if (!BUILT_IN_TESTS.has(name(t))) return true;
  }
  return false;
}

parentPort?.on('message', (m: CompileRequest) => {
  try {
    TEMPLATE_LIMITS.ms = m.templateMaxMs;
    // the dbt runtime's renders here are bounded as the first compiler's are
    RENDER_LIMITS.ms = m.templateMaxMs;
    RENDER_LIMITS.steps = TEMPLATE_LIMITS.steps;
    RENDER_LIMITS.outputBytes = TEMPLATE_LIMITS.outputBytes;
    const project = loadProject(m.root);
    let compiled;
    try {
      compiled = compileProject(project, {
        modelSchema: m.modelSchema,
        existing: m.existing ? new Set(m.existing) : undefined,
        env: m.env,
      });
    } catch (first) {
      // what the first compiler cannot render (macros, packages, dbt's Jinja), the dbt runtime parses
      // a bound reached is the project's answer: the dbt runtime would reach it too
      if (
        !(first instanceof CompileError) ||
        first instanceof TemplateLimitError ||
        /more than \d+|longer than \d+ ms|range\(\) of/.test(first.message)
      )
        throw first;
      try {
        compiled = compileWithDbtRuntime(m.root, m.modelSchema, m.env);
      } catch {
        throw first;
      }
    }
    // only for projects with YAML tests Weir has no expectation for (the audit's custom_sql)
    if (needsCompiledTests(project))
      try {
        compiled.dbtTests = compileDbtTests(m.root, m.modelSchema, m.env);
      } catch {
        // a project the dbt runtime cannot parse keeps the built-in tests only
      }
    parentPort!.postMessage({ id: m.id, project, compiled });
  } catch (e) {
    const err = e as Error;
    const known =
      e instanceof CompileError ||
      e instanceof ProjectError ||
      e instanceof DagCycleError ||
      e instanceof TemplateLimitError;
    parentPort!.postMessage({ id: m.id, error: { known, message: err.message, stack: known ? undefined : err.stack } });
  }
});
