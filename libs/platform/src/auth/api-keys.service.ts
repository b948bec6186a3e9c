import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

import { API_KEY_STORE, ApiKeyRecord, ApiKeyStore } from './api-key.store';
import { API_KEY_ROLES, ApiKeyRole, Principal } from './roles';
import { WEIR_CONFIG } from '../config/config.tokens';
import type { WeirConfig } from '../config/weir-config';
import {
  ApiKeyAmbiguousError,
  ApiKeyNotFoundError,
  ApiKeyRevokedError,
  InvalidExpiryError,
  InvalidNameError,
  InvalidRoleError,
} from '../errors/platform.errors';

/** A key as listed: everything but the secret and the hashes. */
export type ApiKeyView = Omit<ApiKeyRecord, 'keyHash' | 'previousKeyHash'>;

/** What a presented secret stands for: a principal, or why it does not. */
export type KeyVerification =
  { principal: Principal } | { failure: 'unknown' } | { failure: 'expired'; expiredAt: Date; keyId: string };

/** Options of {@link ApiKeysService.rotate}. */
export interface RotateOptions {
  /** How long the replaced secret keeps working (0 or absent: it stops at once). */
  graceMs?: number;
  /** A new expiry for the key; absent: the key keeps its own. */
  expiresAt?: Date;
}

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
  const { keyHash: _hidden, previousKeyHash: _previous, ...rest } = r;
  return rest;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_GRACE_MS = 30 * 86_400_000;

