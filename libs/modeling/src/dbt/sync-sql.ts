/**
 * Synchronous SQL for templates. dbt's Jinja calls the database in the middle of a render
 * (`run_query`, `statement`, `adapter.get_relation`), and a render is synchronous; so the
 * connection lives in a worker thread and the renderer blocks on a shared flag until the worker
 * has the answer (the pattern of `synckit`). One SyncSql is one session: statements run in order
 * on the same connection, so transactions and temporary tables behave as in dbt.
 */
import * as path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { workspaceRoot } from '@weir/platform';

export interface SqlResult {
  /** Rows as arrays, in `fields` order. */
  rows: unknown[][];
  fields: { name: string; dataTypeID: number }[];
  rowCount: number | null;
  command: string;
}

export class SqlError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

const COMPILED = __filename.endsWith('.js');

export class SyncSql {
  private worker?: Worker;
  private port!: MessagePort;
  private signal!: Int32Array;
  private closed = false;

  /** The worker starts at the first statement: parsing a project needs no connection. */
  constructor(
    private readonly url: string,
    private readonly timeoutMs = 6 * 60 * 60 * 1000,
  ) {}

  private start(): void {
    const url = this.url;
    const flag = new SharedArrayBuffer(4);
    this.signal = new Int32Array(flag);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const file = path.join(__dirname, `sync-sql.worker.${COMPILED ? 'js' : 'ts'}`);
    this.worker = new Worker(file, {
      workerData: { url, port: port2, flag },
      transferList: [port2],
      execArgv: COMPILED ? [] : ['-r', path.join(workspaceRoot(), 'tools', 'register.js')],
    });
    this.worker.unref();
  }

  /** Runs one statement (or several separated by `;`, answering the last) and waits for it. */
  query(sql: string, params?: unknown[]): SqlResult {
    if (this.closed) throw new SqlError('the connection is closed');
    if (!this.worker) this.start();
    Atomics.store(this.signal, 0, 0);
    this.port.postMessage({ sql, params });
    const r = Atomics.wait(this.signal, 0, 0, this.timeoutMs);
    if (r === 'timed-out') throw new SqlError(`the statement did not answer within ${this.timeoutMs} ms`);
    const msg = receiveMessageOnPort(this.port);
    if (!msg) throw new SqlError('the SQL worker did not answer');
    const reply = msg.message as { ok: boolean; message?: string; code?: string } & SqlResult;
    if (!reply.ok) throw new SqlError(reply.message ?? 'query failed', reply.code);
    return reply;
  }

  close(): void {
    if (this.closed) return;
    if (!this.worker) {
      this.closed = true;
      return;
    }
    try {
      Atomics.store(this.signal, 0, 0);
      this.port.postMessage('close');
      Atomics.wait(this.signal, 0, 0, 5000);
      receiveMessageOnPort(this.port);
    } finally {
      this.closed = true;
      this.port.close();
      void this.worker?.terminate();
    }
  }
}
