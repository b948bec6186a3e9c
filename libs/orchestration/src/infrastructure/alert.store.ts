import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isUuid, rowsOf } from '@weir/platform';
import type { AlertDestinationSpec, AlertEvent, AlertFormat } from '../domain/alert';
import type {
  AlertDeliveryRecord,
  AlertDestinationRecord,
  AlertStore,
  ClaimedDelivery,
  DeliveryAttempt,
  DeliveryStatus,
  NewDelivery,
} from '../application/ports/alert-store.port';
import { AlertDestinationOrmEntity } from './alert-destination.orm-entity';

const destination = (e: AlertDestinationOrmEntity): AlertDestinationRecord => ({
  id: e.id,
  name: e.name,
  url: e.url,
  format: e.format as AlertFormat,
  events: e.events as AlertEvent[],
  pipelines: e.pipelines,
  createdBy: e.createdBy,
  createdAt: e.createdAt,
  updatedAt: e.updatedAt,
});

type Row = Record<string, unknown>;

const delivery = (r: Row): AlertDeliveryRecord => ({
  id: r['id'] as string,
  destinationId: r['destination_id'] as string,
  destination: r['destination'] as string,
  alertType: r['alert_type'] as string,
  dedupeKey: r['dedupe_key'] as string,
  pipeline: (r['pipeline'] as string | null) ?? null,
  payload: r['payload'] as Record<string, unknown>,
  status: r['status'] as DeliveryStatus,
  attempts: Number(r['attempts']),
  maxAttempts: Number(r['max_attempts']),
  attemptLog: (r['attempt_log'] as DeliveryAttempt[]) ?? [],
  nextAttemptAt: new Date(r['next_attempt_at'] as string),
  lastError: (r['last_error'] as string | null) ?? null,
  responseStatus: r['response_status'] === null ? null : Number(r['response_status']),
  createdAt: new Date(r['created_at'] as string),
  deliveredAt: r['delivered_at'] ? new Date(r['delivered_at'] as string) : null,
});

const DELIVERY_COLUMNS = `d.id, d.destination_id, x.name AS destination, d.alert_type, d.dedupe_key, d.pipeline, d.payload,
  d.status, d.attempts, d.max_attempts, d.attempt_log, d.next_attempt_at, d.last_error, d.response_status,
  d.created_at, d.delivered_at`;

/** Alert destinations and deliveries in PostgreSQL (orchestration.alert_destinations, alert_deliveries). */
@Injectable()
export class PgAlertStore implements AlertStore {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  private get repo() {
    return this.ds.getRepository(AlertDestinationOrmEntity);
  }

  async createDestination(spec: AlertDestinationSpec, by: string | null): Promise<AlertDestinationRecord | null> {
    const r = rowsOf<{ id: string }>(
      await this.ds.query(
        `INSERT INTO orchestration.alert_destinations (name, url, format, events, pipelines, created_by)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING id`,
        [spec.name, spec.url, spec.format, spec.events, spec.pipelines, by],
      ),
    );
    return r.length ? destination(await this.repo.findOneByOrFail({ id: r[0]!.id })) : null;
  }

  async updateDestination(name: string, spec: AlertDestinationSpec): Promise<AlertDestinationRecord | null> {
    const r = await this.repo.update(
      { name },
      { url: spec.url, format: spec.format, events: spec.events, pipelines: spec.pipelines, updatedAt: new Date() },
    );
    return (r.affected ?? 0) > 0 ? this.findDestination(name) : null;
  }

  async removeDestination(name: string): Promise<boolean> {
    return ((await this.repo.delete({ name })).affected ?? 0) > 0;
  }

  async findDestination(name: string): Promise<AlertDestinationRecord | null> {
    const e = await this.repo.findOneBy({ name });
    return e ? destination(e) : null;
  }

  async listDestinations(): Promise<AlertDestinationRecord[]> {
    return (await this.repo.find({ order: { name: 'ASC' } })).map(destination);
  }

