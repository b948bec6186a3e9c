import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { ApiKeyRole } from './roles';

/** One API key. The secret itself is never stored: only its SHA-256 hash and a display prefix. */
@Entity({ schema: 'platform', name: 'api_keys' })
@Unique('UQ_api_keys_key_hash', ['keyHash'])
@Index('IDX_api_keys_previous_key_hash', ['previousKeyHash'], { where: '"previous_key_hash" IS NOT NULL' })
@Check('CHK_api_keys_role', `"role" IN ('admin', 'editor', 'viewer')`)
export class ApiKeyOrmEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_api_keys' })
  id: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'varchar', length: 16 })
  role: ApiKeyRole;

  @Column({ name: 'key_hash', type: 'char', length: 64 })
  keyHash: string;

  @Column({ name: 'key_prefix', type: 'varchar', length: 16 })
  keyPrefix: string;

  @Column({ name: 'created_by', type: 'varchar', length: 100, nullable: true })
  createdBy: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  /** After this instant the key answers 401 PLATFORM.KEY_EXPIRED; null: never expires. */
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'rotated_at', type: 'timestamptz', nullable: true })
  rotatedAt: Date | null;

  /** The hash of the secret the last rotation replaced, valid until {@link previousValidUntil} (a grace period). */
  @Column({ name: 'previous_key_hash', type: 'char', length: 64, nullable: true })
  previousKeyHash: string | null;

  @Column({ name: 'previous_valid_until', type: 'timestamptz', nullable: true })
  previousValidUntil: Date | null;
}
