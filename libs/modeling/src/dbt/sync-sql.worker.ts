/**
 * The worker half of {@link SyncSql}: holds one PostgreSQL connection and answers each query on
 * the shared port, then wakes the blocked caller through the shared flag.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Client, types } from 'pg';

interface Job {
  sql: string;
  params?: unknown[];
}
const { url, port, flag } = workerData as { url: string; port: MessagePort; flag: SharedArrayBuffer };
const signal = new Int32Array(flag);
// values as a template expects them: numbers for integers and numerics, text for dates and times
types.setTypeParser(20, (v) => Number(v));
types.setTypeParser(1700, (v) => Number(v));
for (const oid of [1082, 1114, 1184, 1083, 1266]) types.setTypeParser(oid, (v) => v);

const client = new Client({ connectionString: url, application_name: 'weir-dbt' });
let ready: Promise<unknown> | undefined;

port.on('message', (job: Job | 'close') => {
  void (async () => {
    let reply: unknown;
    try {
      if (job === 'close') {
        await client.end().catch(() => undefined);
        reply = { ok: true };
      } else {
        ready ??= client.connect();
        await ready;
        const r = await client.query({ text: job.sql, values: job.params, rowMode: 'array' } as never);
        const results = Array.isArray(r) ? r : [r];
        const last = results[results.length - 1] as {
          rows: unknown[][];
          fields?: { name: string; dataTypeID: number }[];
          rowCount: number | null;
          command: string;
        };
        reply = {
          ok: true,
          rows: last.rows ?? [],
          fields: (last.fields ?? []).map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
          rowCount: last.rowCount,
          command: last.command,
        };
      }
    } catch (e) {
      const err = e as Error & { code?: string; position?: string };
      reply = { ok: false, message: err.message, code: err.code };
    }
    port.postMessage(reply);
    Atomics.store(signal, 0, 1);
    Atomics.notify(signal, 0);
  })();
});
parentPort?.postMessage('ready');
