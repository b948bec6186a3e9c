import { Logger } from '@nestjs/common';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { workspaceRoot } from '@weir/platform';
import type { CompiledProject } from '../domain/compile';
import type { Project } from '../domain/project';
import type { CompileRequest } from './compile.worker';

/** A project that does not load or compile (its message names the file and line), or a template past its bounds. */
export class ProjectCompileError extends Error {}

const COMPILED = __filename.endsWith('.js');

/** The bounds of a compile (WEIR_COMPILE_MAX_MS, WEIR_COMPILE_MAX_MB, WEIR_TEMPLATE_MAX_MS). */
export interface CompileLimits {
  maxMs: number;
  maxMb: number;
  templateMaxMs: number;
  /** What dbt's env_var() reads. */
  env?: Readonly<Record<string, string>>;
}

/**
 * Loads and compiles projects in a worker thread, so rendering (a project's templates come from API
 * users) never holds the event loop that serves requests. A compile that runs longer than
 * `maxMs` or past the worker's memory bound (`maxMb`) ends the worker: the request fails with an
 * error, the next compile gets a new one. Each template render is bounded by `templateMaxMs`.
 */
export class ProjectCompiler {
  private readonly log = new Logger('modeling');
  private worker?: Worker;
  private next = 1;
  private readonly pending = new Map<
    number,
    {
      resolve: (v: { project: Project; compiled: CompiledProject }) => void;
      reject: (e: Error) => void;
      timer: NodeJS.Timeout;
    }
  >();
  constructor(private readonly limits: CompileLimits) {}

  compile(
    root: string,
    modelSchema: string,
    existing?: Set<string>,
  ): Promise<{ project: Project; compiled: CompiledProject }> {
    const w = this.spawn();
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          this.fail(
            w,
            new ProjectCompileError(
              `compiling ${root} took longer than ${this.limits.maxMs} ms (WEIR_COMPILE_MAX_MS); stopped`,
            ),
          ),
        this.limits.maxMs,
      );
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      const req: CompileRequest = {
        id,
        root,
        modelSchema,
        templateMaxMs: this.limits.templateMaxMs,
        env: { ...(this.limits.env ?? {}) },
        ...(existing ? { existing: [...existing] } : {}),
      };
      w.postMessage(req);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }

  private spawn(): Worker {
    if (this.worker) return this.worker;
    const file = path.join(__dirname, `compile.worker.${COMPILED ? 'js' : 'ts'}`);
    const w = new Worker(file, {
      // TypeScript sources (tests, `weir` from the repository) run through the same swc hook as the CLI
      execArgv: COMPILED ? [] : ['-r', path.join(workspaceRoot(), 'tools', 'register.js')],
      resourceLimits: { maxOldGenerationSizeMb: this.limits.maxMb },
    });
    w.unref();
    w.on(
      'message',
      (m: {
        id: number;
        project?: Project;
        compiled?: CompiledProject;
        error?: { known: boolean; message: string; stack?: string };
      }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.error) {
          if (!m.error.known) this.log.error(`compile worker: ${m.error.stack ?? m.error.message}`);
          p.reject(m.error.known ? new ProjectCompileError(m.error.message) : new Error(m.error.message));
        } else p.resolve({ project: m.project!, compiled: m.compiled! });
      },
    );
    w.on('error', (e) => this.fail(w, new ProjectCompileError(`the compile worker stopped: ${e.message}`)));
    w.on('exit', (code) => {
      if (this.worker === w) this.worker = undefined;
      if (this.pending.size)
        this.fail(
          w,
          new ProjectCompileError(
            `the compile worker exited (code ${code}) during a compile${code ? ' (past its memory bound, WEIR_COMPILE_MAX_MB?)' : ''}`,
          ),
        );
    });
    this.worker = w;
    return w;
  }

  /** Ends the worker and fails every compile in it. */
  private fail(w: Worker, e: Error): void {
    if (this.worker === w) this.worker = undefined;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(e);
      this.pending.delete(id);
    }
    void w.terminate();
  }
}
