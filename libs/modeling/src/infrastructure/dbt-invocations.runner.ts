import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { workspaceRoot } from '@weir/platform';
import type { DbtInvocationResult, DbtNodeResult } from '../dbt/invocation';
import type { DbtRunHandle, DbtRunner, DbtRunOptions } from '../application/ports/dbt-runner.port';

const COMPILED = __filename.endsWith('.js');

type WorkerOptions = DbtRunOptions;

/** DBT_RUNNER: dbt invocations in worker threads (the runtime is synchronous). */
export class DbtInvocationsRunner implements DbtRunner {
  constructor(private readonly maxMb = 2048) {}

  start(
    options: WorkerOptions,
    on: { log?: (l: string) => void; start?: (id: string) => void; result?: (r: DbtNodeResult) => void } = {},
  ): DbtRunHandle {
    const cancel = new SharedArrayBuffer(4);
    const file = path.join(__dirname, `dbt.worker.${COMPILED ? 'js' : 'ts'}`);
    const w = new Worker(file, {
      workerData: { options, cancel },
      execArgv: COMPILED ? [] : ['-r', path.join(workspaceRoot(), 'tools', 'register.js')],
      resourceLimits: { maxOldGenerationSizeMb: this.maxMb },
    });
    const done = new Promise<DbtInvocationResult>((resolve) => {
      let settled = false;
      const finish = (r: DbtInvocationResult) => {
        if (settled) return;
        settled = true;
        resolve(r);
        void w.terminate();
      };
      w.on(
        'message',
        (m: { type: string; line?: string; id?: string; result?: DbtNodeResult | DbtInvocationResult }) => {
          if (m.type === 'log') on.log?.(m.line!);
          else if (m.type === 'start') on.start?.(m.id!);
          else if (m.type === 'result') on.result?.(m.result as DbtNodeResult);
          else if (m.type === 'done') finish(m.result as DbtInvocationResult);
        },
      );
      w.on('error', (e) => finish({ success: false, results: [], error: `the dbt worker stopped: ${e.message}` }));
      w.on('exit', (code) =>
        finish({ success: false, results: [], error: `the dbt worker exited (code ${code}) before it finished` }),
      );
    });
    return { done, cancel: () => Atomics.store(new Int32Array(cancel), 0, 1) };
  }

  /** Parses and selects only: the nodes the invocation would run. */
  async plan(options: WorkerOptions): Promise<DbtInvocationResult> {
    return this.start({ ...options, planOnly: true }).done;
  }
}
