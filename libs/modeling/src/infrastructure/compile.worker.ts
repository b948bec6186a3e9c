/**
 * The worker thread that loads and compiles dbt projects (see ProjectCompiler): template rendering
 * runs here, off the event loop that serves requests, under the bounds of TEMPLATE_LIMITS and the
 * compiler's watchdog.
 */
import { parentPort } from 'node:worker_threads';
import { compileProject, CompileError, DagCycleError, TEMPLATE_LIMITS, TemplateLimitError } from '../domain/compile';
import { loadProject, ProjectError } from '../domain/project';
import { compileDbtTests, compileWithDbtRuntime } from '../dbt/legacy-compile';

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

parentPort?.on('message', (m: CompileRequest) => {
  try {
    TEMPLATE_LIMITS.ms = m.templateMaxMs;
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
      if (!(first instanceof CompileError)) throw first;
      try {
        compiled = compileWithDbtRuntime(m.root, m.modelSchema, m.env);
      } catch {
        throw first;
      }
    }
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
