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
}

export type NewApiKey = Pick<ApiKeyRecord, 'name' | 'role' | 'keyHash' | 'keyPrefix' | 'createdBy'>;

/** Storage port for API keys. Adapters: {@link TypeOrmApiKeyStore} (platform.api_keys), {@link InMemoryApiKeyStore}. */
export interface ApiKeyStore {
  insert(key: NewApiKey): Promise<ApiKeyRecord>;
  /** Active (not revoked) key with this hash. */
  findActiveByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  findById(id: string): Promise<ApiKeyRecord | undefined>;
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
    const saved = await this.repo.save(this.repo.create({ ...key, lastUsedAt: null, revokedAt: null }));
    return (await this.findById(saved.id))!;
  }
  async findActiveByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    return (await this.repo.findOne({ where: { keyHash, revokedAt: IsNull() } })) ?? undefined;
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
      lastUsedAt: null,
      revokedAt: null,
    };
    this.rows.set(row.id, row);
    return { ...row };
  }
  async findActiveByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const r = [...this.rows.values()].find((x) => x.keyHash === keyHash && x.revokedAt === null);
    return r && { ...r };
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