  async enqueue(d: NewDelivery): Promise<string | null> {
    const r = rowsOf<{ id: string }>(
      await this.ds.query(
        `INSERT INTO orchestration.alert_deliveries (destination_id, alert_type, dedupe_key, pipeline, payload, max_attempts)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (destination_id, dedupe_key) DO NOTHING RETURNING id`,
        [d.destinationId, d.alertType, d.dedupeKey.slice(0, 300), d.pipeline, JSON.stringify(d.payload), d.maxAttempts],
      ),
    );
    return r[0]?.id ?? null;
  }

  async claimDue(limit: number, leaseMs: number, id?: string): Promise<ClaimedDelivery[]> {
    if (id !== undefined && !isUuid(id)) return [];
    const rows = rowsOf<Row>(
      await this.ds.query(
        `UPDATE orchestration.alert_deliveries d
            SET attempts = d.attempts + 1, next_attempt_at = now() + $2::bigint * interval '1 millisecond'
           FROM orchestration.alert_destinations x
          WHERE x.id = d.destination_id
            AND d.id IN (SELECT id FROM orchestration.alert_deliveries
                          WHERE status = 'pending' AND next_attempt_at <= now() AND ($3::uuid IS NULL OR id = $3::uuid)
                          ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING d.id, x.name, x.url, d.attempts, d.max_attempts, d.payload`,
        [limit, leaseMs, id ?? null],
      ),
    );
    return rows.map((r) => ({
      id: r['id'] as string,
      destination: r['name'] as string,
      url: r['url'] as string,
      attempt: Number(r['attempts']),
      maxAttempts: Number(r['max_attempts']),
      payload: r['payload'] as Record<string, unknown>,
    }));
  }

  async recordAttempt(
    id: string,
    attempt: DeliveryAttempt,
    outcome: { status: 'delivered' } | { status: 'pending'; retryInMs: number } | { status: 'failed' },
  ): Promise<void> {
    await this.ds.query(
      `UPDATE orchestration.alert_deliveries
          SET attempt_log = attempt_log || $2::jsonb, last_error = $3::text, response_status = $4::integer,
              status = $5::varchar, delivered_at = CASE WHEN $5::varchar = 'delivered' THEN now() END,
              next_attempt_at = CASE WHEN $5::varchar = 'pending' THEN now() + $6::bigint * interval '1 millisecond'
                                     ELSE next_attempt_at END
        WHERE id = $1`,
      [
        id,
        JSON.stringify([attempt]),
        attempt.error,
        attempt.status,
        outcome.status,
        outcome.status === 'pending' ? outcome.retryInMs : 0,
      ],
    );
  }

  async findDelivery(id: string): Promise<AlertDeliveryRecord | null> {
    if (!isUuid(id)) return null;
    const [r] = rowsOf<Row>(
      await this.ds.query(
        `SELECT ${DELIVERY_COLUMNS} FROM orchestration.alert_deliveries d
           JOIN orchestration.alert_destinations x ON x.id = d.destination_id WHERE d.id = $1`,
        [id],
      ),
    );
    return r ? delivery(r) : null;
  }

  async listDeliveries(filter: {
    destination?: string;
    status?: DeliveryStatus;
    limit: number;
  }): Promise<AlertDeliveryRecord[]> {
    const rows = rowsOf<Row>(
      await this.ds.query(
        `SELECT ${DELIVERY_COLUMNS} FROM orchestration.alert_deliveries d
           JOIN orchestration.alert_destinations x ON x.id = d.destination_id
          WHERE ($1::text IS NULL OR x.name = $1) AND ($2::text IS NULL OR d.status = $2)
          ORDER BY d.created_at DESC, d.id LIMIT $3`,
        [filter.destination ?? null, filter.status ?? null, filter.limit],
      ),
    );
    return rows.map(delivery);
  }
}
