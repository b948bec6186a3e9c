import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { instanceAliveSql, Queryable, rowsOf } from '@weir/platform';
import type { CdcState } from '../../domain/cdc';
import type {
  CdcDeadLetter,
  CdcProgress,
  CdcStreamRecord,
  CdcStreamStore,
} from '../../application/ports/cdc-stream-store.port';

const T = 'ingestion.cdc_streams';

function recordOf(r: Record<string, unknown>): CdcStreamRecord {
  const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    sourceId: r['source_id'] as string,
    state: r['state'] as CdcState,
    slot: r['slot'] as string,
    publication: r['publication'] as string,
    confirmedLsn: (r['confirmed_lsn'] as string | null) ?? null,
    leaseOwner: (r['lease_owner'] as string | null) ?? null,
    leaseUntil: date(r['lease_until']),
    changesRead: Number(r['changes_read'] ?? 0),
    changesApplied: Number(r['changes_applied'] ?? 0),
    changesDeduplicated: Number(r['changes_deduplicated'] ?? 0),
    deadLetters: Number(r['dead_letters'] ?? 0),
    lagBytes: num(r['lag_bytes']),
    lagAlert: r['lag_alert'] === true,
    lastChangeAt: date(r['last_change_at']),
    lastAppliedAt: date(r['last_applied_at']),
    errorCode: (r['error_code'] as string | null) ?? null,
    errorMessage: (r['error_message'] as string | null) ?? null,
  };
}

/** ingestion.cdc_streams and ingestion.cdc_dead_letters in PostgreSQL. */
@Injectable()
export class PgCdcStreamStore implements CdcStreamStore {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  private async rows(q: Queryable, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    return rowsOf(await q.query(sql, params)) as Record<string, unknown>[];
  }

  async create(sourceId: string, slot: string, publication: string): Promise<void> {
    await this.ds.query(
      `INSERT INTO ${T} (source_id, state, slot, publication) VALUES ($1, 'snapshotting', $2, $3) ON CONFLICT (source_id) DO NOTHING`,
      [sourceId, slot, publication],
    );
  }

  async get(sourceId: string): Promise<CdcStreamRecord | null> {
    const [r] = await this.rows(this.ds, `SELECT * FROM ${T} WHERE source_id = $1`, [sourceId]);
    return r ? recordOf(r) : null;
  }

  async list(): Promise<CdcStreamRecord[]> {
    return (await this.rows(this.ds, `SELECT * FROM ${T} ORDER BY created_at`)).map(recordOf);
  }

  async claim(owner: string, leaseMs: number, limit: number): Promise<CdcStreamRecord[]> {
    const rows = await this.rows(
      this.ds,
      `UPDATE ${T} s SET lease_owner = $1, lease_until = now() + make_interval(secs => $2::double precision / 1000), updated_at = now()
        WHERE s.source_id IN (
          SELECT source_id FROM ${T}
           WHERE state IN ('snapshotting', 'streaming')
             AND (lease_owner IS NULL OR lease_until < now() OR NOT ${instanceAliveSql('lease_owner')})
           ORDER BY source_id LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING s.*`,
      [owner, leaseMs, limit],
    );
    return rows.map(recordOf);
  }

  async renew(sourceId: string, owner: string, leaseMs: number): Promise<boolean> {
    const rows = await this.rows(
      this.ds,
      `UPDATE ${T} SET lease_until = now() + make_interval(secs => $3::double precision / 1000)
        WHERE source_id = $1 AND lease_owner = $2 AND state IN ('snapshotting', 'streaming') RETURNING 1`,
      [sourceId, owner, leaseMs],
    );
    return rows.length > 0;
  }

  async release(sourceId: string, owner: string): Promise<void> {
    await this.ds.query(
      `UPDATE ${T} SET lease_owner = NULL, lease_until = NULL WHERE source_id = $1 AND lease_owner = $2`,
      [sourceId, owner],
    );
  }

  async setState(sourceId: string, state: CdcState, from: CdcState[]): Promise<boolean> {
    const rows = await this.rows(
      this.ds,
      `UPDATE ${T} SET state = CASE WHEN $2 = 'streaming' AND confirmed_lsn IS NULL THEN 'snapshotting' ELSE $2 END,
              error_code = CASE WHEN $2 = 'paused' THEN error_code END,
              error_message = CASE WHEN $2 = 'paused' THEN error_message END,
              lease_owner = NULL, lease_until = NULL, updated_at = now()
        WHERE source_id = $1 AND state = ANY($3::text[]) RETURNING 1`,
      [sourceId, state, from],
    );
    return rows.length > 0;
  }

  async fail(sourceId: string, owner: string | null, code: string, message: string): Promise<void> {
    await this.ds.query(
      `UPDATE ${T} SET state = 'failed', error_code = $3, error_message = $4, lease_owner = NULL, lease_until = NULL, updated_at = now()
        WHERE source_id = $1 AND ($2::text IS NULL OR lease_owner = $2)`,
      [sourceId, owner, code, message.slice(0, 4000)],
    );
  }

  async resetPosition(sourceId: string): Promise<void> {
    await this.ds.query(`UPDATE ${T} SET confirmed_lsn = NULL, updated_at = now() WHERE source_id = $1`, [sourceId]);
  }

  async recordLag(sourceId: string, bytes: number | null, alert: boolean): Promise<void> {
    await this.ds.query(`UPDATE ${T} SET lag_bytes = $2, lag_alert = $3 WHERE source_id = $1`, [
      sourceId,
      bytes,
      alert,
    ]);
  }

  async saveProgress(tx: Queryable, sourceId: string, owner: string, p: CdcProgress): Promise<boolean> {
    const rows = await this.rows(
      tx,
      `UPDATE ${T} SET confirmed_lsn = $3, changes_read = changes_read + $4, changes_applied = changes_applied + $5,
              changes_deduplicated = changes_deduplicated + $6, dead_letters = dead_letters + $7,
              last_change_at = COALESCE($8, last_change_at), last_applied_at = now(), state = COALESCE($9, state), updated_at = now()
        WHERE source_id = $1 AND lease_owner = $2 AND state IN ('snapshotting', 'streaming') RETURNING 1`,
      [sourceId, owner, p.lsn, p.read, p.applied, p.deduplicated, p.deadLetters, p.lastChangeAt, p.state ?? null],
    );
    return rows.length > 0;
  }

  async deadLetter(tx: Queryable, sourceId: string, rows: CdcDeadLetter[]): Promise<void> {
    if (!rows.length) return;
    await tx.query(
      `INSERT INTO ingestion.cdc_dead_letters (source_id, lsn, record, reason, message)
       SELECT $1, d.lsn, d.record, d.reason, d.message FROM jsonb_to_recordset($2::jsonb) AS d(lsn text, record jsonb, reason text, message text)`,
      [sourceId, JSON.stringify(rows)],
    );
  }
}
