import * as fs from 'node:fs';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Warehouse } from '@weir/platform';
import { parseType } from '@weir/catalog';
import type {
  ConnectorRead,
  ConnectorReadRequest,
  SourceConnectors,
} from '../../application/ports/source-connector.port';
import { isQueryConnector, parseQueryWatermark, QueryConnector, TapConnector } from '../../domain/connector';
import { INGESTION_CONFIG, IngestionConfig } from '../../ingestion.config';
import type { SourceFormat } from '../../domain/source';
import { FileNotFoundError, InvalidPathError, NoInputError, UnknownFormatError } from '../../ingestion.errors';
import { parseS3Url, S3Connector, StoredObject } from '../../domain/remote-connector';
import type { SourceRecord } from '../../application/ports/source-repository.port';
import { listObjects, openObject, statObject } from './s3-object.reader';
import { openHttpJson } from './http-json.reader';
import { openRecords } from '../readers/open-records.reader';
import { replayBatches } from '../readers/replay.reader';
import { resolveConnection } from './connection.util';
import { openMysqlQuery } from './mysql-query.reader';
import { openPostgresQuery } from './postgres-query.reader';
import { queryPlan, withCheckpoint } from './query-plan.util';
import { openTap } from './tap.reader';

/** The batches until `signal` fires: then the read ends (the run's own check fails it as cancelled). */
async function* untilAborted<T>(batches: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  if (signal.aborted) return;
  for await (const b of batches) {
    yield b;
    if (signal.aborted) return;
  }
}

/**
 * The SOURCE_CONNECTORS adapter: a replay reads a run's dead letters; a file source its file with
 * today's readers; `postgres_query` and `mysql_query` their database, past the checkpoint.
 */
@Injectable()
export class SourceConnectorsReader implements SourceConnectors {
  private readonly log = new Logger('ingestion');

  constructor(
    private readonly warehouse: Warehouse,
    @Optional() @Inject(INGESTION_CONFIG) private readonly config?: Pick<IngestionConfig, 'tapRoot'>,
  ) {}

  async open(req: ConnectorReadRequest): Promise<ConnectorRead> {
    const read = await this.openRead(req);
    return { ...read, batches: untilAborted(read.batches, req.signal) };
  }

  private async openRead(req: ConnectorReadRequest): Promise<ConnectorRead> {
    if (req.input.replayOf) {
      const replayOf = req.input.replayOf;
      return {
        batches: replayBatches(this.warehouse, replayOf),
        bytesRead: () => 0,
        description: `dead letters of ${replayOf}`,
        close: async () => undefined,
      };
    }
    const c = req.source.connector;
    if (isQueryConnector(c)) return this.openQuery(req, c);
    if (c?.kind === 's3') return this.openS3(req, c);
    if (c?.kind === 'http_json') return openHttpJson(c, req);
    if (c?.kind === 'singer') return this.openTap(req, c);
    if (c && c.kind !== 'file')
      throw new UnknownFormatError(`Source "${req.source.name}" (${c.kind}) is not read through runs`);
    return this.openFile(req);
  }

  async listObjects(source: SourceRecord, signal?: AbortSignal): Promise<StoredObject[]> {
    const c = source.connector;
    const loc = source.location.inbox ? parseS3Url(source.location.inbox) : null;
    if (c?.kind !== 's3' || !loc)
      throw new NoInputError(
        `Source "${source.name}" has no object-store location (location.inbox "s3://bucket/prefix/")`,
      );
    return listObjects(c, loc.bucket, loc.key, source.location.pattern, signal);
  }

  async statObject(source: SourceRecord, url: string): Promise<StoredObject> {
    const c = source.connector;
    if (c?.kind !== 's3') throw new NoInputError(`Source "${source.name}" is not an object-store source`);
    const base = parseS3Url(source.location.inbox ?? source.location.path ?? '');
    const at = url.startsWith('s3://') ? parseS3Url(url) : base ? { bucket: base.bucket, key: url } : null;
    if (!at || !at.key)
      throw new InvalidPathError(`${JSON.stringify(url)} is not s3://bucket/key (or a key of the source's bucket)`);
    return statObject(c, at.bucket, at.key);
  }

  private async openS3(req: ConnectorReadRequest, c: S3Connector): Promise<ConnectorRead> {
    const obj = req.input.object;
    if (!obj) throw new NoInputError(`A run of the object-store source "${req.source.name}" names no object`);
    const opened = await openObject(c, obj, req.source.format as SourceFormat, req.source.options, req.signal);
    return {
      batches: opened.batches,
      bytesRead: opened.bytesRead,
      description: `s3://${obj.bucket}/${obj.key} (ETag ${obj.etag})`,
      close: opened.close,
    };
  }

