import { IsNull, Repository } from 'typeorm';
import { randomUUID } from 'node:crypto';
import { ApiKeyOrmEntity } from './api-key.orm-entity';
import { ApiKeyRole } from './roles';

/** A stored API key, as the application sees it (never the secret). */
export interface ApiKeyRecord {
  id: string;
  name: string;
  role: ApiKeyRole;
  keyHash: string;
  keyPrefix: string;
  createdBy: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  /** Null: never expires. */
  expiresAt: Date | null;
  rotatedAt: Date | null;
  /** The secret the last rotation replaced (its hash), accepted until `previousValidUntil`. */
  previousKeyHash: string | null;
  previousValidUntil: Date | null;
}

export type NewApiKey = Pick<ApiKeyRecord, 'name' | 'role' | 'keyHash' | 'keyPrefix' | 'createdBy'> & {
  expiresAt?: Date | null;
};

/** What a rotation writes: the new secret's hash, and the old one's while its grace lasts (else null). */
export interface ApiKeyRotation {
  keyHash: string;
  keyPrefix: string;
  previousKeyHash: string | null;
  previousValidUntil: Date | null;
  expiresAt: Date | null;
  rotatedAt: Date;
}

/** Storage port for API keys. Adapters: {@link TypeOrmApiKeyStore} (platform.api_keys), {@link InMemoryApiKeyStore}. */
export interface ApiKeyStore {
  insert(key: NewApiKey): Promise<ApiKeyRecord>;
  /**
   * The not revoked key whose secret, or whose previous secret (replaced by a rotation), has this
   * hash; the caller checks expiry and the previous secret's grace.
   */
  findActiveByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  findById(id: string): Promise<ApiKeyRecord | undefined>;
  /** Not revoked keys with this name (names are not unique), newest first. */
  findActiveByName(name: string): Promise<ApiKeyRecord[]>;
  /** Replaces a not revoked key's secret; undefined when there is no such key or it is revoked. */
  rotate(id: string, rotation: ApiKeyRotation): Promise<ApiKeyRecord | undefined>;
  /** All keys, newest first. */
  list(): Promise<ApiKeyRecord[]>;
  /** Sets revoked_at if not yet set; returns the record, or undefined when there is no such key. */
  revoke(id: string, at: Date): Promise<ApiKeyRecord | undefined>;
  touch(id: string, at: Date): Promise<void>;
  countActive(role?: ApiKeyRole): Promise<number>;
}

export const API_KEY_STORE = Symbol('API_KEY_STORE');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class TypeOrmApiKeyStore implements ApiKeyStore {
  constructor(private readonly repo: Repository<ApiKeyOrmEntity>) {}

  async insert(key: NewApiKey): Promise<ApiKeyRecord> {
    const saved = await this.repo.save(
      this.repo.create({
        ...key,
        expiresAt: key.expiresAt ?? null,
        lastUsedAt: null,
        revokedAt: null,
        rotatedAt: null,
        previousKeyHash: null,
        previousValidUntil: null,
      }),
    );
    return (await this.findById(saved.id))!;
  }
  async findActiveByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    return (
      (await this.repo.findOne({
        where: [
          { keyHash, revokedAt: IsNull() },
          { previousKeyHash: keyHash, revokedAt: IsNull() },
        ],
      })) ?? undefined
    );
  }
  findActiveByName(name: string): Promise<ApiKeyRecord[]> {
    return this.repo.find({ where: { name, revokedAt: IsNull() }, order: { createdAt: 'DESC', id: 'ASC' } });
  }
  async rotate(id: string, rotation: ApiKeyRotation): Promise<ApiKeyRecord | undefined> {
    if (!UUID.test(id)) return undefined;
    const r = await this.repo.update({ id, revokedAt: IsNull() }, rotation);
    return r.affected ? this.findById(id) : undefined;
  }
  async findById(id: string): Promise<ApiKeyRecord | undefined> {
    if (!UUID.test(id)) return undefined;
    return (await this.repo.findOne({ where: { id } })) ?? undefined;
  }
  list(): Promise<ApiKeyRecord[]> {
    return this.repo.find({ order: { createdAt: 'DESC', id: 'ASC' } });
  }
  async revoke(id: string, at: Date): Promise<ApiKeyRecord | undefined> {
    if (!UUID.test(id)) return undefined;
    await this.repo.update({ id, revokedAt: IsNull() }, { revokedAt: at });
    return this.findById(id);
  }
  async touch(id: string, at: Date): Promise<void> {
    await this.repo.update({ id }, { lastUsedAt: at });
  }
  countActive(role?: ApiKeyRole): Promise<number> {
    return this.repo.count({ where: { revokedAt: IsNull(), ...(role ? { role } : {}) } });
  }
}

export class InMemoryApiKeyStore implements ApiKeyStore {
  private readonly rows = new Map<string, ApiKeyRecord>();
  private seq = 0;

  async insert(key: NewApiKey): Promise<ApiKeyRecord> {
    if ([...this.rows.values()].some((r) => r.keyHash === key.keyHash)) throw new Error('duplicate key hash');
    // strictly increasing timestamps keep "newest first" deterministic, as the database's now() per transaction does
    const row: ApiKeyRecord = {
      ...key,
      id: randomUUID(),
      createdAt: new Date(Date.now() + this.seq++),
      expiresAt: key.expiresAt ?? null,
      lastUsedAt: null,
      revokedAt: null,
      rotatedAt: null,
      previousKeyHash: null,
      previousValidUntil: null,
    };
    this.rows.set(row.id, row);
    return { ...row };
  }
  async findActiveByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const r = [...this.rows.values()].find(
      (x) => (x.keyHash === keyHash || x.previousKeyHash === keyHash) && x.revokedAt === null,
    );
    return r && { ...r };
  }
  async findActiveByName(name: string): Promise<ApiKeyRecord[]> {
    return (await this.list()).filter((r) => r.name === name && r.revokedAt === null);
  }
  async rotate(id: string, rotation: ApiKeyRotation): Promise<ApiKeyRecord | undefined> {
    const r = this.rows.get(id);
    if (!r || r.revokedAt !== null) return undefined;
    Object.assign(r, rotation);
    return { ...r };
  }
  async findById(id: string): Promise<ApiKeyRecord | undefined> {
    const r = this.rows.get(id);
    return r && { ...r };
  }
  async list(): Promise<ApiKeyRecord[]> {
    return [...this.rows.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()).map((r) => ({ ...r }));
  }
  async revoke(id: string, at: Date): Promise<ApiKeyRecord | undefined> {
    const r = this.rows.get(id);
    if (!r) return undefined;
    if (r.revokedAt === null) r.revokedAt = at;
    return { ...r };
  }
  async touch(id: string, at: Date): Promise<void> {
    const r = this.rows.get(id);
    if (r) r.lastUsedAt = at;
  }
  async countActive(role?: ApiKeyRole): Promise<number> {
    return [...this.rows.values()].filter((r) => r.revokedAt === null && (!role || r.role === role)).length;
  }
}
