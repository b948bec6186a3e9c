import { Check, Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { ApiKeyRole } from './roles';

/** One API key. The secret itself is never stored: only its SHA-256 hash and a display prefix. */
@Entity({ schema: 'platform', name: 'api_keys' })
@Unique('UQ_api_keys_key_hash', ['keyHash'])
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
}