function newSecret(): { key: string; keyHash: string; keyPrefix: string } {
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  return { key, keyHash: hashApiKey(key), keyPrefix: key.slice(0, 12) };
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
  /** When this process last wrote a key's last_used_at: one write a minute per key at most. */
  private readonly touched = new Map<string, number>();

  constructor(
    @Inject(API_KEY_STORE) private readonly store: ApiKeyStore,
    @Inject(WEIR_CONFIG) config: Pick<WeirConfig, 'adminApiKey'>,
  ) {
    if (config.adminApiKey) this.adminKeyHash = Buffer.from(hashApiKey(config.adminApiKey), 'hex');
  }

  /** A new key; `expiresAt` (optional, in the future) is when it stops working. */
  async create(
    name: string,
    role: ApiKeyRole,
    createdBy?: string,
    opts: { expiresAt?: Date } = {},
  ): Promise<CreatedApiKey> {
    if (!(API_KEY_ROLES as readonly string[]).includes(role)) {
      throw new InvalidRoleError(`role must be one of ${API_KEY_ROLES.join(', ')}`);
    }
    const trimmed = name.trim();
    if (trimmed === '' || trimmed.length > 100) throw new InvalidNameError('name must be 1 to 100 characters');
    if (opts.expiresAt && opts.expiresAt.getTime() <= Date.now())
      throw new InvalidExpiryError(`the expiry ${opts.expiresAt.toISOString()} is not in the future`);
    const { key, keyHash, keyPrefix } = newSecret();
    const rec = await this.store.insert({
      name: trimmed,
      role,
      keyHash,
      keyPrefix,
      createdBy: createdBy ?? null,
      expiresAt: opts.expiresAt ?? null,
    });
    return { ...view(rec), key };
  }

  /** A key by id, or by name when exactly one not revoked key has it. */
  async find(idOrName: string): Promise<ApiKeyView> {
    return view(await this.resolve(idOrName));
  }

  private async resolve(idOrName: string): Promise<ApiKeyRecord> {
    if (UUID.test(idOrName)) {
      const rec = await this.store.findById(idOrName);
      if (rec) return rec;
    }
    const named = await this.store.findActiveByName(idOrName.trim());
    if (named.length === 1) return named[0];
    if (named.length > 1)
      throw new ApiKeyAmbiguousError(
        `Several active API keys are named ${JSON.stringify(idOrName)}; give the key's id (${named.map((k) => k.id).join(', ')})`,
      );
    throw new ApiKeyNotFoundError(
      UUID.test(idOrName)
        ? `No API key with id ${JSON.stringify(idOrName)}`
        : `No API key named ${JSON.stringify(idOrName)} that is not revoked (a revoked key is found by its id only)`,
    );
  }

  /**
   * Gives a key (same id, name and role) a new secret, returned once. The replaced secret keeps
   * working for `graceMs` (else it stops at once); a rotation during a grace period ends the
   * previous one (only the secret just replaced stays valid).
   */
  async rotate(idOrName: string, opts: RotateOptions = {}): Promise<CreatedApiKey> {
    const graceMs = opts.graceMs ?? 0;
    if (!Number.isFinite(graceMs) || graceMs < 0 || graceMs > MAX_GRACE_MS)
      throw new InvalidExpiryError('the grace period must be between 0 and 30 days');
    const rec = await this.resolve(idOrName);
    if (rec.revokedAt)
      throw new ApiKeyRevokedError(`The API key ${rec.id} is revoked; a revoked key cannot be rotated`);
    const now = new Date();
    const expiresAt = opts.expiresAt ?? rec.expiresAt;
    if (expiresAt && expiresAt.getTime() <= now.getTime())
      throw new InvalidExpiryError(
        `The API key ${rec.id} expired at ${expiresAt.toISOString()}; give a new expiry to rotate it`,
      );
    const { key, keyHash, keyPrefix } = newSecret();
    const rotated = await this.store.rotate(rec.id, {
      keyHash,
      keyPrefix,
      previousKeyHash: graceMs > 0 ? rec.keyHash : null,
      previousValidUntil: graceMs > 0 ? new Date(now.getTime() + graceMs) : null,
      expiresAt: expiresAt ?? null,
      rotatedAt: now,
    });
    if (!rotated) throw new ApiKeyRevokedError(`The API key ${rec.id} is revoked; a revoked key cannot be rotated`);
    // whatever this process remembered of the old secrets is looked up again (and bounded by the grace)
    this.revocations++;
    this.verified.delete(rec.keyHash);
    if (rec.previousKeyHash) this.verified.delete(rec.previousKeyHash);
    return { ...view(rotated), key };
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

  /** The principal a presented secret stands for, or undefined when it is unknown, revoked or expired. */
  async authenticate(secret: string): Promise<Principal | undefined> {
    const v = await this.verify(secret);
    return 'principal' in v ? v.principal : undefined;
  }

  /**
   * Checks a presented secret: a key's current secret, or the one its last rotation replaced while
   * the grace lasts; an expired key is told apart from an unknown one. Records the key's last use
   * (at most once a minute, off the request's path).
   */
  async verify(secret: string): Promise<KeyVerification> {
    if (!secret || secret.length > 256) return { failure: 'unknown' };
    const hash = hashApiKey(secret);
    if (this.adminKeyHash && timingSafeEqual(Buffer.from(hash, 'hex'), this.adminKeyHash)) {
      return { principal: { keyId: 'env:WEIR_ADMIN_API_KEY', name: 'WEIR_ADMIN_API_KEY', role: 'admin' } };
    }
    const now = new Date();
    const hit = this.verified.get(hash);
    if (hit && hit.until > now.getTime()) return { principal: { ...hit.principal } };
    const generation = this.revocations;
    const rec = await this.store.findActiveByHash(hash);
    const viaPrevious = rec !== undefined && rec.keyHash !== hash;
    if (!rec || (viaPrevious && !(rec.previousValidUntil && rec.previousValidUntil.getTime() > now.getTime()))) {
      this.verified.delete(hash);
      return { failure: 'unknown' };
    }
    if (rec.expiresAt && rec.expiresAt.getTime() <= now.getTime()) {
      this.verified.delete(hash);
      return { failure: 'expired', expiredAt: rec.expiresAt, keyId: rec.id };
    }
    this.touch(rec, now);
    const principal: Principal = { keyId: rec.id, name: rec.name, role: rec.role };
    if (this.cacheMs > 0 && generation === this.revocations) {
      if (this.verified.size >= ApiKeysService.CACHE_MAX) this.verified.clear();
      // trusted for cacheMs at most, and never past the key's expiry or the old secret's grace
      let until = now.getTime() + this.cacheMs;
      if (rec.expiresAt) until = Math.min(until, rec.expiresAt.getTime());
      if (viaPrevious && rec.previousValidUntil) until = Math.min(until, rec.previousValidUntil.getTime());
      this.verified.set(hash, { principal: { ...principal }, until });
    }
    return { principal };
  }

  /** Best effort, throttled: one write a minute per key, never on the request's critical path. */
  private touch(rec: ApiKeyRecord, now: Date): void {
    const last = Math.max(rec.lastUsedAt?.getTime() ?? 0, this.touched.get(rec.id) ?? 0);
    if (now.getTime() - last <= TOUCH_INTERVAL_MS) return;
    if (this.touched.size >= ApiKeysService.CACHE_MAX) this.touched.clear();
    this.touched.set(rec.id, now.getTime());
    this.store.touch(rec.id, now).catch(() => undefined);
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
