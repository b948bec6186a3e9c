/**
 * The worker thread of one dbt invocation (see DbtInvocationsRunner): the dbt runtime renders and
 * runs SQL synchronously, so it runs here, off the event loop that serves requests. It reports
 * each node's start and result as it goes, and stops between nodes when the shared flag is set.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { invokeDbt, type DbtInvocationOptions } from '../dbt/invocation';

const { options, cancel } = workerData as {
  options: Omit<DbtInvocationOptions, 'log' | 'onNodeStart' | 'onNodeResult' | 'shouldStop'>;
  cancel: SharedArrayBuffer;
};
const flag = new Int32Array(cancel);

void (async () => {
  try {
    const result = await invokeDbt({
      ...options,
      log: (line) => parentPort!.postMessage({ type: 'log', line }),
      onNodeStart: (id) => parentPort!.postMessage({ type: 'start', id }),
      onNodeResult: (result) => parentPort!.postMessage({ type: 'result', result }),
      shouldStop: () => Atomics.load(flag, 0) === 1,
    });
    parentPort!.postMessage({ type: 'done', result });
  } catch (e) {
    parentPort!.postMessage({ type: 'done', result: { success: false, results: [], error: (e as Error).message } });
  }
})();
