import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

import { API_KEY_STORE, ApiKeyRecord, ApiKeyStore } from './api-key.store';
import { API_KEY_ROLES, ApiKeyRole, Principal } from './roles';
import { WEIR_CONFIG } from '../config/config.tokens';
import type { WeirConfig } from '../config/weir-config';
import { ApiKeyNotFoundError, InvalidNameError, InvalidRoleError } from '../errors/platform.errors';

/** A key as listed: everything but the secret. */
export type ApiKeyView = Omit<ApiKeyRecord, 'keyHash'>;

/** A freshly created key: the only time the secret (`key`) is ever returned. */
export interface CreatedApiKey extends ApiKeyView {
  key: string;
}

const KEY_PREFIX = 'weir_';
const TOUCH_INTERVAL_MS = 60_000;

export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function view(r: ApiKeyRecord): ApiKeyView {
  const { keyHash: _hidden, ...rest } = r;
  return rest;
}

/**
 * Issues, lists, revokes and checks API keys. Keys are 256-bit random secrets shown once;
 * only their SHA-256 is stored (a fast hash suffices for high-entropy secrets, and keeps the
 * per-request check to one indexed lookup).
 */
@Injectable()
export class ApiKeysService {
  private readonly adminKeyHash?: Buffer;
  /**
   * How long a stored key, once verified, is trusted without asking the database again: keeps
   * the per-request check off the database under load (ingest endpoints). A revocation through
   * this service takes effect at once; one made by another process within this time.
   */
  cacheMs = 5_000;
  private readonly verified = new Map<string, { principal: Principal; until: number }>();
  /** Bumped by every revocation: a lookup that started before one is not cached (it may predate it). */
  private revocations = 0;
  private static readonly CACHE_MAX = 10_000;

  constructor(
    @Inject(API_KEY_STORE) private readonly store: ApiKeyStore,
    @Inject(WEIR_CONFIG) config: Pick<WeirConfig, 'adminApiKey'>,
  ) {
    if (config.adminApiKey) this.adminKeyHash = Buffer.from(hashApiKey(config.adminApiKey), 'hex');
  }

  async create(name: string, role: ApiKeyRole, createdBy?: string): Promise<CreatedApiKey> {
    if (!(API_KEY_ROLES as readonly string[]).includes(role)) {
      throw new InvalidRoleError(`role must be one of ${API_KEY_ROLES.join(', ')}`);
    }
    const trimmed = name.trim();
    if (trimmed === '' || trimmed.length > 100) throw new InvalidNameError('name must be 1 to 100 characters');
    const key = KEY_PREFIX + randomBytes(32).toString('base64url');
    const rec = await this.store.insert({
      name: trimmed,
      role,
      keyHash: hashApiKey(key),
      keyPrefix: key.slice(0, 12),
      createdBy: createdBy ?? null,
    });
    return { ...view(rec), key };
  }

  async list(): Promise<ApiKeyView[]> {
    return (await this.store.list()).map(view);
  }

  async revoke(id: string): Promise<ApiKeyView> {
    const rec = await this.store.revoke(id, new Date());
    if (!rec) throw new ApiKeyNotFoundError(`No API key with id ${JSON.stringify(id)}`);
    this.revocations++;
    this.verified.delete(rec.keyHash);
    return view(rec);
  }

  /** The principal a presented secret stands for, or undefined when it is unknown or revoked. */
  async authenticate(secret: string): Promise<Principal | undefined> {
    if (!secret || secret.length > 256) return undefined;
    const hash = hashApiKey(secret);
    if (this.adminKeyHash && timingSafeEqual(Buffer.from(hash, 'hex'), this.adminKeyHash)) {
      return { keyId: 'env:WEIR_ADMIN_API_KEY', name: 'WEIR_ADMIN_API_KEY', role: 'admin' };
    }
    const now = new Date();
    const hit = this.verified.get(hash);
    if (hit && hit.until > now.getTime()) return { ...hit.principal };
    const generation = this.revocations;
    const rec = await this.store.findActiveByHash(hash);
    if (!rec) {
      this.verified.delete(hash);
      return undefined;
    }
    if (!rec.lastUsedAt || now.getTime() - rec.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
      // best effort, throttled: one write a minute per key, never on the request's critical path
      this.store.touch(rec.id, now).catch(() => undefined);
    }
    const principal: Principal = { keyId: rec.id, name: rec.name, role: rec.role };
    if (this.cacheMs > 0 && generation === this.revocations) {
      if (this.verified.size >= ApiKeysService.CACHE_MAX) this.verified.clear();
      this.verified.set(hash, { principal: { ...principal }, until: now.getTime() + this.cacheMs });
    }
    return principal;
  }

  /**
   * First start: when no admin key can be used (none configured, none stored), creates one and
   * returns it so the caller can show it once.
   */
  async bootstrapAdminKey(): Promise<CreatedApiKey | undefined> {
    if (this.adminKeyHash) return undefined;
    if ((await this.store.countActive('admin')) > 0) return undefined;
    return this.create('bootstrap-admin', 'admin', 'weir-bootstrap');
  }
}