  private async openFile(req: ConnectorReadRequest): Promise<ConnectorRead> {
    const file = req.input.uploadId ?? req.input.path!;
    if (!fs.existsSync(file)) throw new FileNotFoundError(`The input file is gone: ${file}`);
    const opened = await openRecords(file, req.source.format as SourceFormat, req.source.options);
    return {
      batches: opened.batches,
      bytesRead: opened.bytesRead,
      description: req.input.originalName ?? req.input.path ?? file,
      close: async () => opened.cleanup(),
    };
  }

  /** A Singer tap or Airbyte source: its STATE is the checkpoint (the engine skips nothing itself). */
  private async openTap(req: ConnectorReadRequest, c: TapConnector): Promise<ConnectorRead> {
    if (!this.config) throw new UnknownFormatError('Taps are not configured here (no WEIR_TAP_ROOT)');
    const tap = await openTap(c, {
      tapRoot: this.config.tapRoot,
      watermark: req.watermark,
      contract: req.contract,
      signal: req.signal,
      log: (level, m) =>
        level === 'warn' ? this.log.warn(`run ${req.runId}: ${m}`) : this.log.log(`run ${req.runId}: ${m}`),
    });
    return {
      batches: tap.batches,
      bytesRead: () => 0,
      description: tap.description,
      pushdown: {},
      checkpoint: tap.checkpoint,
      summary: () => {
        const other = Object.entries(tap.skipped);
        return other.length
          ? `records of other streams skipped: ${other.map(([s, n]) => `${s} ${n}`).join(', ')}`
          : null;
      },
      close: tap.close,
    };
  }

  private async openQuery(req: ConnectorReadRequest, c: QueryConnector): Promise<ConnectorRead> {
    const { source, contract } = req;
    let plan = queryPlan(c, contract, source.options, source.strategy);
    if (plan.cursor && source.watermark !== null) {
      const cp = parseQueryWatermark(source.watermark)!;
      plan = withCheckpoint(plan, source.watermark, await this.bound(req, cp.cursor, c.kind === 'mysql_query'));
    }
    const conn = resolveConnection(c.connection, c.kind === 'mysql_query' ? 3306 : 5432);
    const opened =
      c.kind === 'postgres_query'
        ? await openPostgresQuery(c, conn, plan, req.signal)
        : await openMysqlQuery(c, conn, plan, req.signal);
    const what = c.table ? `table ${c.table}` : 'a query';
    return {
      batches: opened.batches,
      bytesRead: () => 0,
      description: `${what} of ${c.kind === 'postgres_query' ? 'PostgreSQL' : 'MySQL'} ${conn.shown}${
        plan.bound !== undefined ? ` past ${source.watermark}` : ''
      }`,
      pushdown: plan.cursor ? { tieBreaker: plan.tieBreaker ? c.tieBreaker : undefined } : undefined,
      close: opened.close,
    };
  }

  /**
   * The watermark less the lookback, in the cursor's type (computed by the warehouse, as the
   * engine bounds a file's rows); for MySQL a timestamp in UTC without its offset.
   */
  private async bound(req: ConnectorReadRequest, cursor: string, mysql: boolean): Promise<string> {
    const { strategy } = req.source;
    const col = req.contract.columns.find((x) => x.name === strategy.cursor);
    const t = col ? parseType(col.type) : 'text';
    const base = typeof t === 'string' ? 'text' : t.base;
    const lookback = strategy.lookback;
    if (base === 'timestamp' || base === 'timestamptz' || base === 'date') {
      const cast = base === 'timestamptz' ? 'timestamptz' : 'timestamp';
      const expr = `($1::${cast} - $2::interval)`;
      const sql = mysql
        ? `SELECT to_char(${cast === 'timestamptz' ? `${expr} AT TIME ZONE 'UTC'` : expr}, 'YYYY-MM-DD HH24:MI:SS.US') AS b`
        : `SELECT ${expr}::text AS b`;
      const unit = lookback && /^\s*\d+(\.\d+)?\s*$/.test(lookback) ? `${lookback} seconds` : (lookback ?? '0 seconds');
      return (await this.warehouse.query<{ b: string }>(sql, [cursor, unit]))[0].b;
    }
    if (base === 'text' || !lookback) return cursor;
    return (
      await this.warehouse.query<{ b: string }>(`SELECT ($1::numeric - $2::numeric)::text AS b`, [cursor, lookback])
    )[0].b;
  }
}
