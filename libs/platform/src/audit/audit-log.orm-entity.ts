import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { AuditOutcome } from './audit-log';

/**
 * platform.audit_log: who changed what, when, and how it ended. One row per mutating API request
 * and per mutating `weir` command; written after the response, never on the request's path.
 */
@Entity({ schema: 'platform', name: 'audit_log' })
@Check('CHK_audit_log_outcome', `"outcome" IN ('ok', 'refused', 'failed')`)
@Index('IDX_audit_log_at', ['at', 'id'])
@Index('IDX_audit_log_actor_at', ['actor', 'at'])
export class AuditLogOrmEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'PK_audit_log' })
  id: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at: Date;

  /** The API key's id (`env:WEIR_ADMIN_API_KEY` for the configured admin key), `cli:<os user>`, or `anonymous`. */
  @Column({ type: 'varchar', length: 200 })
  actor: string;

  @Column({ name: 'actor_name', type: 'varchar', length: 200, nullable: true })
  actorName: string | null;

  /** The HTTP method, or `CLI` for a `weir` command. */
  @Column({ type: 'varchar', length: 10 })
  method: string;

  /** The route template (`/api/catalog/datasets/:name`) or the command (`weir keys revoke`); null when no route matched. */
  @Column({ type: 'varchar', length: 500, nullable: true })
  route: string | null;

  @Column({ type: 'varchar', length: 2000 })
  path: string;

  @Column({ name: 'resource_id', type: 'varchar', length: 500, nullable: true })
  resourceId: string | null;

  /** The request body (or the command's arguments and options), secrets masked, size capped. */
  @Column({ type: 'jsonb', nullable: true })
  diff: unknown;

  @Column({ type: 'integer', nullable: true })
  status: number | null;

  @Column({ type: 'varchar', length: 10 })
  outcome: AuditOutcome;

  @Column({ name: 'error_code', type: 'varchar', length: 100, nullable: true })
  errorCode: string | null;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs: number;

  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId: string | null;
}
