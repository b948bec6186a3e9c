import { Pool, PoolClient, QueryResultRow } from 'pg';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFromStdin } from 'pg-copy-streams';
import { columnList, parseQualifiedName, qualifiedTable, quoteIdent } from './identifiers';
import { CopyFailedError } from '../errors/platform.errors';
import { asStatementTimeout, statementTimeoutSql, tighterTimeout } from './statement-timeout';

/** A table reference: `"schema.table"`, `"table"` (schema `raw`) or explicit parts. */
export type TableRef = string | { schema: string; table: string };

/** Options for {@link Warehouse.copyFrom}. */
export interface CopyOptions {
  /** COPY format; `text` (default) is PostgreSQL's fastest to parse. */
  format?: 'text' | 'csv' | 'binary';
  /** For `csv`: the input has a header line to skip. */
  header?: boolean;
  /** Use this client (e.g. inside a transaction) instead of one from the pool. */
  client?: PoolClient;
}

/** A client checked out by {@link Warehouse.lease}: give it back with `release`, once. */
export interface WarehouseLease {
  client: PoolClient;
  /** Puts the session's statement_timeout back and returns the client (`broken`: discards it). */
  release(broken?: Error): Promise<void>;
}

export function resolveTable(ref: TableRef, defaultSchema = 'raw'): { schema: string; table: string } {
  return typeof ref === 'string'
    ? parseQualifiedName(ref, defaultSchema)
    : parseQualifiedName(`${ref.schema}.${ref.table}`, defaultSchema);
}

/**
 * The data plane: a `pg` Pool on the warehouse database (the control-plane database unless
 * `WEIR_WAREHOUSE_URL` is set), bulk loading through COPY, and nothing that builds SQL from
 * unvalidated names.
 */
export class Warehouse {
  readonly pool: Pool;
  /**
   * Where the warehouse is, without credentials: its OpenLineage namespace (`postgres://host:port`)
   * and database name (dataset names are `<database>.<schema>.<table>`).
   */
  readonly location: { namespace: string; database: string };

  /**
   * statement_timeout of every statement made on behalf of an HTTP request
   * (WEIR_REQUEST_STATEMENT_TIMEOUT_MS): see {@link forRequest}.
   */
  readonly requestTimeoutMs: number;

  constructor(
    private readonly url: string,
    opts: { max?: number; applicationName?: string; requestTimeoutMs?: number } = {},
  ) {
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    const u = new URL(url);
    const host = u.hostname || decodeURIComponent(u.searchParams.get('host') ?? 'localhost');
    this.location = {
      namespace: `postgres://${host}:${u.port || '5432'}`,
      database: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres',
    };
    this.pool = new Pool({
      connectionString: url,
      max: opts.max ?? 10,
      application_name: opts.applicationName ?? 'weir-warehouse',
    });
    // An idle client's error (server restart) must not crash the process; the next checkout reconnects.
    this.pool.on('error', () => undefined);
  }

  /** The warehouse's connection string, for a worker thread that opens its own session (never logged or returned). */
  connectionString(): string {
    return this.url;
  }

  query<R extends QueryResultRow = QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    return this.pool.query<R>(sql, params).then((r) => r.rows);
  }

  /**
   * A client of the pool; with `statementTimeoutMs`, every statement on it (those of the
   * transactions it opens included, unless one sets its own with SET LOCAL) is bounded by it until
   * `release`, which ends any transaction left open (rolled back: a cancelled statement leaves
   * one aborted) and resets the session's timeout before the client goes back to the pool. A
   * client whose reset fails is discarded, never reused.
   */
  async lease(statementTimeoutMs?: number): Promise<WarehouseLease> {
    const client = await this.pool.connect();
    if (statementTimeoutMs !== undefined) {
      try {
        await client.query(statementTimeoutSql(statementTimeoutMs, 'session'));
      } catch (e) {
        client.release(e as Error);
        throw e;
      }
    }
    let released = false;
    return {
      client,
      release: async (broken?: Error) => {
        if (released) return;
        released = true;
        if (broken) return client.release(broken);
        if (statementTimeoutMs === undefined) return client.release();
        try {
          // one round trip; ROLLBACK first, or it would undo the RESET made inside the transaction
          await client.query('ROLLBACK; RESET statement_timeout');
          client.release();
        } catch (e) {
          client.release(e as Error);
        }
      },
    };
  }

  /**
   * Runs `fn` on behalf of an HTTP request: on one client whose every statement is bounded by
   * WEIR_REQUEST_STATEMENT_TIMEOUT_MS (or by `timeoutMs` when it is lower). A statement it
   * cancels rejects with `PLATFORM.STATEMENT_TIMEOUT` (503) naming the setting, never a 500.
   */
  async forRequest<T>(fn: (client: PoolClient) => Promise<T>, opts: { timeoutMs?: number } = {}): Promise<T> {
    const ms = tighterTimeout(this.requestTimeoutMs, opts.timeoutMs);
    const lease = await this.lease(ms);
    try {
      return await fn(lease.client);
    } catch (e) {
      throw asStatementTimeout(e, ms);
    } finally {
      await lease.release();
    }
  }

  /** One statement on behalf of an HTTP request (see {@link forRequest}). */
  requestQuery<R extends QueryResultRow = QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    return this.forRequest(async (c) => (await c.query<R>(sql, params)).rows);
  }

  /**
   * CREATE SCHEMA IF NOT EXISTS, one at a time per schema across processes (it races with itself:
   * two at once fail with a unique violation on pg_namespace).
   */
  async ensureSchema(schema: string): Promise<void> {
    await this.transaction(async (c) => {
      await c.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`weir.schema:${schema}`]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema, 'schema')}`);
    });
  }

  /** Runs `fn` in one transaction on one client; rolls back if it throws. */
  async transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  /**
   * Streams `source` into `table (columns…)` with `COPY … FROM STDIN`, honouring backpressure.
   * `source` must yield data in the chosen COPY format. Returns the number of rows PostgreSQL
   * reports as copied. Identifiers are validated and quoted; a bad one throws before any I/O.
   */
  async copyFrom(
    table: TableRef,
    columns: readonly string[],
    source: Readable | AsyncIterable<Buffer | string>,
    options: CopyOptions = {},
  ): Promise<number> {
    const { schema, table: name } = resolveTable(table);
    const target = qualifiedTable(schema, name);
    const cols = columnList(columns);
    const format = options.format ?? 'text';
    const opts = [`FORMAT ${format}`];
    if (format === 'csv' && options.header) opts.push('HEADER true');
    const sql = `COPY ${target} (${cols}) FROM STDIN WITH (${opts.join(', ')})`;
    const client = options.client ?? (await this.pool.connect());
    try {
      const copy = client.query(copyFromStdin(sql));
      const input = source instanceof Readable ? source : Readable.from(source, { objectMode: false });
      await pipeline(input, copy);
      return Number((copy as unknown as { rowCount: number }).rowCount ?? 0);
    } catch (e) {
      throw new CopyFailedError(`${schema}.${name}`, e as Error);
    } finally {
      if (!options.client) client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Escapes one value for COPY text format (`\N` for null; backslash, tab, newline, CR escaped). */
export function copyTextValue(v: string | null | undefined): string {
  if (v === null || v === undefined) return '\\N';
  let needs = false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 92 || c === 9 || c === 10 || c === 13) {
      needs = true;
      break;
    }
  }
  if (!needs) return v;
  return v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}
